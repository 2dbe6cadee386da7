"""Building blocks shared by the models."""

from .attention import AdditiveAttention, masked_softmax
from .length import LengthLogits
from .level import LevelLogits
from .masking import apply_mask, fold_time, lengths_to_mask, pool_time, upsample_attention

__all__ = [
    "AdditiveAttention",
    "LengthLogits",
    "LevelLogits",
    "apply_mask",
    "fold_time",
    "lengths_to_mask",
    "masked_softmax",
    "pool_time",
    "upsample_attention",
]
