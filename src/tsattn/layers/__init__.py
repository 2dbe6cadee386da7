"""Building blocks shared by the models."""

from .attention import AdditiveAttention, masked_softmax
from .masking import apply_mask, upsample_attention

__all__ = ["AdditiveAttention", "apply_mask", "masked_softmax", "upsample_attention"]
