"""Where data enter: the synthetic generator, file readers and writers, splits."""

from .dataset import SeriesDataset, check_finite, encode_labels, load_npz, save_npz, series_hashes
from .splits import stratified_split
from .synthetic import generate

__all__ = [
    "SeriesDataset",
    "check_finite",
    "encode_labels",
    "generate",
    "load_npz",
    "save_npz",
    "series_hashes",
    "stratified_split",
]
