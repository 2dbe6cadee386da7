"""ONNX export: raw series in, probabilities and attention out, the run's scaling inside the graph.

A run trained on series of several lengths exports a graph with a second
input, ``lengths`` ``(batch,)`` int64: each row's true length. Steps past it
are padding, whatever they hold (zero or NaN): the scaling's statistics, the
attention and the length offsets see only the real steps, as ``tsattn
predict`` does. The graph is checked against that very path (the run's numpy
``Scaler`` and its network, :func:`tsattn.inference.predict_arrays`), not
against a copy of it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

import numpy as np

from .._errors import RunError, install_hint

if TYPE_CHECKING:
    import torch
    from torch.nn import Module

    from ..run import LoadedRun

__all__ = ["check_parity", "export_onnx", "needs_lengths"]


def needs_lengths(net: Module) -> bool:
    """Was ``net`` trained on series of several lengths? (Its length offsets are on.)"""
    from ..layers import LengthLogits

    return getattr(net, "variable_length", True) and any(
        isinstance(m, LengthLogits) and bool(m.stats[1] > 0) for m in net.modules()
    )


def _graph_class() -> Any:
    import torch
    from torch import nn

    from ..models import logits_to_proba

    class OnnxGraph(nn.Module):
        """The run's scaling (its :meth:`~tsattn.training.scaling.Scaler.torch_module`), network and probabilities."""

        def __init__(self, net: nn.Module, scaler: Any, with_lengths: bool, class_map: bool = False) -> None:
            super().__init__()
            self.scale, self.net, self.with_lengths = scaler.torch_module(), net, with_lengths
            self.class_map = class_map

        def forward(self, x: torch.Tensor, lengths: torch.Tensor | None = None) -> tuple[torch.Tensor, ...]:
            mask = None
            if self.with_lengths and lengths is not None:
                # step positions from the input itself, so that the traced graph keeps the time axis dynamic
                steps = torch.cumsum(torch.ones_like(x[:, 0, :]), dim=-1) - 1
                mask = steps < lengths[:, None].to(x.dtype)
            scaled = self.scale(x, mask)
            logits, att = self.net(scaled, mask)
            proba = logits_to_proba(logits)
            out: tuple[torch.Tensor, ...] = (proba, att) if att is not None else (proba,)
            if self.class_map:  # conjunctive or average pooling: each step's share of each logit column
                net: Any = self.net
                out += (net.class_relevance(scaled, mask),)
            return out

    return OnnxGraph


