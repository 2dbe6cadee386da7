"""Nothing saved is lost or mixed: save() and evaluate never overwrite a run, one writer per run directory,
Ctrl-C leaves a resumable run, --resume refuses what it cannot honour; and the small things users expect."""

import json
import signal
import subprocess
import sys
import time

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from tests.conftest import TINY
from tsattn import AttentionClassifier, RunError
from tsattn.cli import app

TSATTN = [sys.executable, "-m", "tsattn"]
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


def _easy(n=60, T=24, seed=0):
    rng = np.random.default_rng(seed)
    y = np.arange(n) % 2
    X = rng.normal(0, 0.3, size=(n, T)).astype(np.float32)
    X[y == 1, 5:10] += 2.0
    return X, y


def _bytes(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("safety")
    cfg = tmp / "tiny.json"
    cfg.write_text(json.dumps(TINY))
    r = invoke("train", "--config", cfg, "--model", "cnn_attention", "--max-epochs", 2, "--out", tmp / "run", "--quiet")
    assert r.exit_code == 0, r.output
    r = invoke("generate", "--config", cfg, "--seed", 5, "--out", tmp / "other.npz", "--quiet")
    assert r.exit_code == 0, r.output
    return tmp / "run", tmp / "other.npz"


def test_save_refuses_an_existing_run_unless_asked(tmp_path):
    X, y = _easy()
    clf = AttentionClassifier("cnn_attention", max_epochs=1).fit(X, y)
    clf.save(tmp_path / "run")
    (tmp_path / "run" / "metrics.json").write_text("{}")  # as a CLI run would have
    before = _bytes(tmp_path / "run")
    with pytest.raises(RunError, match=r"already holds a run .* pass overwrite=True"):
        clf.save(tmp_path / "run")
    assert _bytes(tmp_path / "run") == before
    clf.save(tmp_path / "run", overwrite=True)
    assert not (tmp_path / "run" / "metrics.json").exists()  # nothing of the old run left beside the new one
    (tmp_path / "junk").mkdir()
    (tmp_path / "junk" / "notes.txt").write_text("mine")
    with pytest.raises(RunError, match="holds no run"):
        clf.save(tmp_path / "junk", overwrite=True)
    assert (tmp_path / "junk" / "notes.txt").read_text() == "mine"


def test_evaluate_on_other_data_never_overwrites_the_runs_record(run, tmp_path):
    run_dir, other = run
    before = _bytes(run_dir)
    r = invoke("evaluate", "--run", run_dir, "--data", other)
    assert r.exit_code == 0, r.output
    assert _bytes(run_dir) == before  # metrics.json, report.txt, report.html, plots: byte for byte
    m = json.loads((run_dir / "evaluations" / "other.npz" / "metrics.json").read_text())
    assert m["n_test"] == 200 and m["evaluated_on"] == str(other)
    r = invoke("evaluate", "--run", run_dir, "--data", other, "--out", tmp_path / "elsewhere")
    assert r.exit_code == 0 and (tmp_path / "elsewhere" / "report.txt").is_file()
    r = invoke("evaluate", "--run", run_dir, "--data", other, "--out", run_dir)
    assert r.exit_code == 2 and "never replaces the run's test record" in r.output
    assert _bytes(run_dir) == before


def test_a_one_class_file_scores_roc_auc_as_null_in_strict_json(run, tmp_path):
    run_dir, other = run
    with np.load(other) as z:
        keep = z["y"] == 0
        np.savez(tmp_path / "normal.npz", X=z["X"][keep], y=z["y"][keep], class_names=z["class_names"])
    r = invoke("evaluate", "--run", run_dir, "--data", tmp_path / "normal.npz", "--out", tmp_path / "e")

    def no_nan(token):
        raise AssertionError(f"metrics.json holds {token}, which is not JSON")

    assert r.exit_code == 0, r.output
    m = json.loads((tmp_path / "e" / "metrics.json").read_text(), parse_constant=no_nan)
    assert m["roc_auc"] is None and m["accuracy"] >= 0


def _train_proc(out, cfg, epochs=40, extra=()):
    return subprocess.Popen(
        [
            *TSATTN,
            "train",
            "--config",
            str(cfg),
            "--model",
            "cnn_attention",
            "--max-epochs",
            str(epochs),
            "--patience",
            str(epochs),
            "--batch-size",
            "16",
            "--out",
            str(out),
            *extra,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_ctrl_c_kills,
    )


def _ctrl_c_kills():
    """In the child: SIGINT back to its default, which a runner started as a background job had set to ignore."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


@pytest.mark.slow
def test_two_writers_of_one_directory_exactly_one_wins(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(TINY | {"dataset_size": 400}))
    procs = [_train_proc(tmp_path / "run", cfg, epochs=15, extra=["--quiet", "--seed", str(s)]) for s in (1, 2)]
    results = [(p.wait(timeout=300), *p.communicate()) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 2], results
    loser = next(err for code, _, err in results if code == 2).strip().splitlines()
    assert len(loser) == 1 and ("being written by another process" in loser[0] or "already holds a run" in loser[0])
    winner_seed = (1, 2)[[code for code, _, _ in results].index(0)]
    config = json.loads((tmp_path / "run" / "config.json").read_text())
    assert config["seed"] == winner_seed  # the directory is the winner's, whole
    assert json.loads((tmp_path / "run" / "status.json").read_text())["state"] == "done"
    assert not (tmp_path / "run" / ".lock").exists()


def test_a_lock_held_by_a_live_process_refuses_and_a_dead_ones_is_taken_over(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(TINY))
    args = [
        "train",
        "--config",
        cfg,
        "--model",
        "cnn_attention",
        "--max-epochs",
        1,
        "--out",
        tmp_path / "run",
        "--quiet",
    ]
    (tmp_path / "run").mkdir()
    alive = subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / "run" / ".lock").write_text(str(alive.pid))
        r = invoke(*args)
        assert r.exit_code == 2 and f"is being written by another process (pid {alive.pid})" in r.output
        assert sorted(p.name for p in (tmp_path / "run").iterdir()) == [".lock"]  # nothing written beside it
    finally:
        alive.kill()
        alive.wait()
    r = invoke(*args)  # the same pid, now dead: a stale lock, taken over
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "run" / "status.json").read_text())["state"] == "done"
    assert not (tmp_path / "run" / ".lock").exists()


def test_a_lock_created_but_not_yet_written_is_held_and_an_old_empty_one_is_stale(tmp_path):
    # The race two writers of one directory once lost: the second read the first's lock before it held an id.
    import os

    from tsattn.run import LOCK_GRACE_S, acquire_lock, release_lock

    lock = tmp_path / ".lock"
    lock.touch()
    with pytest.raises(RunError, match=r"being written by another process \(its lock was created just now\)"):
        acquire_lock(tmp_path)
    old = time.time() - 2 * LOCK_GRACE_S
    os.utime(lock, (old, old))
    held = acquire_lock(tmp_path)
    assert held.read_text() == str(os.getpid())
    release_lock(held)
    assert not lock.exists()


def test_a_lock_holding_no_process_id_is_stale_however_young(tmp_path):
    import os

    from tsattn.run import acquire_lock, release_lock

    (tmp_path / ".lock").write_text("not a pid")
    held = acquire_lock(tmp_path)
    assert held.read_text() == str(os.getpid())
    release_lock(held)


def test_ctrl_c_during_a_checkpoint_write_waits_for_the_file_to_be_whole(tmp_path):
    # torch.save's C++ writer turned a KeyboardInterrupt into "RuntimeError: unexpected pos": a failed run, not an
    # interrupted one. The interrupt is now held until the file is in place, then delivered.
    import os
    import signal

    from tsattn._io import atomic_save

    def writer(fh):
        fh.write(b"first half ")
        os.kill(os.getpid(), signal.SIGINT)
        time.sleep(0.05)  # a handler that raised would have raised by now
        fh.write(b"second half")

    # Python's own Ctrl-C handler, even where the runner started the tests with SIGINT ignored (a background job)
    outer = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        with pytest.raises(KeyboardInterrupt):
            atomic_save(tmp_path / "last.ckpt", writer)
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, outer)
    assert (tmp_path / "last.ckpt").read_bytes() == b"first half second half"


@pytest.mark.slow
def test_ctrl_c_marks_the_run_interrupted_and_resume_finishes_it(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(TINY | {"dataset_size": 300}))
    ref = _train_proc(tmp_path / "ref", cfg, epochs=12, extra=["--quiet"])
    assert ref.wait(timeout=300) == 0, ref.communicate()
    proc = _train_proc(tmp_path / "run", cfg, epochs=12, extra=["--quiet"])
    history = tmp_path / "run" / "history.csv"
    deadline = time.monotonic() + 120
    while proc.poll() is None and time.monotonic() < deadline:
        if history.is_file() and len(history.read_text().splitlines()) >= 4:  # header + 3 epochs
            break
        time.sleep(0.01)
    assert proc.poll() is None, "training ended before it could be interrupted"
    proc.send_signal(signal.SIGINT)
    code = proc.wait(timeout=60)
    _, err = proc.communicate()
    assert code == 130, err
    assert (
        err.strip().splitlines()[-1].startswith("Interrupted:") and f"tsattn train --resume {tmp_path / 'run'}" in err
    )
    assert "Traceback" not in err
    status = json.loads((tmp_path / "run" / "status.json").read_text())
    assert status["state"] == "interrupted" and not (tmp_path / "run" / ".lock").exists()
    r = subprocess.run([*TSATTN, "train", "--resume", str(tmp_path / "run"), "--quiet"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "run" / "status.json").read_text())["state"] == "done"
    from safetensors.numpy import load_file

    a, b = load_file(tmp_path / "run" / "weights.safetensors"), load_file(tmp_path / "ref" / "weights.safetensors")
    for k in a:  # across processes to rounding, as the SIGKILL tests (tests/test_resilience.py) check
        np.testing.assert_allclose(a[k], b[k], rtol=1e-3, atol=1e-4, err_msg=k)
    assert (
        json.loads((tmp_path / "run" / "metrics.json").read_text())["accuracy"]
        == json.loads((tmp_path / "ref" / "metrics.json").read_text())["accuracy"]
    )


def test_resume_refuses_flags_it_cannot_honour(run, tmp_path):
    import shutil

    run_dir, _ = run
    copy = tmp_path / "run"
    shutil.copytree(run_dir, copy)
    (copy / "status.json").write_text(json.dumps({"state": "interrupted"}))
    before = _bytes(copy)
    r = invoke("train", "--resume", copy, "--max-epochs", 3, "--model", "mlp")
    assert r.exit_code == 2
    line = r.output.strip()
    assert "\n" not in line and "--max-epochs" in line and "--model" in line and "cannot take" in line
    assert _bytes(copy) == before


def test_version_and_quiet_still_says_where_the_run_went(tmp_path):
    from tsattn import __version__

    r = invoke("--version")
    assert r.exit_code == 0 and r.output.strip() == f"tsattn {__version__}"
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(TINY))
    r = invoke(
        "train", "--config", cfg, "--model", "cnn_attention", "--max-epochs", 1, "--out", tmp_path / "r", "--quiet"
    )
    assert r.exit_code == 0 and r.output.strip().splitlines() == [r.output.strip()]
    assert f"Run saved in {tmp_path / 'r'}/" in r.output


@pytest.mark.slow
def test_progress_is_plain_lines_when_not_a_terminal(tmp_path):
    cfg = tmp_path / "c.json"
    cfg.write_text(json.dumps(TINY))
    r = subprocess.run(
        [
            *TSATTN,
            "train",
            "--config",
            str(cfg),
            "--model",
            "cnn_attention",
            "--max-epochs",
            "3",
            "--out",
            str(tmp_path / "r"),
        ],
        capture_output=True,
        text=True,
    )
    assert r.returncode == 0, r.stderr
    assert "\r" not in r.stderr and "\r" not in r.stdout  # no bar redrawn in place
    lines = [line for line in r.stderr.splitlines() if line.startswith("epoch ")]
    assert [line.split(":")[0] for line in lines] == ["epoch 1/3", "epoch 2/3", "epoch 3/3"]
    assert all("val_loss" in line for line in lines)


def test_integer_labels_round_trip_through_csv_cli_and_load(tmp_path):
    X, _ = _easy(n=90)
    y = np.array([1, 2, 10] * 30)
    X[y == 10, 12:16] -= 2.0
    df = pd.DataFrame(X, columns=[f"t{i}" for i in range(X.shape[1])])
    df.insert(0, "label", y)
    df[:60].to_csv(tmp_path / "train.csv", index=False)
    df[60:].to_csv(tmp_path / "test.csv", index=False)
    r = invoke(
        "train",
        "--data",
        tmp_path / "train.csv",
        "--test-data",
        tmp_path / "test.csv",
        "--model",
        "cnn_attention",
        "--max-epochs",
        3,
        "--out",
        tmp_path / "r",
        "--quiet",
    )
    assert r.exit_code == 0, r.output
    config = json.loads((tmp_path / "r" / "config.json").read_text())
    assert config["class_names"] == ["1", "2", "10"] and config["classes"] == [1, 2, 10]  # numeric order
    clf = AttentionClassifier.load(tmp_path / "r")
    assert clf.classes_.tolist() == [1, 2, 10] and clf.classes_.dtype.kind == "i"
    pred = clf.predict(X[60:])
    assert pred.dtype.kind == "i" and set(pred) <= {1, 2, 10}
    assert clf.score(X[60:], y[60:]) == np.mean(pred == y[60:])
    est = AttentionClassifier("cnn_attention", max_epochs=1).fit(X, y)  # the estimator's own save keeps them too
    back = AttentionClassifier.load(est.save(tmp_path / "e"))
    assert back.classes_.tolist() == [1, 2, 10] and back.predict(X[:3]).dtype.kind == "i"


def test_every_reading_command_takes_a_ucr_name_and_unlabelled_files(tmp_path, monkeypatch):
    pytest.importorskip("aeon", reason="ucr: names resolve through the optional aeon (tsattn[aeon])")
    monkeypatch.setenv("TSATTN_DATA", str(tmp_path / "cache"))
    r = invoke(
        "train",
        "--data",
        "ucr:ItalyPowerDemand",
        "--model",
        "cnn_attention",
        "--max-epochs",
        2,
        "--out",
        tmp_path / "r",
        "--quiet",
    )
    assert r.exit_code == 0, r.output
    r = invoke(
        "predict", "--run", tmp_path / "r", "--data", "ucr:ItalyPowerDemand", "--out", tmp_path / "p.csv", "--quiet"
    )
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(tmp_path / "p.csv")) == 1029  # ItalyPowerDemand's official test split
    r = invoke("evaluate", "--run", tmp_path / "r", "--data", "ucr:ItalyPowerDemand")
    assert r.exit_code == 0 and (tmp_path / "r" / "evaluations" / "ucr_ItalyPowerDemand" / "metrics.json").is_file()
    r = invoke(
        "explain", "--run", tmp_path / "r", "--data", "ucr:ItalyPowerDemand", "--index", 3, "--out", tmp_path / "e.png"
    )
    assert r.exit_code == 0, r.output
    from tsattn.data.ucr import load

    test = load("ItalyPowerDemand")[1]
    pd.DataFrame(test.X[:20, 0]).to_csv(tmp_path / "unlabelled.csv", index=False)  # no label column at all
    r = invoke(
        "explain",
        "--run",
        tmp_path / "r",
        "--data",
        tmp_path / "unlabelled.csv",
        "--index",
        0,
        "--out",
        tmp_path / "u.png",
    )
    assert r.exit_code == 0, r.output
    r = invoke("locate", "--run", tmp_path / "r", "--data", tmp_path / "unlabelled.csv", "--out", tmp_path / "s.csv")
    assert r.exit_code == 0, r.output
    assert len(pd.read_csv(tmp_path / "s.csv")) == 20
    r = invoke("evaluate", "--run", tmp_path / "r", "--data", tmp_path / "unlabelled.csv")
    assert r.exit_code == 2 and "label" in r.output  # a score needs labels: one line saying so
