"""benchmarks/localization_family.py: every config of the family is valid, and the benchmark runs end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).parent.parent / "benchmarks"
sys.path.insert(0, str(BENCH))

from localization_family import BASE, FAMILY, spearman, summarize  # noqa: E402


def test_the_family_spans_what_the_issue_asks_for():
    from tsattn.config import DatasetConfig

    configs = [DatasetConfig(**(BASE | c | {"dataset_size": 10})) for c in FAMILY.values()]
    assert len(configs) >= 6
    assert min(c.num_points for c in configs) <= 200 and max(c.num_points for c in configs) >= 1000
    assert min(c.min_length for c in configs) <= 0.03 and max(c.max_length for c in configs) >= 0.4
    assert min(c.noise_std for c in configs) == 0 and max(c.noise_std for c in configs) >= 0.1
    assert any(c.random_phase for c in configs)
    assert {k for c in configs for k in c.anomaly_kinds} == {
        "rectified",
        "spike",
        "level_shift",
        "frequency_change",
        "noise_burst",
    }


def test_spearman_and_summary():
    assert spearman([1, 2, 3, 4], [10, 20, 30, 40]) == pytest.approx(1.0)
    assert spearman([1, 2, 3, 4], [4, 3, 2, 1]) == pytest.approx(-1.0)
    assert spearman([1, 2], [1, 2]) is None and spearman([1, 1, 1], [1, 2, 3]) is None
    rows = [
        {
            "model": "m",
            "config": c,
            "seed": 0,
            "T": 100,
            "accuracy": 1.0,
            "pointing_game": pg,
            "mass_inside": 0.5,
            "span_iou": 0.5,
            "shift_median": sh,
            "faithfulness": {
                "attention": {
                    "deletion_gain": dg,
                    "insertion_gain": dg,
                    "comprehensiveness_gain": dg,
                    "sufficiency_gain": dg,
                }
            },
        }
        for c, pg, sh, dg in (("a", 0.9, -3.0, 0.2), ("b", 0.5, 1.0, 0.1), ("c", 0.7, 2.0, 0.15))
    ]
    s = summarize(rows)
    assert s["per_model"]["m"]["pointing_game"] == {"median": 0.7, "worst": 0.5}
    assert s["per_model"]["m"]["abs_shift_share_of_T"] == {"median": 0.02, "worst": 0.03}
    assert s["rank_correlation_with_pointing_game"]["attention_deletion_gain"] == pytest.approx(1.0)


@pytest.mark.slow
def test_the_benchmark_runs_end_to_end_on_a_tiny_family_and_resumes(tmp_path):
    out = tmp_path / "family.json"
    args = [
        sys.executable,
        str(BENCH / "localization_family.py"),
        "--models",
        "cnn_attention,cnn_attention:pooling=conjunctive",
        "--seeds",
        "0",
        "--configs",
        "wide_level_T200,burst_T300",
        "--dataset-size",
        "60",
        "--max-epochs",
        "1",
        "--jobs",
        "2",
        "--out",
        str(out),
    ]
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert len(result["runs"]) == 4 and {r["config"] for r in result["runs"]} == {"wide_level_T200", "burst_T300"}
    conjunctive = [r for r in result["runs"] if r["model"] == "cnn_attention:pooling=conjunctive"]
    assert len(conjunctive) == 2 and all(r["class_map_pointing_game"] is not None for r in conjunctive)
    assert all("class_map" in r["faithfulness"] for r in conjunctive)
    assert "class_map_pointing_game" in result["summary"]["per_model"]["cnn_attention:pooling=conjunctive"]
    # a rerun finds every run in the .jsonl log and trains nothing
    proc = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0 and "seed 0" not in proc.stdout
    assert len(out.with_suffix(".jsonl").read_text().splitlines()) == 4


@pytest.mark.slow
def test_the_benchmark_runs_end_to_end_on_a_tiny_family(tmp_path):
    out = tmp_path / "family.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH / "localization_family.py"),
            "--models",
            "cnn_attention",
            "--seeds",
            "0",
            "1",
            "--configs",
            "wide_level_T200,burst_T300",
            "--dataset-size",
            "60",
            "--max-epochs",
            "1",
            "--out",
            str(out),
            "--keep",
            str(tmp_path / "kept"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    result = json.loads(out.read_text())
    assert len(result["runs"]) == 4 and {r["config"] for r in result["runs"]} == {"wide_level_T200", "burst_T300"}
    assert all(
        set(r["faithfulness"]) == {"attention", "attention_x_gradient", "integrated_gradients"} for r in result["runs"]
    )
    assert result["summary"]["per_model"]["cnn_attention"]["runs"] == 4
    assert result["summary"]["rank_correlation_with_pointing_game"]["n_runs"] == 4
    assert "attention_aopc" in result["summary"]["rank_correlation_with_pointing_game"]
    # the kept runs rescored offline under every occlusion window and baseline
    variants = tmp_path / "variants.json"
    proc = subprocess.run(
        [
            sys.executable,
            str(BENCH / "rescore_occlusion.py"),
            "--keep",
            str(tmp_path / "kept"),
            "--series",
            "8",
            "--out",
            str(variants),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    records = [json.loads(line) for line in variants.with_suffix(".jsonl").read_text().splitlines()]
    assert len(records) == 4 and all(r["n_series"] == 8 for r in records)
    scores = records[0]["maps"]["attention"]
    assert {"0.05_interpolation", "0.2_blur", "pointing_game", "pointing_game_on_these_series"} <= set(scores)
    assert 0 <= scores["0.1_interpolation"]["occlusion_pointing"] <= 1
    corr = json.loads(variants.read_text())["rank_correlation_with_pointing_game"]
    assert corr["n_maps"] == 4 and "0.05_interpolation_occlusion_pointing" in corr
    # and their spans rescored under the span rules before contrast runs and today's
    spans = tmp_path / "spans.json"
    proc = subprocess.run(
        [sys.executable, str(BENCH / "span_rules.py"), "--keep", str(tmp_path / "kept"), "--out", str(spans)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    rescored = json.loads(spans.read_text())["runs"]
    assert len(rescored) == 4
    for row in rescored:
        # more kinds to choose from never choose worse on the validation split
        assert row["mass_peak_contrast"]["val_span_iou"] >= row["mass_peak"]["val_span_iou"] - 1e-12
        assert row["mass_peak"]["span_rule"]["kind"] in ("mass", "peak")
        # today's kinds reproduce the IoU that the run's own metrics.json reports
        config, seed = Path(row["run"]).parent.name.split("_cnn_attention_s")
        (family_row,) = [r for r in result["runs"] if r["config"] == config and r["seed"] == int(seed)]
        assert row["mass_peak_contrast"]["span_iou"] == pytest.approx(family_row["span_iou"])


def test_a_model_spec_passes_training_settings_as_options_and_the_rest_as_model_parameters(tmp_path, monkeypatch):
    import localization_family

    seen: list[list[str]] = []

    def fake_run(cmd, **kwargs):  # the command a user would type; nothing trains
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 3, "", "stopped by the test")

    monkeypatch.setattr(localization_family.subprocess, "run", fake_run)
    with pytest.raises(SystemExit, match="failed"):
        spec = "inception_attention:pooling=average+attention_smoothing=0.002+attention_entropy=0.01"
        localization_family.run_one(BASE | FAMILY["seed_T500"], spec, 0, tmp_path, None)
    cmd = seen[0]
    assert cmd[cmd.index("--model") + 1] == "inception_attention"
    assert cmd[cmd.index("--attention-smoothing") + 1] == "0.002"
    assert cmd[cmd.index("--attention-entropy") + 1] == "0.01"
    assert cmd[cmd.index("--model-param") + 1] == "pooling=average" and cmd.count("--model-param") == 1


def test_models_split_at_commas_outside_a_json_list_and_the_list_reaches_the_model_parameter(tmp_path, monkeypatch):
    import localization_family

    mixed = 'inception_attention:ensemble_pooling=["attention","average"]+lr=0.001'
    assert localization_family.split_models(f"cnn_attention,{mixed},inception_attention") == [
        "cnn_attention",
        mixed,
        "inception_attention",
    ]
    seen: list[list[str]] = []

    def fake_run(cmd, **kwargs):
        seen.append(cmd)
        return subprocess.CompletedProcess(cmd, 3, "", "stopped by the test")

    monkeypatch.setattr(localization_family.subprocess, "run", fake_run)
    with pytest.raises(SystemExit, match="failed"):
        localization_family.run_one(BASE | FAMILY["seed_T500"], mixed, 0, tmp_path, None)
    cmd = seen[0]
    assert cmd[cmd.index("--model-param") + 1] == 'ensemble_pooling=["attention","average"]'
    assert cmd[cmd.index("--lr") + 1] == "0.001"
