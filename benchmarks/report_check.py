"""Open a report.html in headless Chromium: load time, weight, figures, sections, console errors, network requests.

    python benchmarks/report_check.py runs/demo [--screenshot benchmarks/results/demo_report.png]

Also called by seed_task.py on the demo run. Writes benchmarks/results/report.json when run alone.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-default-apps",
    "--disable-sync",
    "--no-first-run",
]


def measure_report(report: Path, screenshot: Path | None = None, loads: int = 5) -> dict:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        raise SystemExit("chromium is not installed (apt-get install chromium)")
    report = report.resolve()
    out = {"path": str(report), "bytes": report.stat().st_size}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=ARGS)
        wall, nav = [], []
        for i in range(loads):
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            problems, requests = [], []
            page.on("console", lambda m, p=problems: p.append(m.text) if m.type in ("error", "warning") else None)
            page.on("pageerror", lambda e, p=problems: p.append(str(e)))
            page.on("request", lambda r, q=requests: q.append(r.url))
            t = time.perf_counter()
            page.goto(report.as_uri(), wait_until="load")
            wall.append(time.perf_counter() - t)
            nav.append(page.evaluate("performance.getEntriesByType('navigation')[0].loadEventEnd") / 1000)
            if i == 0:
                out["figures"] = page.evaluate("""[...document.querySelectorAll('[data-figure]')].map(e => {
                    const r = e.getBoundingClientRect();
                    return {name: e.dataset.figure, width: r.width, height: r.height}; })""")
                out["sections"] = page.evaluate("""[...document.querySelectorAll('[data-section]')].map(e => {
                    const r = e.getBoundingClientRect();
                    return {name: e.dataset.section, top: r.top, height: r.height}; })""")
                out["console_problems"] = problems
                out["network_requests"] = [u for u in requests if not u.startswith(("file:", "data:"))]
                if screenshot is not None:
                    screenshot.parent.mkdir(parents=True, exist_ok=True)
                    page.screenshot(path=str(screenshot), full_page=True)
                    out["screenshot"] = str(screenshot)
                    out["page_height_px"] = page.evaluate("document.documentElement.scrollHeight")
            page.close()
        browser.close()
    out["load_seconds_median"] = round(statistics.median(wall), 3)
    out["load_event_seconds_median"] = round(statistics.median(nav), 3)
    out["loads"] = loads
    out["meets_targets"] = (
        out["load_seconds_median"] < 1.0
        and out["bytes"] < 3 * 2**20
        and not out["console_problems"]
        and not out["network_requests"]
        and all(f["width"] > 0 and f["height"] > 0 for f in out["figures"])
    )
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path)
    ap.add_argument("--screenshot", type=Path, default=HERE / "results" / "demo_report.png")
    args = ap.parse_args()
    result = measure_report(args.run / "report.html", args.screenshot)
    (HERE / "results" / "report.json").write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
