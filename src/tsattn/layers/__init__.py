"""Building blocks shared by the models."""

from .attention import (
    AdditiveAttention,
    AttentionAveragePooling,
    AveragePooling,
    ConjunctivePooling,
    masked_softmax,
    positional_encoding,
)
from .length import LengthLogits
from .level import LevelLogits
from .masking import (
    MaskedBatchNorm1d,
    apply_mask,
    fold_time,
    lengths_to_mask,
    pool_time,
    upsample_attention,
    upsample_class_map,
)

__all__ = [
    "AdditiveAttention",
    "AttentionAveragePooling",
    "AveragePooling",
    "ConjunctivePooling",
    "LengthLogits",
    "LevelLogits",
    "MaskedBatchNorm1d",
    "apply_mask",
    "fold_time",
    "lengths_to_mask",
    "masked_softmax",
    "pool_time",
    "positional_encoding",
    "upsample_attention",
    "upsample_class_map",
]
