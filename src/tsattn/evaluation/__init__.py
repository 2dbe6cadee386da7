"""Where a model is judged: metrics, localization scores, plots."""

from .metrics import classification_metrics, format_report

__all__ = ["classification_metrics", "format_report"]
