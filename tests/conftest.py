import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SEED_CONFIG = ROOT.parent / "shared" / "seed" / "default_dataset.json"
TINY = {
    "num_points": 64, "dataset_size": 200, "normal_anomalous_ratio": 0.5,
    "min_loc": 0.0, "max_loc": 0.6, "step_loc": 0.05,
    "min_length": 0.2, "max_length": 0.4, "step_length": 0.05,
    "min_freq": 1, "max_freq": 3, "step_freq": 0.1,
    "min_amp": 1, "max_amp": 5, "step_amp": 0.1,
}


@pytest.fixture
def tiny_config_path(tmp_path: Path) -> Path:
    p = tmp_path / "tiny.json"
    p.write_text(json.dumps(TINY))
    return p


@pytest.fixture(scope="session")
def seed_config_path() -> Path:
    if SEED_CONFIG.is_file():
        return SEED_CONFIG
    return ROOT / "configs" / "seed_default.json"  # a verbatim copy, for checkouts without shared/
