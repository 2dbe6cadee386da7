import pytest

from tsattn import DataError

pytest.importorskip("aeon", reason="UCR/UEA names and files need the optional aeon (tsattn[aeon])")


def test_named_dataset_from_the_aeon_wheel(monkeypatch, tmp_path):
    from tsattn.data import ucr as datasets

    monkeypatch.setenv("TSATTN_DATA", str(tmp_path))  # an empty cache
    train_path, _test_path, where = datasets.resolve("GunPoint")
    assert where == "aeon" and train_path.name == "GunPoint_TRAIN.ts"
    train, test = datasets.load("GunPoint")
    assert train.X.shape == (50, 1, 150) and test.X.shape == (150, 1, 150)
    assert train.class_names == test.class_names == ["1", "2"]


def test_the_cache_comes_first(monkeypatch, tmp_path):
    from tsattn.data import ucr as datasets

    folder = tmp_path / "Toy"
    folder.mkdir()
    for part in ("TRAIN", "TEST"):
        (folder / f"Toy_{part}.ts").write_text(
            "@problemName Toy\n@univariate true\n@equalLength true\n"
            "@classLabel true a b\n@data\n1,2,3:a\n3,2,1:b\n1,1,1:a\n"
        )
    monkeypatch.setenv("TSATTN_DATA", str(tmp_path))
    train, _test = datasets.load("Toy")
    assert datasets.resolve("Toy")[2] == "cache" and train.X.shape == (3, 1, 3)


def test_missing_dataset_without_network_says_where_to_put_files(monkeypatch, tmp_path):
    import aeon.datasets

    from tsattn.data import ucr as datasets

    def offline(*args, **kwargs):
        raise OSError("network is unreachable")

    monkeypatch.setattr(aeon.datasets, "load_classification", offline)
    monkeypatch.setenv("TSATTN_DATA", str(tmp_path))
    with pytest.raises(DataError) as info:
        datasets.load("NoSuchDataset")
    msg = str(info.value)
    assert "download failed" in msg and str(tmp_path / "NoSuchDataset") in msg and "NoSuchDataset_TRAIN.ts" in msg
    with pytest.raises(DataError, match="plain name"):
        datasets.load("../etc")


def test_download_code_path_writes_into_the_cache(monkeypatch, tmp_path):
    """The real download goes through aeon's load_classification into the cache; here it is served locally."""
    import shutil

    import aeon.datasets

    from tsattn.data import ucr as datasets

    shipped = datasets._shipped_dir() / "ItalyPowerDemand"

    def fake_download(name, extract_path=None, **kwargs):
        shutil.copytree(shipped, f"{extract_path}/{name}")

    monkeypatch.setattr(aeon.datasets, "load_classification", fake_download)
    monkeypatch.setattr(datasets, "_shipped_dir", lambda: None)  # pretend the wheel has no copy
    monkeypatch.setenv("TSATTN_DATA", str(tmp_path))
    train, test = datasets.load("ItalyPowerDemand")
    assert (tmp_path / "ItalyPowerDemand" / "ItalyPowerDemand_TRAIN.ts").is_file()
    assert train.X.shape[1:] == (1, 24) and len(test) > len(train)
    assert datasets.resolve("ItalyPowerDemand")[2] == "cache"
