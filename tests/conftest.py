import json
import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED_CONFIG = ROOT.parent / "shared" / "seed" / "default_dataset.json"
TINY = {
    "num_points": 64,
    "dataset_size": 200,
    "normal_anomalous_ratio": 0.5,
    "min_loc": 0.0,
    "max_loc": 0.6,
    "step_loc": 0.05,
    "min_length": 0.2,
    "max_length": 0.4,
    "step_length": 0.05,
    "min_freq": 1,
    "max_freq": 3,
    "step_freq": 0.1,
    "min_amp": 1,
    "max_amp": 5,
    "step_amp": 0.1,
}


@pytest.fixture
def tiny_config_path(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.json"
    p.write_text(json.dumps(TINY))
    return p


@pytest.fixture(scope="session")
def seed_config_path() -> Path:
    """The seed's own ``default_dataset.json``, from ``../shared`` beside the checkout (as CI has it).

    Without it the tests that need it skip (and so fail under CI=true): comparing
    the shipped copy with itself would prove nothing.
    """
    if not SEED_CONFIG.is_file():
        pytest.skip(f"the seed's config is not beside this checkout ({SEED_CONFIG})")
    return SEED_CONFIG


# Skips fail in CI. A test that skips here for a missing optional package, browser or dataset would leave CI green
# with that test never run; under CI=true (as .ci/run is run) every skip is reported as a failure instead, so a
# green CI means every collected test ran. Locally a skip stays a skip, with its reason.
IN_CI = os.environ.get("CI", "").lower() == "true"


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if IN_CI and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true, where every test must run: {reason}"


@pytest.hookimpl(tryfirst=True)
def pytest_collectreport(report):
    if IN_CI and report.skipped:  # a module-level importorskip
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"module skipped under CI=true, where every test must run: {reason}"
        _SKIPPED_MODULES.append(report.nodeid)


_SKIPPED_MODULES: list[str] = []


def pytest_sessionfinish(session, exitstatus):
    if _SKIPPED_MODULES and exitstatus in (0, 5):  # "no tests ran" is not a pass either
        session.exitstatus = 1
