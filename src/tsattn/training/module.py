"""The LightningModule: loss, optimiser, schedule and per-epoch metrics."""

from __future__ import annotations

from typing import Any

import lightning as L
import torch

from ..models import classification_loss


def attention_variation(att: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over series of the attention's total variation in units of uniform weight.

    For each row of ``att`` ``(B, T)``, ``n * sum_t |a[t+1] - a[t]|`` where
    ``n`` is the series' length (``T``, or its unpadded steps under ``mask``);
    steps into or within padding do not count. Weights spread evenly over a
    share ``f`` of the series score ``2 / f`` at any length; all on one step,
    ``2 n``; uniform, 0. As a penalty it asks the model to weigh every step of
    an anomaly alike, which the classification loss alone does not: left to
    itself the attention piles up on the anomaly's sharpest edge.
    """
    diff = (att[:, 1:] - att[:, :-1]).abs()
    if mask is None:
        return (diff.sum(-1) * att.shape[-1]).mean()
    diff = diff * (mask[:, 1:] & mask[:, :-1])
    return (diff.sum(-1) * mask.sum(-1)).mean()


def attention_entropy(att: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
    """Mean over series of the attention's entropy in units of ``log n``, ``n`` its real steps: 1 uniform, 0 on one.

    Weights spread evenly over a share ``f`` of the series score
    ``1 + log f / log n``. As a penalty it asks the model to put less weight
    where it has no evidence, the diffuse background that the classification
    loss leaves.

    Examples
    --------
    >>> uniform, half = torch.full((1, 8), 1 / 8), torch.tensor([[0.25] * 4 + [0.0] * 4])
    >>> round(attention_entropy(uniform).item(), 4), round(attention_entropy(half).item(), 4)
    (1.0, 0.6667)
    """
    h = -(att * att.clamp_min(1e-12).log()).sum(-1)
    n = torch.full_like(h, att.shape[-1]) if mask is None else mask.sum(-1).to(att.dtype)
    return (h / n.clamp_min(2.0).log()).mean()


class LitClassifier(L.LightningModule):
    """Train any registered network with Adam and an optional one-cycle schedule."""

    def __init__(
        self,
        net: torch.nn.Module,
        *,
        lr: float = 3e-3,
        weight_decay: float = 0.0,
        lr_schedule: str = "onecycle",
        attention_smoothing: float = 0.0,
        attention_entropy: float = 0.0,
        label_smoothing: float = 0.0,
    ) -> None:
        super().__init__()
        self.net = net
        self.lr, self.weight_decay = lr, weight_decay
        self.attention_smoothing = attention_smoothing
        self.attention_entropy = attention_entropy
        self.label_smoothing = label_smoothing
        self.lr_schedule = lr_schedule

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        return self.net(x, mask)

    def _step(self, batch: Any, stage: str) -> torch.Tensor:
        x, y, mask = batch
        objective: torch.Tensor | None = None
        penalty: torch.Tensor | float = 0.0
        if stage == "train":
            # Every network that learns from its own loss (one, or each member of an ensemble) gets it, as if it
            # were trained alone; a network outside the model contract's base class is one such network.
            net: Any = self.net
            outputs = net.member_outputs(x, mask) if hasattr(net, "member_outputs") else [net(x, mask)]
            losses = [classification_loss(lg, y) for lg, _ in outputs]
            fitted = (
                [classification_loss(lg, y, smoothing=self.label_smoothing) for lg, _ in outputs]
                if self.label_smoothing
                else losses
            )
            penalties = [self._penalty(a, mask) for _, a in outputs]
            objective = torch.stack([lo + p for lo, p in zip(fitted, penalties, strict=True)]).mean()
            penalty = sum(penalties) / len(penalties)
            # what is logged: the plain loss of the whole network (of the ensemble's mean, for an ensemble)
            logits = net.combine(outputs)[0] if len(outputs) > 1 else outputs[0][0]
            loss = losses[0] if len(outputs) == 1 else classification_loss(logits, y)
        else:
            logits = self.net(x, mask)[0]
            loss = classification_loss(logits, y)
        if stage == "train":  # the extra term of the objective, logged apart from the classification loss
            self.log(
                "train_attention_penalty",
                torch.as_tensor(penalty, dtype=loss.dtype).detach(),
                on_step=False,
                on_epoch=True,
                batch_size=len(y),
                sync_dist=True,
            )
        pred = (logits.squeeze(-1) > 0).long() if logits.shape[-1] == 1 else logits.argmax(-1)
        acc = (pred == y).float().mean()
        self.log(f"{stage}_loss", loss, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(y), sync_dist=True)
        self.log(f"{stage}_acc", acc, on_step=False, on_epoch=True, prog_bar=True, batch_size=len(y), sync_dist=True)
        return objective if objective is not None else loss

    def _penalty(self, att: torch.Tensor | None, mask: torch.Tensor | None) -> torch.Tensor | float:
        """The attention penalties added to the training loss (0 unless ``attention_smoothing`` or
        ``attention_entropy`` asks for them)."""
        penalty: torch.Tensor | float = 0.0
        if self.attention_smoothing > 0 and att is not None:
            penalty = penalty + self.attention_smoothing * attention_variation(att, mask)
        if self.attention_entropy > 0 and att is not None:
            penalty = penalty + self.attention_entropy * attention_entropy(att, mask)
        return penalty

    def training_step(self, batch: Any, batch_idx: int) -> torch.Tensor:
        return self._step(batch, "train")

    def validation_step(self, batch: Any, batch_idx: int) -> None:
        self._step(batch, "val")

    def configure_gradient_clipping(
        self, optimizer: Any, gradient_clip_val: float | None = None, gradient_clip_algorithm: str | None = None
    ) -> None:
        """Clip the gradient norm of each network that trains as if alone (an ensemble's members one by one), so
        that a member with a huge gradient never shrinks another member's step."""
        if not gradient_clip_val:
            return
        net: Any = self.net
        groups = net.parameter_groups() if hasattr(net, "parameter_groups") else [list(net.parameters())]
        for params in groups:
            torch.nn.utils.clip_grad_norm_([p for p in params if p.grad is not None], gradient_clip_val)

    def configure_optimizers(self) -> Any:
        opt_cls = torch.optim.AdamW if self.weight_decay > 0 else torch.optim.Adam
        opt = opt_cls(self.parameters(), lr=self.lr, weight_decay=self.weight_decay)
        if self.lr_schedule == "constant":
            return opt
        total = int(self.trainer.estimated_stepping_batches)
        if total < 8:  # too few steps to warm up and anneal: one-cycle would divide by zero
            return opt
        if self.lr_schedule == "onecycle":
            sched: Any = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=self.lr, total_steps=total, pct_start=0.25)
        else:
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=total)
        return {"optimizer": opt, "lr_scheduler": {"scheduler": sched, "interval": "step"}}