def export_onnx(
    run: str | os.PathLike[str],
    out: str | os.PathLike[str],
    *,
    opset: int = 17,
    check: bool = True,
    atol: float = 1e-5,
    lengths: bool | None = None,
) -> dict[str, Any]:
    """Export a run's model to ONNX and check it against the run's own prediction path with onnxruntime.

    The graph's inputs are ``series`` ``(batch, channels, time)`` of raw
    values and, for a variable-length run (or with ``lengths=True``),
    ``lengths`` ``(batch,)`` int64. Its outputs are ``probabilities``
    ``(batch, n_classes)`` and, for attention models, ``attention``
    ``(batch, time)``, exactly 0 on padding; a model with conjunctive or average
    pooling adds ``class_map`` ``(batch, logit columns, time)``, each step's share of
    each logit (0 on padding). Batch is dynamic, and time too
    except for ``mlp`` (one weight per step) and ``transformer`` (its patch
    padding is frozen by tracing).

    Parameters
    ----------
    run : path
        A finished run directory.
    out : path
        Where the ``.onnx`` file goes (written atomically, after the check).
    opset : int
        ONNX opset.
    check : bool
        Compare onnxruntime with ``tsattn predict``'s path on random series;
        raise :class:`~tsattn.RunError` above ``atol``.
    lengths : bool, optional
        Give the graph a ``lengths`` input. ``None``: only if the run was
        trained on series of several lengths. A model that takes one length
        only (``mlp``) cannot have it.

    Examples
    --------
    >>> from tsattn.workflows.export import export_onnx
    >>> report = export_onnx("runs/gunpoint", "model.onnx")  # doctest: +SKIP
    >>> report["inputs"]  # doctest: +SKIP
    ['series']
    """
    import io
    import warnings

    import torch

    from .._io import atomic_write_bytes
    from ..evaluation.explain import has_class_map
    from ..run import load_run

    for module in ("onnx", "onnxruntime"):
        try:
            __import__(module)
        except ImportError:
            raise RunError(
                f"export: needs {module}, which is not installed ({install_hint('onnx')})", param=""
            ) from None

    loaded = load_run(run)
    net = loaded.net.eval()
    if lengths is None:
        lengths = needs_lengths(net)
    elif lengths and not getattr(net, "variable_length", True):
        raise RunError(f"lengths: {loaded.model_name} takes series of one length only; it cannot take a lengths input")
    with_map = has_class_map(net)
    graph = _graph_class()(net, loaded.scaler, lengths, with_map).eval()
    C, T = loaded.config.n_channels, loaded.config.seq_len
    has_att = getattr(net, "has_attention", True)
    inputs = ["series"] + (["lengths"] if lengths else [])
    outputs = ["probabilities"] + (["attention"] if has_att else []) + (["class_map"] if with_map else [])
    time_dynamic = getattr(net, "onnx_dynamic_time", True)
    time_axis = {2: "time"} if time_dynamic else {}
    dynamic = {"series": {0: "batch", **time_axis}, "probabilities": {0: "batch"}}
    if lengths:
        dynamic["lengths"] = {0: "batch"}
    if has_att:
        dynamic["attention"] = {0: "batch", **({1: "time"} if time_dynamic else {})}
    if with_map:
        dynamic["class_map"] = {0: "batch", **({2: "time"} if time_dynamic else {})}
    example: tuple[torch.Tensor, ...] = (torch.randn(2, C, T),)
    if lengths:  # one short row, so that every masked branch (the LSTM's packing) is traced
        example += (torch.tensor([T, max(T // 2, 1)], dtype=torch.int64),)
    buf = io.BytesIO()
    try:
        with warnings.catch_warnings():
            # Tracer chatter; what matters is checked below: parity with the predict path at other sizes.
            warnings.simplefilter("ignore")
            torch.onnx.export(
                graph,
                example,
                buf,  # type: ignore[arg-type]  # torch.onnx.export writes to a file-like object too
                input_names=inputs,
                output_names=outputs,
                dynamic_axes=dynamic,
                opset_version=opset,
                dynamo=False,
            )
    except Exception as exc:  # an architecture the exporter cannot trace
        raise RunError(
            f"export: {loaded.model_name} cannot be exported to ONNX: {type(exc).__name__}: {exc}", param=""
        ) from None
    data = _with_metadata(buf.getvalue(), loaded)
    report = {
        "model": loaded.model_name,
        "inputs": inputs,
        "outputs": outputs,
        "dynamic_time": time_dynamic,
        "opset": opset,
        "bytes": len(data),
    }
    if check:
        report |= check_parity(data, loaded, time_dynamic=time_dynamic, atol=atol)
    atomic_write_bytes(out, data)
    return report


def _with_metadata(data: bytes, loaded: LoadedRun) -> bytes:
    """Record the class names (the columns of ``probabilities``) and the model in the graph's metadata."""
    import json

    import onnx

    model = onnx.load_from_string(data)
    for key, value in (("class_names", json.dumps(loaded.class_names)), ("tsattn_model", loaded.model_name)):
        entry = model.metadata_props.add()
        entry.key, entry.value = key, value
    return bytes(model.SerializeToString())


def _class_map(loaded: LoadedRun, raw: np.ndarray, lengths: np.ndarray | None) -> np.ndarray:
    """The network's class map on raw series, as the predict path scales them (the parity reference)."""
    import torch

    from ..layers import lengths_to_mask

    x = torch.from_numpy(np.nan_to_num(loaded.scaler.transform(raw)).astype(np.float32))
    mask = None if lengths is None else lengths_to_mask(lengths, x.shape[-1])
    with torch.inference_mode():
        return np.asarray(loaded.net.class_relevance(x, mask).numpy())


def check_parity(
    onnx_bytes: bytes, loaded: LoadedRun, *, time_dynamic: bool, atol: float = 1e-5, seed: int = 0
) -> dict[str, Any]:
    """Max absolute difference between onnxruntime and the run's predict path; raises above ``atol``.

    The reference is what ``tsattn predict`` computes: the run's numpy
    scaler, then its network through :func:`~tsattn.inference.predict_arrays`.
    A graph with a ``lengths`` input is fed padded batches of mixed lengths,
    their padding NaN for the reference (as the readers give it) and zero or
    NaN for the graph.
    """
    import onnxruntime as ort

    from ..inference import predict_arrays

    sess = ort.InferenceSession(onnx_bytes, providers=["CPUExecutionProvider"])
    with_lengths = [i.name for i in sess.get_inputs()] == ["series", "lengths"]
    C, T = loaded.config.n_channels, loaded.config.seq_len
    rng = np.random.default_rng(seed)
    worst: dict[str, float] = {}
    shapes = [(7, T)] + ([(3, max(T // 2, 8)), (2, T + 17)] if time_dynamic else [])
    for B, L in shapes:
        x = (rng.normal(size=(B, C, L)) * 3 + 1).astype(np.float32)
        feeds: list[tuple[dict[str, np.ndarray], np.ndarray, np.ndarray | None]] = [({"series": x}, x, None)]
        if with_lengths:
            n = rng.integers(max(L // 3, 1), L + 1, size=B)
            n[0] = L
            pad = np.arange(L)[None, None, :] >= n[:, None, None]
            nan_padded = np.where(pad, np.nan, x).astype(np.float32)
            feeds = [
                ({"series": np.where(pad, 0.0, x).astype(np.float32), "lengths": n}, nan_padded, n),
                ({"series": nan_padded, "lengths": n}, nan_padded, n),
            ]
        for feed, raw, rows_len in feeds:
            ref: tuple[np.ndarray | None, ...] = predict_arrays(
                loaded.net, loaded.scaler.transform(raw), lengths=rows_len
            )
            got = sess.run(None, feed)
            names = [o.name for o in sess.get_outputs()]
            if "class_map" in names:
                ref = (*ref, _class_map(loaded, raw, rows_len))
            for name, r, g in zip(names, ref, got, strict=False):
                if r is not None:
                    worst[name] = max(worst.get(name, 0.0), float(np.abs(r - g).max()))
    for name, diff in worst.items():
        if not diff <= atol:
            raise RunError(f"export: ONNX {name} differ from tsattn predict by {diff:.2e} > {atol:.0e}", param="")
    return {f"max_abs_diff_{k}": v for k, v in worst.items()}
