"""Out-of-core synthetic datasets: memory-mappable ``.npy`` files written shard by shard.

A dataset directory holds one ``.npy`` per array (``X`` of shape ``(n, 1, T)``,
``y``, ``segment_start``, ``segment_end``, ``freq``, ``amp``) and a small
``manifest.json``. The rows are cut into shards of whole generator blocks;
worker processes fill their shards with positioned writes, never holding
more than one block in memory and never mapping the file (a written map
keeps its pages resident). Each block draws from its own random stream
(``default_rng([seed, block])``), so the bytes are the same whatever the
number of shards or workers, and the same as :func:`tsattn.data.generate`.

The directory is built under a temporary name and renamed into place at the
end, so a crash leaves no half-written dataset behind.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .._errors import DataError
from ..config import DatasetConfig
from .dataset import SeriesDataset
from .synthetic import BLOCK, _grids, class_names, generate_block

MANIFEST = "manifest.json"
FORMAT = "tsattn-shards/1"
ARRAYS = {
    "X": np.float32,
    "y": np.int64,
    "segment_start": np.int64,
    "segment_end": np.int64,
    "freq": np.float64,
    "amp": np.float64,
}


def _shapes(config: DatasetConfig) -> dict[str, tuple[int, ...]]:
    n = config.dataset_size
    return {k: ((n, 1, config.num_points) if k == "X" else (n,)) for k in ARRAYS}


def _header_offsets(folder: Path, config: DatasetConfig) -> dict[str, int]:
    """Create each ``.npy`` at full size (sparse) and return where its data start."""
    offsets = {}
    for key, shape in _shapes(config).items():
        arr = np.lib.format.open_memmap(  # type: ignore[no-untyped-call]
            folder / f"{key}.npy", mode="w+", dtype=ARRAYS[key], shape=shape
        )
        offsets[key] = int(arr.offset)
        del arr
    return offsets


def _fill_shard(args: tuple[Any, ...]) -> tuple[int, str]:
    """Generate blocks ``[b0, b1)`` and write them at their rows; return the shard's index and SHA-256."""
    index, folder, config_dict, seed, b0, b1, offsets = args
    config = DatasetConfig.model_validate(config_dict)
    grids = _grids(config)
    digest = hashlib.sha256()
    handles = {k: open(Path(folder) / f"{k}.npy", "r+b") for k in ARRAYS}  # noqa: SIM115 - closed in finally
    try:
        for b in range(b0, b1):
            block = generate_block(config, seed, b, grids)
            row0 = b * BLOCK
            for key, fh in handles.items():
                data = np.ascontiguousarray(block[key], dtype=ARRAYS[key])
                row_bytes = data[:1].nbytes
                os.pwrite(fh.fileno(), data.tobytes(), offsets[key] + row0 * row_bytes)
                digest.update(data.tobytes())
    finally:
        for fh in handles.values():
            fh.close()
    return index, digest.hexdigest()


def shard_ranges(n_rows: int, shards: int) -> list[tuple[int, int]]:
    """Split the generator's blocks into ``shards`` contiguous runs, as even as they can be."""
    n_blocks = -(-n_rows // BLOCK)
    shards = max(1, min(shards, n_blocks))
    edges = np.linspace(0, n_blocks, shards + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in itertools.pairwise(edges)]


def write_shards(
    config: DatasetConfig,
    seed: int,
    out: str | os.PathLike[str],
    *,
    shards: int = 8,
    workers: int = 1,
    progress: bool = False,
) -> dict[str, Any]:
    """Generate ``config``'s dataset into the directory ``out``; return the manifest."""
    if shards < 1:
        raise DataError(f"shards: must be >= 1; got {shards}")
    if workers < 1:
        raise DataError(f"workers: must be >= 1; got {workers}")
    out = Path(out)
    if out.exists() and not (out / MANIFEST).is_file() and (not out.is_dir() or any(out.iterdir())):
        raise DataError(f"out: {out} exists and is not a tsattn shard directory; refusing to replace it")
    out.parent.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", suffix=".tmp", dir=out.parent))
    try:
        offsets = _header_offsets(tmp, config)
        ranges = shard_ranges(config.dataset_size, shards)
        jobs = [(i, str(tmp), config.model_dump(), seed, b0, b1, offsets) for i, (b0, b1) in enumerate(ranges)]
        digests = [""] * len(jobs)
        from tqdm.auto import tqdm

        bar = tqdm(total=len(jobs), desc="shards", unit="shard", disable=not progress or not sys.stderr.isatty())
        if workers == 1:
            for job in jobs:
                i, d = _fill_shard(job)
                digests[i] = d
                bar.update(1)
        else:
            import multiprocessing as mp

            with mp.get_context("spawn").Pool(min(workers, len(jobs))) as pool:
                for i, d in pool.imap_unordered(_fill_shard, jobs):
                    digests[i] = d
                    bar.update(1)
        bar.close()
        for key in ARRAYS:
            with open(tmp / f"{key}.npy", "r+b") as fh:
                os.fsync(fh.fileno())
        manifest = {
            "format": FORMAT,
            "n_series": config.dataset_size,
            "n_channels": 1,
            "seq_len": config.num_points,
            "class_names": class_names(config),
            "seed": seed,
            "dataset_config": config.model_dump(),
            "arrays": {k: f"{k}.npy" for k in ARRAYS},
            "block_rows": BLOCK,
            "shards": [
                {"blocks": [b0, b1], "rows": [b0 * BLOCK, min(b1 * BLOCK, config.dataset_size)], "sha256": d}
                for (b0, b1), d in zip(ranges, digests, strict=False)
            ],
            "seconds": round(time.perf_counter() - t0, 3),
        }
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
        _swap_in(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return manifest


def _swap_in(tmp: Path, out: Path) -> None:
    """Move the finished directory ``tmp`` to ``out``; an older dataset there is removed only afterwards."""
    old = None
    if out.exists():
        old = out.with_name(f".{out.name}.old-{os.getpid()}")
        os.replace(out, old)
    os.replace(tmp, out)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def is_shard_dir(path: str | os.PathLike[str]) -> bool:
    path = Path(path)
    return (path.is_dir() and (path / MANIFEST).is_file()) or (path.name == MANIFEST and path.is_file())


def open_shards(path: str | os.PathLike[str]) -> SeriesDataset:
    """Open a shard directory (or its manifest): ``X`` read on demand (:class:`NpyRows`), labels and truth in memory."""
    from .npyrows import NpyRows

    path = Path(path)
    folder = path.parent if path.name == MANIFEST else path
    try:
        manifest = json.loads((folder / MANIFEST).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise DataError(f"data: {folder / MANIFEST} is not a readable manifest: {exc}") from None
    if manifest.get("format") != FORMAT:
        raise DataError(f"data: {folder / MANIFEST} has format {manifest.get('format')!r}; expected {FORMAT!r}")
    arrays = {}
    for key, name in manifest["arrays"].items():
        try:
            arrays[key] = NpyRows(folder / name) if key == "X" else np.load(folder / name, allow_pickle=False)
        except (OSError, ValueError) as exc:
            raise DataError(f"data: {folder / name} is not a readable .npy file: {exc}") from None
        if len(arrays[key]) != manifest["n_series"]:
            raise DataError(
                f"data: {folder / name} has {len(arrays[key])} rows; the manifest says {manifest['n_series']}"
            )
    X, y = arrays.pop("X"), arrays.pop("y")
    return SeriesDataset(X=X, y=y, class_names=list(manifest["class_names"]), extras=arrays)
