"""The tutorial notebook runs top to bottom on a tiny config, so that it never rots."""

import os
from pathlib import Path

import pytest

NOTEBOOK = Path(__file__).resolve().parents[1] / "examples" / "attention_tutorial.ipynb"


@pytest.mark.slow
def test_tutorial_notebook_executes(tmp_path, monkeypatch):
    nbformat = pytest.importorskip("nbformat", reason="the notebook test needs nbformat (tsattn[test])")
    nbclient = pytest.importorskip("nbclient", reason="the notebook test needs nbclient (tsattn[test])")
    monkeypatch.setenv("TSATTN_TUTORIAL_SMALL", "1")
    monkeypatch.setenv("TSATTN_TUTORIAL_OUT", str(tmp_path / "runs"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbclient.NotebookClient(
        nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}
    ).execute()
    text = "\n".join(o.get("text", "") for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
    assert "accuracy" in text and "pointing game" in text
    assert "randomized" in text and "integrated_gradients" in text
    assert "| cnn_attention |" in text
    images = sum("image/png" in o.get("data", {}) for c in nb.cells for o in c.get("outputs", []))
    assert images >= 2  # the data and the attention plots
    assert (tmp_path / "runs" / "lstm_attention" / "report.html").is_file()
    assert os.path.getsize(tmp_path / "runs" / "benchmark" / "report.html") > 0
