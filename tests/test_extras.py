"""On the core install, every command either works or says in one line which extra to install.

The optional packages are hidden from import (and from ``importlib.util.find_spec``), as on a machine that
ran only ``make install``; each command that needs one must fail with exit code 2, one line, the extra's
``pip install 'tsattn[...]'``, and nothing written. (Checked by hand once in a real core-only venv too.)
"""

import builtins
import importlib.util
import json

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import TINY
from tsattn._errors import EXTRA_PINS
from tsattn.cli import app

OPTIONAL = ("aeon", "onnx", "onnxruntime", "pyarrow", "tensorboard", "tensorboardX", "mlflow")
runner = CliRunner()


@pytest.fixture
def core_only(monkeypatch):
    real_import, real_find = builtins.__import__, importlib.util.find_spec

    def hidden(name):
        return name.split(".")[0] in OPTIONAL

    def no_optional(name, *args, **kwargs):
        if hidden(name):
            raise ModuleNotFoundError(f"No module named '{name}'", name=name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_optional)
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a, **k: None if hidden(name) else real_find(name, *a, **k)
    )


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("extras")
    (tmp / "tiny.json").write_text(json.dumps(TINY))
    r = runner.invoke(
        app,
        [
            "train",
            "--config",
            str(tmp / "tiny.json"),
            "--model",
            "cnn_attention",
            "--max-epochs",
            "1",
            "--out",
            str(tmp / "run"),
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    rng = np.random.default_rng(0)
    df = pd.DataFrame(rng.normal(size=(40, 64)), columns=[f"t{i}" for i in range(64)])
    df.to_csv(tmp / "new.csv", index=False)
    (tmp / "new.ts").write_text(
        "@problemName t\n@univariate true\n@equalLength true\n@classLabel true a b\n@data\n1,2,3:a\n3,2,1:b\n"
    )
    (tmp / "new.parquet").write_bytes(b"PAR1" + b"\0" * 16)
    return tmp


CASES = [
    ("export", lambda d: ["export", "--run", d / "run", "--format", "onnx", "--out", d / "out" / "m.onnx"], "onnx"),
    (
        "write-parquet",
        lambda d: ["predict", "--run", d / "run", "--data", d / "new.csv", "--out", d / "out" / "p.parquet"],
        "parquet",
    ),
    (
        "read-parquet",
        lambda d: ["predict", "--run", d / "run", "--data", d / "new.parquet", "--out", d / "out" / "p.csv"],
        "parquet",
    ),
    (
        "read-ts",
        lambda d: ["predict", "--run", d / "run", "--data", d / "new.ts", "--out", d / "out" / "p.csv"],
        "aeon",
    ),
    ("ucr-name", lambda d: ["train", "--data", "ucr:GunPoint", "--out", d / "out" / "r"], "aeon"),
    (
        "tensorboard",
        lambda d: ["train", "--config", d / "tiny.json", "--logger", "tensorboard", "--out", d / "out" / "r"],
        "tensorboard",
    ),
    (
        "mlflow",
        lambda d: ["train", "--config", d / "tiny.json", "--logger", "mlflow", "--out", d / "out" / "r"],
        "mlflow",
    ),
]


@pytest.mark.parametrize("build, extra", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_missing_extra_is_named_in_one_line(files, core_only, tmp_path, monkeypatch, build, extra):
    monkeypatch.setenv("TSATTN_DATA", str(tmp_path / "cache"))
    out = files / "out"
    out.mkdir(exist_ok=True)
    r = runner.invoke(app, [str(a) for a in build(files)])
    assert r.exit_code == 2, r.output
    line = r.output.strip()
    assert "\n" not in line and "Traceback" not in line and f"pip install 'tsattn[{extra}]'" in line, line
    assert all(pin in line for pin in EXTRA_PINS[extra]), line  # the hint keeps the tested versions
    assert list(out.iterdir()) == []  # nothing written


def test_the_core_install_reads_csv_and_runs_the_rest(files, core_only, tmp_path):
    r = runner.invoke(
        app,
        [
            "predict",
            "--run",
            str(files / "run"),
            "--data",
            str(files / "new.csv"),
            "--out",
            str(tmp_path / "p.csv"),
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(tmp_path / "p.csv")) == 40
    r = runner.invoke(
        app,
        [
            "benchmark",
            "--config",
            str(files / "tiny.json"),
            "--models",
            "mlp,minirocket",
            "--out",
            str(tmp_path / "b"),
            "--max-epochs",
            "1",
            "--quiet",
        ],
    )
    assert (
        r.exit_code == 0
        and "minirocket: skipped, aeon is not installed (pip install 'tsattn[aeon]' aeon==1.6.0)" in r.output
    )
