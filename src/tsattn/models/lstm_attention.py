"""The seed's network: a bidirectional LSTM with additive attention pooling."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence

from ..layers import AdditiveAttention
from ._base import TSClassifierNet
from ._registry import register_model


@register_model
class LSTMAttention(TSClassifierNet):
    """BiLSTM (hidden 32 per direction) -> additive attention (64 -> tanh -> 1) -> linear head.

    Exactly the seed architecture. ``init="orthogonal"`` (the default) starts
    the recurrent weights orthogonal and the forget-gate bias at 1, which
    trains faster than PyTorch's uniform initialisation; ``init="torch"``
    keeps PyTorch's.
    """

    name = "lstm_attention"
    length_offsets = True  # create_network adds logit offsets from each series' length

    def __init__(
        self,
        n_channels: int,
        n_classes: int,
        seq_len: int,
        *,
        hidden_size: int = 32,
        attn_dim: int = 64,
        init: str = "orthogonal",
    ) -> None:
        super().__init__(n_channels, n_classes, seq_len)
        self.lstm = nn.LSTM(n_channels, hidden_size, batch_first=True, bidirectional=True)
        self.attention = AdditiveAttention(2 * hidden_size, attn_dim)
        self.head = nn.Linear(2 * hidden_size, self.n_outputs)
        if init == "orthogonal":
            self._init_lstm(hidden_size)
        elif init != "torch":
            raise ValueError(f"init must be 'orthogonal' or 'torch'; got {init!r}")

    def _init_lstm(self, H: int) -> None:
        for pname, p in self.lstm.named_parameters():
            if "weight_hh" in pname:
                for gate in range(4):  # input, forget, cell, output blocks of H rows each
                    nn.init.orthogonal_(p.data[gate * H : (gate + 1) * H])
            elif "bias" in pname:
                nn.init.zeros_(p)
                if "bias_ih" in pname:
                    nn.init.ones_(p.data[H : 2 * H])  # forget gate: remember by default

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> Any:
        seq = x.transpose(1, 2)  # (B, C, T) -> (B, T, C)
        if mask is not None and not bool(mask.all()):
            # Pack so that the backward direction starts at each series' own last step.
            lengths = mask.sum(1).clamp(min=1).cpu()
            packed = pack_padded_sequence(seq, lengths, batch_first=True, enforce_sorted=False)
            h, _ = pad_packed_sequence(self.lstm(packed)[0], batch_first=True, total_length=seq.shape[1])
        else:
            h, _ = self.lstm(seq)  # (B, T, 2H)
        context, alpha = self.attention(h, mask)  # (B, 2H), (B, T)
        return self.head(context), alpha
