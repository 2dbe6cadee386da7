"""report.html: self-contained, complete, and checked in a real headless Chromium."""

import json
import re
import shutil
import time

import numpy as np
import pytest
from typer.testing import CliRunner

from tests.conftest import TINY
from tsattn.cli import app

runner = CliRunner()
RUN_FIGURES = {"confusion", "roc-pr", "history", "gallery", "attention", "config"}
RUN_SECTIONS = {"metrics", "confusion", "curves", "localization", "gallery", "timing", "environment"}


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("report")
    cfg = tmp / "tiny.json"
    cfg.write_text(json.dumps(TINY))
    r = runner.invoke(
        app,
        [
            "train",
            "--config",
            str(cfg),
            "--model",
            "cnn_attention",
            "--max-epochs",
            "4",
            "--out",
            str(tmp / "run"),
            "--quiet",
        ],
    )
    assert r.exit_code == 0, r.output
    return tmp / "run"


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    from tsattn.config import DatasetConfig
    from tsattn.data import generate
    from tsattn.workflows.benchmark import run_benchmark

    out = tmp_path_factory.mktemp("bench")
    ds = generate(DatasetConfig(**TINY), seed=0)
    run_benchmark(ds, ["cnn_attention", "mlp"], 0, out, overrides={"max_epochs": 2, "min_steps": 0}, progress=False)
    return out


def test_run_report_is_self_contained_and_complete(run):
    html = (run / "report.html").read_text()
    assert html.startswith("<!DOCTYPE html>")
    # nothing that would load from elsewhere: no external scripts, styles, images or fonts
    assert not re.search(r"""(src|href)\s*=\s*["'](https?:)?//""", html)
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert html.count("<svg") >= 3 and html.count("data:image/png;base64,") >= 2
    for section in RUN_SECTIONS:
        assert f'data-section="{section}"' in html
    metrics = json.loads((run / "metrics.json").read_text())
    assert f"{metrics['accuracy']:.4f}" in html  # the headline is the run's own number
    import html as htmllib

    assert "pointing game" in html and '"model": "cnn_attention"' in htmllib.unescape(html)
    assert (run / "report.html").stat().st_size < 3 * 2**20


def _without_timestamps(html: str) -> str:
    html = re.sub(r"generated \d{4}-\d\d-\d\d \d\d:\d\d:\d\d", "generated <time>", html)
    return re.sub(r"<dc:date>[^<]*</dc:date>", "<dc:date/>", html)  # matplotlib stamps every SVG


def test_report_command_rebuilds_it(run):
    """`tsattn report` rebuilds the very page training wrote, from the run directory alone."""
    original = (run / "report.html").read_text()
    (run / "report.html").unlink()
    r = runner.invoke(app, ["report", str(run)])
    assert r.exit_code == 0, r.output
    rebuilt = (run / "report.html").read_text()
    assert _without_timestamps(rebuilt) == _without_timestamps(original)
    assert "generated <time>" in _without_timestamps(rebuilt)  # the masking above did find its timestamp


def test_report_command_errors(tmp_path):
    r = runner.invoke(app, ["report", str(tmp_path)])
    assert r.exit_code == 2 and "no config.json" in r.output


def test_benchmark_report(bench):
    html = (bench / "report.html").read_text()
    for name in ("cnn_attention", "mlp"):
        assert f"<td>{name}</td>" in html
    assert 'data-figure="comparison"' in html and "<svg" in html


def _chromium():
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Chromium is not installed here (apt-get install chromium); .ci/run installs it in CI")
    return path


def _open(path, chromium):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=chromium,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-default-apps",
                "--disable-sync",
                "--no-first-run",
            ],
        )
        page = browser.new_page(viewport={"width": 1280, "height": 900})
        problems, requests = [], []
        page.on("console", lambda m: problems.append(m.text) if m.type in ("error", "warning") else None)
        page.on("pageerror", lambda e: problems.append(str(e)))
        page.on("request", lambda r: requests.append(r.url))
        t = time.perf_counter()
        page.goto(path.resolve().as_uri(), wait_until="load")
        load_seconds = time.perf_counter() - t
        figures = page.evaluate("""[...document.querySelectorAll('[data-figure]')].map(e => {
            const r = e.getBoundingClientRect(); return [e.dataset.figure, r.width, r.height]; })""")
        sections = page.evaluate("""[...document.querySelectorAll('[data-section]')].map(e => {
            const r = e.getBoundingClientRect(); return [e.dataset.section, r.height]; })""")
        images_ok = page.evaluate("[...document.images].every(i => i.complete && i.naturalWidth > 0)")
        shot = page.screenshot(full_page=True)
        browser.close()
    return problems, requests, figures, sections, images_ok, shot, load_seconds


def _not_blank(png: bytes) -> None:
    import io

    from PIL import Image

    img = np.asarray(Image.open(io.BytesIO(png)).convert("L"), dtype=np.float32)
    assert img.shape[0] > 1500  # the full page, not one screen
    assert img.std() > 10 and len(np.unique(img)) > 50


@pytest.mark.slow
@pytest.mark.parametrize("which", ["run", "bench"])
def test_report_in_headless_chromium(run, bench, which, tmp_path):
    chromium = _chromium()
    folder = run if which == "run" else bench
    problems, requests, figures, sections, images_ok, shot, _ = _open(folder / "report.html", chromium)
    assert problems == []
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []
    names = {f[0] for f in figures}
    assert names >= (RUN_FIGURES if which == "run" else {"comparison", "config"})
    assert all(w > 0 and h > 0 for _, w, h in figures), figures
    assert all(h > 0 for _, h in sections) and images_ok
    _not_blank(shot)
    (tmp_path / f"{which}.png").write_bytes(shot)


def test_many_classes_get_one_legend_line_and_a_figure_that_fits():
    # 50 classes once gave 50 legend lines and matplotlib's "Tight layout not applied" warning.
    import warnings

    from tsattn.report import MAX_LEGEND_CLASSES, _roc_pr_svg

    rng = np.random.default_rng(0)
    names = [f"c{k}" for k in range(50)]
    y = np.arange(200) % 50
    proba = rng.dirichlet(np.ones(50), size=200)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        svg = _roc_pr_svg(y, proba, names)
    assert "50 classes, one vs rest (mean AUC" in svg and "c17 (AUC" not in svg
    few = _roc_pr_svg(y[y < MAX_LEGEND_CLASSES], proba[y < MAX_LEGEND_CLASSES][:, :MAX_LEGEND_CLASSES], names[:10])
    assert "c7 (AUC" in few and "one vs rest" not in few
