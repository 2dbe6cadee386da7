import json

import pytest

from tsattn import ConfigError
from tsattn.config import DatasetConfig, Recipe, TrainConfig, load_dataset_config

from .conftest import ROOT


def test_seed_json_loads_verbatim(seed_config_path):
    raw = json.loads(seed_config_path.read_text())
    cfg = load_dataset_config(seed_config_path)
    for key, value in raw.items():
        assert getattr(cfg, key) == value
    # The built-in defaults are the seed's.
    assert cfg.model_dump(include=set(raw) - {"output_folder", "picture_folder"}) == DatasetConfig().model_dump(
        include=set(raw) - {"output_folder", "picture_folder"}
    )


def test_shipped_copy_matches_the_seed(seed_config_path):
    assert seed_config_path != ROOT / "configs" / "seed_default.json"
    assert json.loads((ROOT / "configs" / "seed_default.json").read_text()) == json.loads(seed_config_path.read_text())


# The seed's values as docs/seed-system.md gives them: the shipped copy is checked against these even where
# ../shared is absent, and the defaults of DatasetConfig with it.
SEED_VALUES = {
    "num_points": 500,
    "dataset_size": 10000,
    "normal_anomalous_ratio": 0.5,
    "min_loc": 0.0,
    "max_loc": 0.9,
    "step_loc": 0.01,
    "min_length": 0.1,
    "max_length": 0.5,
    "step_length": 0.01,
    "min_freq": 1,
    "max_freq": 4,
    "step_freq": 0.01,
    "min_amp": 1,
    "max_amp": 10,
    "step_amp": 0.01,
    "output_folder": "/output",
    "picture_folder": "/pictures",
}


def test_shipped_copy_and_defaults_hold_the_seed_values():
    assert json.loads((ROOT / "configs" / "seed_default.json").read_text()) == SEED_VALUES
    cfg = DatasetConfig()
    for key, value in SEED_VALUES.items():
        if key not in ("output_folder", "picture_folder"):
            assert getattr(cfg, key) == value, key


def test_seed_index_grids():
    cfg = DatasetConfig()
    assert cfg.index_grid("loc") == (0, 450, 5)
    assert cfg.index_grid("length") == (50, 250, 5)


def _write(tmp_path, text):
    p = tmp_path / "cfg.json"
    p.write_text(text)
    return p


@pytest.mark.parametrize(
    "change, fragments",
    [
        ({"num_point": 500}, ["unknown key 'num_point'", "Did you mean 'num_points'"]),
        ({"min_freq": 5, "max_freq": 4}, ["min_freq must be < max_freq", "min_freq=5"]),
        ({"step_amp": 0}, ["'step_amp'", "greater than 0", "got 0"]),
        ({"step_loc": -0.1}, ["'step_loc'", "greater than 0", "got -0.1"]),
        ({"normal_anomalous_ratio": 1.5}, ["'normal_anomalous_ratio'", "less than or equal to 1", "got 1.5"]),
        ({"normal_anomalous_ratio": -0.1}, ["'normal_anomalous_ratio'", "greater than or equal to 0"]),
        ({"dataset_size": 0}, ["'dataset_size'", "greater than or equal to 1", "got 0"]),
        ({"dataset_size": "many"}, ["'dataset_size'", "valid integer", "'many'"]),
        ({"max_length": 1.5}, ["'max_length'", "less than or equal to 1"]),
        ({"num_points": 5}, ["flat part of at least 1 sample"]),
        ({"max_loc": 0.001}, ["the loc grid is empty"]),
    ],
)
def test_bad_configs_give_one_line_errors(tmp_path, change, fragments):
    data = json.loads((ROOT / "configs" / "seed_default.json").read_text()) | change
    with pytest.raises(ConfigError) as info:
        load_dataset_config(_write(tmp_path, json.dumps(data)))
    msg = str(info.value)
    assert "\n" not in msg
    for f in fragments:
        assert f in msg


@pytest.mark.parametrize(
    "text, fragment", [('{"num_points": 500,', "malformed JSON"), ("", "empty"), ("[1, 2]", "JSON object")]
)
def test_unreadable_configs(tmp_path, text, fragment):
    with pytest.raises(ConfigError, match=fragment):
        load_dataset_config(_write(tmp_path, text))


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="file not found"):
        load_dataset_config(tmp_path / "nope.json")


def test_train_config_rules():
    with pytest.raises(ConfigError, match="val_fraction \\+ test_fraction must be < 1"):
        TrainConfig.from_dict({"val_fraction": 0.5, "test_fraction": 0.5})
    with pytest.raises(ConfigError, match="Did you mean 'max_epochs'"):
        TrainConfig.from_dict({"max_epoch": 3})


def test_each_recipe_key_is_a_train_config_field_of_the_same_type():
    from typing import get_type_hints

    hints = get_type_hints(Recipe)
    assert {"max_epochs", "lr", "scaling", "ensemble_below"} <= set(hints)
    for key, annotation in hints.items():
        assert key in TrainConfig.model_fields, key
        assert TrainConfig.model_fields[key].annotation == annotation, key


@pytest.mark.parametrize("path", sorted((ROOT / "configs").glob("*.json")), ids=lambda p: p.name)
def test_every_example_config_loads(path):
    load_dataset_config(path)
