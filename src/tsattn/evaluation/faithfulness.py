"""Faithfulness: does the model's output depend on the steps a relevance map calls relevant? No ground truth needed.

What it can and cannot tell, in one line (:data:`CAVEAT`): whether the model's
output depends on the steps a map ranks high, beyond random rankings; not
whether those steps are where the class evidence truly lies.

Given a model, some series and a relevance map ``(n, T)`` (attention,
attention x gradient, Integrated Gradients, ...), the steps of each series are
ranked by relevance and

* **deletion** replaces the top ``k`` share of them with a neutral baseline
  (each series' own mean, per channel) and tracks the probability of the class
  predicted on the intact series: a faithful map makes it fall fast;
* **insertion** starts from the baseline everywhere and reveals the top ``k``
  share: a faithful map makes it rise fast (Petsiuk et al. 2018);
* **comprehensiveness** is the mean drop in that probability when the top
  1/5/10/20/50 % are removed, **sufficiency** the mean drop when only they are
  kept (DeYoung et al. 2020, ERASER): high comprehensiveness and low
  sufficiency are faithful.

Each score is reported next to the same score for random rankings of the same
steps, because what a model does to a series with half its steps flattened
depends on the model as much as on the map: ``deletion_gain`` (random's
deletion AUC minus the map's), ``insertion_gain`` (the map's insertion AUC
minus random's), ``comprehensiveness_gain`` (the map's comprehensiveness minus
random's) and ``sufficiency_gain`` (random's sufficiency minus the map's) are
above 0 when the map beats chance.

Scores are probabilities of the class predicted on the intact series, and
they cannot fall below chance (1/K): with 2 classes a deletion curve floors
near 0.5. So each gain is also given as a share of the room there is
(``<gain>_of_room``: the gain over the mean of intact probability minus 1/K).
A series that no deletion or insertion moves (a saturated model) is counted
in ``uninformative_series``; where all are, the block tells nothing.

**AOPCR** (MILLET's score, Early et al. 2024) needs no probability at all:
the top 5 %, 10 %, ..., 50 % of the steps are removed, and the drop in the
predicted class's *logit* (which does not saturate) is averaged (AOPC); AOPCR
is the map's AOPC minus that of random rankings, and ``aopcr_normalized``
divides it by ``|AOPC| + |random AOPC|``, so that runs whose logits differ
in scale can be ranked together (-1 to 1; above 0: better than chance).

**Occlusion agreement** asks the pointing game's question of the model
instead of the ground truth: each series is covered by windows of 5 % of its
length (half-overlapping), each window is removed in turn, and the window
whose removal drops the predicted class's logit the most is where the model's
evidence is. ``occlusion_pointing`` is the share of series whose map peaks
inside that window (``random_occlusion_pointing``: the share a random peak
would reach, the window's share of the series; ``occlusion_pointing_gain``
the difference); ``occlusion_pointing_weighted`` weighs each series by how
much its top window stands out (largest drop minus the median drop), so a
series whose evidence is nowhere in particular counts little; and
``occlusion_correlation`` is the mean over series of the Spearman correlation
between each window's share of the map and its drop (Bhatt et al. 2020's
faithfulness correlation, over windows). Call :func:`occlusion_drops` then
:func:`occlusion_scores`; it is not part of :func:`faithfulness_scores` (nor
of metrics.json): it doubled the block's cost, and on the synthetic family it
does not rank runs as the ground-truth pointing game does
(``benchmarks/results/design_choices.md``).

What a removed step becomes (``baseline``) should not create evidence:

* ``"interpolation"`` (the default): the line between the nearest kept steps
  on either side (the series' mean where no step is kept);
* ``"removal"``: the step is deleted and the series gets shorter (models
  that take variable lengths only; at least one step is always kept);
* ``"blur"``: the series smoothed by a Gaussian of a width of 5 % of its
  length (Dynamask's baseline);
* ``"mean"``: the series' mean per channel (a flat stretch: on a task whose
  anomaly is a flat stretch, this creates the evidence it should remove).

Perturb in the space the network sees: give the already-scaled series and a
``predict`` that takes them, so that no scaler rescales the steps kept. Ties
in a map (upsampled attention is constant over windows) are broken at random,
seeded, never toward the earlier step; every random ranking is seeded, and
the random AOPC uses the random rankings of the curves.

The scores run the same perturbed series many times over (the intact
series, the series with every step removed, AOPCR's shares that are points of
the deletion curve). :class:`SharedForward` runs each distinct one once and
gives probabilities and logits from the same pass.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

__all__ = [
    "AOPCR_FRACTIONS",
    "BASELINES",
    "CAVEAT",
    "ERASER_FRACTIONS",
    "FRACTIONS",
    "GAINS",
    "N_RANDOM",
    "OCCLUSION_KEYS",
    "OCCLUSION_WINDOW",
    "SCORES",
    "SharedForward",
    "aopcr_scores",
    "faithfulness_scores",
    "occlusion_drops",
    "occlusion_scores",
    "perturbation_curves",
    "random_reference",
]

#: What the block can and cannot tell, as the CLI and the report say it.
CAVEAT = (
    "faithfulness says whether the model's output depends on the steps a map ranks high, beyond random "
    "rankings; it does not say whether those steps are where the class evidence truly lies"
)
#: The scores of a map, each also reported for random maps (``random_<score>``), in the order tables show them.
SCORES = ("deletion_auc", "insertion_auc", "comprehensiveness", "sufficiency")
#: The map's advantage over random relevance, per score (above 0: better than chance).
GAINS = ("deletion_gain", "insertion_gain", "comprehensiveness_gain", "sufficiency_gain")

#: The shares of steps removed or revealed along the deletion and insertion curves.
FRACTIONS = tuple(float(f) for f in np.round(np.linspace(0.0, 1.0, 11), 4))
#: ERASER's bins: comprehensiveness and sufficiency average over these shares.
ERASER_FRACTIONS = (0.01, 0.05, 0.1, 0.2, 0.5)
#: AOPCR's shares: the top 5 % to 50 % of the steps, in blocks of 5 %.
AOPCR_FRACTIONS = tuple(round(0.05 * k, 2) for k in range(1, 11))
#: What a removed step becomes; the first is the default.
BASELINES = ("interpolation", "removal", "blur", "mean")
#: Random rankings each score is compared with, everywhere (metrics.json, ``tsattn explain``, benchmarks).
N_RANDOM = 4
#: Occlusion windows' width, as a share of each series' real steps (at least 1 step); they overlap by half.
OCCLUSION_WINDOW = 0.05
#: The occlusion agreement scores of a map (:func:`occlusion_scores`).
OCCLUSION_KEYS = (
    "occlusion_pointing",
    "random_occlusion_pointing",
    "occlusion_pointing_gain",
    "occlusion_pointing_weighted",
    "occlusion_correlation",
)

Predict = Callable[[np.ndarray, "np.ndarray | None"], np.ndarray]
Outputs = Callable[[np.ndarray, "np.ndarray | None"], "tuple[np.ndarray, np.ndarray]"]


class SharedForward:
    """``predict`` and ``logits`` functions for the scores that run each distinct series through the model once.

    The scores perturb the same series over and over: every map's curves
    start from the intact series and end with every step removed, and
    AOPCR's shares of 5 %, 10 %, 20 %, ... 50 % are points of the deletion
    curve too. ``outputs(X, lengths)`` returns class probabilities and logits
    together (:meth:`tsattn.run.LoadedRun.outputs_of_scaled`); :meth:`proba`
    and :meth:`logits` look each series up (its values, its length, and
    whether a length was given at all) and run only the ones not seen
    before, so the scores are the ones the model gives, with fewer forward
    passes. ``run`` counts the series run, ``asked`` the series asked for.

    Examples
    --------
    >>> def outputs(X, lengths=None):
    ...     z = X[:, 0].sum(-1)
    ...     logits = np.stack([-z / 2, z / 2], axis=1)
    ...     return 1 / (1 + np.exp(-logits * 2)), logits
    >>> shared = SharedForward(outputs)
    >>> X = np.ones((3, 1, 4), np.float32)
    >>> shared.proba(X, None).shape, shared.logits(X, None).shape, shared.asked, shared.run
    ((3, 2), (3, 2), 6, 1)
    """

    def __init__(self, outputs: Outputs) -> None:
        self._outputs = outputs
        self._seen: dict[bytes, tuple[np.ndarray, np.ndarray]] = {}
        self.asked = 0
        self.run = 0

    def _key(self, x: np.ndarray, length: int) -> bytes:
        digest = hashlib.blake2b(x.tobytes(), digest_size=16)
        digest.update(np.array([*x.shape, length], np.int64).tobytes())
        return digest.digest()

    def _both(self, X: np.ndarray, lengths: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        X = np.ascontiguousarray(X, dtype=np.float32)
        if len(X) == 0:  # nothing to look up; the model gives the empty outputs their class axis
            return self._outputs(X, lengths)
        marks = np.full(len(X), -1, np.int64) if lengths is None else np.asarray(lengths, np.int64)
        keys = [self._key(X[i], int(marks[i])) for i in range(len(X))]
        missing: dict[bytes, int] = {}
        for i, key in enumerate(keys):
            if key not in self._seen and key not in missing:
                missing[key] = i
        if missing:
            rows = np.fromiter(missing.values(), np.int64, len(missing))
            proba, logits = self._outputs(X[rows], None if lengths is None else marks[rows])
            for j, key in enumerate(missing):
                self._seen[key] = (proba[j], logits[j])
        self.asked += len(X)
        self.run += len(missing)
        found = [self._seen[key] for key in keys]
        return np.array([p for p, _ in found]), np.array([lg for _, lg in found])

    def proba(self, X: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """Class probabilities of ``X`` ``(n, C, T)``, as the model's ``predict``."""
        return self._both(X, lengths)[0]

    def logits(self, X: np.ndarray, lengths: np.ndarray | None = None) -> np.ndarray:
        """Class logits of ``X``, as the model's ``logits``."""
        return self._both(X, lengths)[1]


def _ranks(relevance: np.ndarray, lengths: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Each step's rank within its series, 0 for the most relevant; padding ranks last; ties in random order."""
    n, T = relevance.shape
    score = np.where(np.arange(T)[None, :] < lengths[:, None], relevance, -np.inf)
    order: np.ndarray = np.lexsort((rng.random((n, T)), -score), axis=1)  # by score, then a seeded random key
    ranks = np.empty_like(order)
    ranks[np.arange(n)[:, None], order] = np.arange(T)[None, :]
    return ranks


def _baseline(X: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Each series' mean over its real steps, per channel, ``(n, C, 1)``: the neutral value a removed step gets."""
    valid = (np.arange(X.shape[2])[None, :] < lengths[:, None])[:, None, :]
    total = np.where(valid, np.nan_to_num(X), 0.0).sum(-1, keepdims=True)
    return np.asarray(total / np.maximum(valid.sum(-1, keepdims=True), 1))


def _blurred(X: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Each series smoothed over its real steps by a Gaussian of sigma 5 % of its length (at least 1 step)."""
    from scipy.ndimage import gaussian_filter1d

    out = X.copy()
    for i, n in enumerate(lengths):
        n = int(n)
        if n > 1:
            out[i, :, :n] = gaussian_filter1d(X[i, :, :n], sigma=max(1.0, 0.05 * n), axis=-1, mode="nearest")
    return out


def _interpolated(x: np.ndarray, removed: np.ndarray, n: int) -> np.ndarray:
    """Series ``x`` ``(C, T)`` with its ``removed`` real steps replaced by the line between the nearest kept ones."""
    kept = np.flatnonzero(~removed[:n])
    if len(kept) == n:
        return x
    out = x.copy()
    if len(kept) == 0:  # nothing to draw a line from: the series' mean, per channel
        out[:, :n] = x[:, :n].mean(-1, keepdims=True)
        return out
    gone = np.flatnonzero(removed[:n])
    for c in range(x.shape[0]):
        out[c, gone] = np.interp(gone, kept, x[c, kept])
    return out


def perturb(
    X: np.ndarray, replace: np.ndarray, lengths: np.ndarray, baseline: str = "interpolation"
) -> tuple[np.ndarray, np.ndarray]:
    """Copies of ``X`` ``(n, C, T)`` with the steps ``replace`` ``(n, F, T)`` marks removed, ``(n * F, C, T)``,
    and their lengths ``(n * F,)``.

    Examples
    --------
    >>> X = np.array([[[0.0, 1.0, 5.0, 3.0]]], np.float32)
    >>> gone = np.array([[[False, False, True, False]]])
    >>> [perturb(X, gone, np.array([4]), b)[0][0, 0].tolist() for b in ("interpolation", "mean", "removal")]
    [[0.0, 1.0, 2.0, 3.0], [0.0, 1.0, 2.25, 3.0], [0.0, 1.0, 3.0, 0.0]]
    """
    if baseline not in BASELINES:
        raise ValueError(f"baseline: must be one of {', '.join(BASELINES)}; got {baseline!r}")
    n, F, T = replace.shape
    C = X.shape[1]
    replace = replace & (np.arange(T)[None, None, :] < lengths[:, None, None])  # padding stays padding
    new_lengths = np.repeat(lengths, F)
    if baseline in ("mean", "blur"):
        base = _baseline(X, lengths) if baseline == "mean" else _blurred(X, lengths)
        Xp = np.where(replace[:, :, None, :], base[:, None], X[:, None]).reshape(n * F, C, T)
        return Xp.astype(np.float32), new_lengths
    Xp = np.zeros((n * F, C, T), np.float32)
    for i in range(n):
        L = int(lengths[i])
        for j in range(F):
            gone = replace[i, j]
            if baseline == "interpolation":
                Xp[i * F + j] = _interpolated(X[i], gone, L)
                continue
            keep = np.flatnonzero(~gone[:L])
            if len(keep) == 0:  # removal keeps at least one step: the last one ranked
                keep = np.array([int(np.flatnonzero(gone[:L])[-1])])
            Xp[i * F + j, :, : len(keep)] = X[i][:, keep]
            new_lengths[i * F + j] = len(keep)
    return Xp, new_lengths


def perturbation_curves(
    predict: Predict,
    X: np.ndarray,
    relevance: np.ndarray,
    *,
    lengths: np.ndarray | None = None,
    fractions: Sequence[float] = FRACTIONS,
    target: np.ndarray | None = None,
    baseline: str = "interpolation",
    seed: int = 0,
    kinds: Sequence[str] = ("deletion", "insertion"),
) -> dict[str, np.ndarray]:
    """Deletion and insertion curves of one relevance map, per series (``kinds``: which of the two to compute).

    ``predict(X, lengths)`` returns class probabilities for raw series
    ``X`` ``(b, C, T)``. ``target`` is the class each series' probability is
    tracked for (default: the class predicted on the intact series). Returns
    ``{"deletion": (n, F), "insertion": (n, F), "target": (n,), "full": (n,)}``:
    the target's probability with the top ``fractions[j]`` share of a series'
    real steps removed (deletion) or revealed (insertion), and on the intact
    series (``full``). ``baseline`` is what a removed step becomes
    (:data:`BASELINES`); ``seed`` orders tied steps.

    Examples
    --------
    A model that reads one step (the third) and a map that points at it:

    >>> def predict(X, lengths=None):
    ...     p = 1 / (1 + np.exp(-4 * X[:, 0, 2]))
    ...     return np.stack([1 - p, p], axis=1)
    >>> X = np.array([[[0.0, 0.0, 1.0, 0.0]]])
    >>> curves = perturbation_curves(predict, X, np.array([[0.0, 0.1, 0.8, 0.1]]), fractions=[0.0, 0.25, 1.0],
    ...                              baseline="mean")
    >>> curves["deletion"].round(3).tolist(), curves["insertion"].round(3).tolist()
    ([[0.982, 0.731, 0.731]], [[0.731, 0.982, 0.982]])
    """
    if unknown := set(kinds) - {"deletion", "insertion"}:
        raise ValueError(f"kinds: each must be deletion or insertion; got {sorted(unknown)}")
    X = np.asarray(X, dtype=np.float32)
    n, _, T = X.shape
    lengths = np.full(n, T, dtype=np.int64) if lengths is None else np.asarray(lengths, dtype=np.int64)
    full = predict(X, None if lengths.min() == T else lengths)
    target = full.argmax(1) if target is None else np.asarray(target)
    ranks = _ranks(np.asarray(relevance, dtype=np.float64), lengths, np.random.default_rng(seed))
    counts = np.rint(np.asarray(fractions, dtype=np.float64)[None, :] * lengths[:, None]).astype(np.int64)  # (n, F)
    out = {}
    for kind in kinds:
        chosen = ranks[:, None, :] < counts[:, :, None]  # (n, F, T): the top-k steps
        Xp, Lp = perturb(X, chosen if kind == "deletion" else ~chosen, lengths, baseline)
        proba = predict(Xp, None if Lp.min() == T else Lp)
        out[kind] = proba[np.arange(len(proba)), np.repeat(target, counts.shape[1])].reshape(n, -1).astype(np.float64)
    return {
        **out,
        "target": target,
        "full": full[np.arange(n), target].astype(np.float64),
        "n_classes": int(full.shape[1]),
    }


def _auc(curve: np.ndarray, fractions: Sequence[float]) -> float:
    f = np.asarray(fractions, dtype=np.float64)
    c = np.asarray(curve, dtype=np.float64)
    return float(np.sum((c[1:] + c[:-1]) * np.diff(f)) / 2)


def _grid() -> list[float]:
    return sorted(set(FRACTIONS) | set(ERASER_FRACTIONS))


def random_reference(
    predict: Predict,
    X: np.ndarray,
    *,
    lengths: np.ndarray | None = None,
    n_random: int = N_RANDOM,
    seed: int = 0,
    baseline: str = "interpolation",
    logits: Predict | None = None,
) -> dict[str, Any]:
    """The curves (and, with ``logits``, the AOPC) of ``n_random`` seeded random rankings of ``X``'s steps.

    They do not depend on the map, so one reference serves every map of the
    same series: pass it to :func:`faithfulness_scores` as ``reference``.
    """
    X = np.asarray(X, dtype=np.float32)
    n, _, T = X.shape
    lengths_ = np.full(n, T, dtype=np.int64) if lengths is None else np.asarray(lengths, dtype=np.int64)
    target = predict(X, None if lengths_.min() == T else lengths_).argmax(1)
    curves = [
        perturbation_curves(predict, X, r, lengths=lengths_, fractions=_grid(), target=target, baseline=baseline)
        for r in _random_maps(n, T, n_random, seed)
    ]
    reference: dict[str, Any] = {"curves": curves, "key": (n, T, max(n_random, 1), seed, baseline)}
    if logits is not None:
        reference["aopc"] = _random_aopc(logits, X, lengths_, baseline, n_random, seed)
    return reference


def faithfulness_scores(
    predict: Predict,
    X: np.ndarray,
    relevance: np.ndarray,
    *,
    lengths: np.ndarray | None = None,
    n_random: int = N_RANDOM,
    seed: int = 0,
    baseline: str = "interpolation",
    logits: Predict | None = None,
    reference: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Deletion and insertion AUCs, comprehensiveness and sufficiency of a relevance map, and the same for random maps.

    The curves run over :data:`FRACTIONS` and ERASER's bins
    (:data:`ERASER_FRACTIONS`); the random scores average ``n_random``
    seeded random rankings of the same steps. Every score is a mean over the
    series. With ``logits`` (a ``predict`` that returns class logits) the
    block adds :func:`aopcr_scores`. ``reference`` (from
    :func:`random_reference`, with the same settings) saves recomputing the
    random rankings for each map of the same series. ``deletion_gain`` and ``insertion_gain`` are the map's advantage
    over random (above 0: better than chance), ``comprehensiveness_gain`` and
    ``sufficiency_gain`` likewise (the map's comprehensiveness minus random's;
    random's sufficiency minus the map's).

    Examples
    --------
    A model that reads only the third step, and three maps:

    >>> def predict(X, lengths=None):
    ...     p = 1 / (1 + np.exp(-4 * X[:, 0, 2]))
    ...     return np.stack([1 - p, p], axis=1)
    >>> X = np.zeros((1, 1, 10), np.float32); X[0, 0, 2] = 1.0
    >>> perfect = faithfulness_scores(predict, X, np.eye(10)[[2]], baseline="mean")
    >>> inverted = faithfulness_scores(predict, X, 1 - np.eye(10)[[2]], baseline="mean")
    >>> perfect["deletion_auc"] < perfect["random_deletion_auc"] < inverted["deletion_auc"]
    True
    >>> round(perfect["comprehensiveness"], 3), round(inverted["comprehensiveness"], 3)
    (0.23, 0.0)
    """
    X = np.asarray(X, dtype=np.float32)
    n, _, T = X.shape
    grid = _grid()
    eraser = [grid.index(f) for f in ERASER_FRACTIONS]
    lengths_ = np.full(n, T, dtype=np.int64) if lengths is None else np.asarray(lengths, dtype=np.int64)
    if reference is None:
        reference = random_reference(
            predict, X, lengths=lengths_, n_random=n_random, seed=seed, baseline=baseline, logits=logits
        )
    elif reference["key"] != (n, T, max(n_random, 1), seed, baseline):
        raise ValueError(f"reference: made for {reference['key']}, not for {(n, T, max(n_random, 1), seed, baseline)}")
    real = perturbation_curves(predict, X, relevance, lengths=lengths_, fractions=grid, baseline=baseline, seed=seed)
    random = reference["curves"]
    on_curve = [grid.index(f) for f in FRACTIONS]

    def scores(curves: dict[str, np.ndarray]) -> dict[str, float]:
        deletion, insertion = curves["deletion"].mean(0), curves["insertion"].mean(0)
        full = curves["full"][:, None]
        return {
            "deletion_auc": _auc(deletion[on_curve], FRACTIONS),
            "insertion_auc": _auc(insertion[on_curve], FRACTIONS),
            "comprehensiveness": float((full - curves["deletion"][:, eraser]).mean()),
            "sufficiency": float((full - curves["insertion"][:, eraser]).mean()),
        }

    mine = scores(real)
    rand = {k: float(np.mean([scores(r)[k] for r in random])) for k in mine}
    gains = {
        "deletion_gain": rand["deletion_auc"] - mine["deletion_auc"],
        "insertion_gain": mine["insertion_auc"] - rand["insertion_auc"],
        "comprehensiveness_gain": mine["comprehensiveness"] - rand["comprehensiveness"],
        "sufficiency_gain": rand["sufficiency"] - mine["sufficiency"],
    }
    # The room a score has: from chance (1/K) up to the intact probability. With 2 classes the curves floor near
    # 0.5, so a gain of 0.03 on a model at 0.56 is half of what any map could show.
    chance = 1.0 / real["n_classes"]
    room = float(np.mean(real["full"] - chance))
    # A series nothing moves: every curve (the map's and random's, both kinds) within 1e-3 of the intact value.
    still = np.all(np.abs(real["deletion"] - real["full"][:, None]) < 1e-3, axis=1) & np.all(
        np.abs(real["insertion"] - real["full"][:, None]) < 1e-3, axis=1
    )
    for r in random:
        still &= np.all(np.abs(r["deletion"] - r["full"][:, None]) < 1e-3, axis=1)
    return {
        **mine,
        **{f"random_{k}": v for k, v in rand.items()},
        **gains,
        **{f"{k}_of_room": (v / room if room > 1e-6 else None) for k, v in gains.items()},
        "chance": chance,
        "room": room,
        "uninformative_series": int(still.sum()),
        "curves": {
            "fractions": list(FRACTIONS),
            "deletion": real["deletion"][:, on_curve].mean(0).tolist(),
            "insertion": real["insertion"][:, on_curve].mean(0).tolist(),
            "random_deletion": np.mean([r["deletion"][:, on_curve].mean(0) for r in random], axis=0).tolist(),
            "random_insertion": np.mean([r["insertion"][:, on_curve].mean(0) for r in random], axis=0).tolist(),
        },
        "n_series": int(n),
        "baseline": baseline,
        "n_random": max(n_random, 1),
        "eraser_fractions": list(ERASER_FRACTIONS),
        **(
            aopcr_scores(
                logits,
                X,
                relevance,
                lengths=lengths_,
                n_random=n_random,
                seed=seed,
                baseline=baseline,
                random_aopc=reference.get("aopc"),
            )
            if logits is not None
            else {}
        ),
    }


def aopcr_scores(
    logits: Predict,
    X: np.ndarray,
    relevance: np.ndarray,
    *,
    lengths: np.ndarray | None = None,
    n_random: int = N_RANDOM,
    seed: int = 0,
    baseline: str = "interpolation",
    random_aopc: float | None = None,
) -> dict[str, Any]:
    """MILLET's AOPCR: the mean drop of the predicted class's logit as the top 5-50 % of steps are removed,
    beyond the same for random rankings.

    ``logits(X, lengths)`` returns class logits ``(n, K)`` (for one binary
    column ``l``, give ``[-l/2, l/2]``: :func:`~tsattn.inference.predict_logits`
    does). Returns ``aopc`` (the map's), ``random_aopc``, ``aopcr`` (their
    difference, in logits) and ``aopcr_normalized`` (divided by
    ``|aopc| + |random_aopc|``: from -1 to 1, comparable across runs).

    Examples
    --------
    On a linear model the drop is exact: the predicted class's logit is
    ``4 * x[2] / 2``, and step 2 (value 1) becomes the mean, 0.05, at every
    share: a drop of ``2 * (1 - 0.05)``.

    >>> w = np.zeros(20); w[2] = 4.0
    >>> def logits(X, lengths=None):
    ...     z = X[:, 0] @ w
    ...     return np.stack([-z / 2, z / 2], axis=1)
    >>> X = np.zeros((1, 1, 20), np.float32); X[0, 0, 2] = 1.0
    >>> s = aopcr_scores(logits, X, np.eye(20)[[2]], baseline="mean")
    >>> round(s["aopc"], 4), s["aopcr"] > 0
    (1.9, True)
    """
    X = np.asarray(X, dtype=np.float32)
    n, _, T = X.shape
    lengths_ = np.full(n, T, dtype=np.int64) if lengths is None else np.asarray(lengths, dtype=np.int64)
    mine = _aopc(logits, X, np.asarray(relevance, dtype=np.float64), lengths_, baseline, seed)
    if random_aopc is None:
        random_aopc = _random_aopc(logits, X, lengths_, baseline, n_random, seed)
    rand = random_aopc
    scale = abs(mine) + abs(rand)
    return {
        "aopc": mine,
        "random_aopc": rand,
        "aopcr": mine - rand,
        "aopcr_normalized": (mine - rand) / scale if scale > 1e-12 else None,
        "aopcr_fractions": list(AOPCR_FRACTIONS),
    }


def _random_maps(n: int, T: int, n_random: int, seed: int) -> list[np.ndarray]:
    """The ``n_random`` seeded random rankings every random score uses (the curves' and AOPC's alike)."""
    rng = np.random.default_rng(seed)
    return [rng.random((n, T)) for _ in range(max(n_random, 1))]


def _random_aopc(logits: Predict, X: np.ndarray, lengths: np.ndarray, baseline: str, n_random: int, seed: int) -> float:
    """The mean AOPC of the ``n_random`` random rankings of :func:`_random_maps` (the curves' own)."""
    n, _, T = X.shape
    return float(np.mean([_aopc(logits, X, r, lengths, baseline, seed) for r in _random_maps(n, T, n_random, seed)]))


def _aopc(
    logits: Predict, X: np.ndarray, relevance: np.ndarray, lengths: np.ndarray, baseline: str, seed: int
) -> float:
    """The mean drop of the predicted class's logit with the top 5-50 % of the steps removed."""
    curves = perturbation_curves(  # the target: the class of the largest logit on the intact series
        logits,
        X,
        relevance,
        lengths=lengths,
        fractions=AOPCR_FRACTIONS,
        baseline=baseline,
        seed=seed,
        kinds=("deletion",),
    )
    return float((curves["full"][:, None] - curves["deletion"]).mean())


def occlusion_drops(
    logits: Predict,
    X: np.ndarray,
    *,
    lengths: np.ndarray | None = None,
    window: float = OCCLUSION_WINDOW,
    baseline: str = "interpolation",
) -> dict[str, np.ndarray]:
    """How far the predicted class's logit drops when each window of a series is removed: the model's own map.

    Each series is covered by windows of ``window`` of its real steps (at
    least 1), starting every half window, the last one flush with its end.
    Returns ``{"windows": (n, W, T) bool, "valid": (n, W) bool, "drops": (n, W)}``
    (series with fewer windows than ``W`` have invalid ones, whose drop is
    NaN). It does not depend on any map: one serves every map of the same series.

    Examples
    --------
    A model that reads the third of 20 steps: only the window holding it drops the logit.

    >>> w = np.zeros(20); w[2] = 4.0
    >>> def logits(X, lengths=None):
    ...     z = X[:, 0] @ w
    ...     return np.stack([-z / 2, z / 2], axis=1)
    >>> X = np.zeros((1, 1, 20), np.float32); X[0, 0, 2] = 1.0
    >>> occ = occlusion_drops(logits, X, baseline="mean")
    >>> occ["drops"][0].round(2).tolist()[:4]
    [0.0, 0.0, 1.9, 0.0]
    """
    X = np.asarray(X, dtype=np.float32)
    n, _, T = X.shape
    lengths_ = np.full(n, T, dtype=np.int64) if lengths is None else np.asarray(lengths, dtype=np.int64)
    starts: list[list[int]] = []
    widths: list[int] = []
    for L in lengths_.tolist():
        w = max(1, round(window * L))
        s = list(range(0, max(L - w, 0) + 1, max(1, w // 2)))
        if s[-1] != max(L - w, 0):
            s.append(max(L - w, 0))
        starts.append(s)
        widths.append(w)
    W = max(len(s) for s in starts)
    windows = np.zeros((n, W, T), dtype=bool)
    valid = np.zeros((n, W), dtype=bool)
    for i, (s, w) in enumerate(zip(starts, widths, strict=True)):
        for j, a in enumerate(s):
            windows[i, j, a : a + w] = True
        valid[i, : len(s)] = True
    full = np.asarray(logits(X, None if lengths_.min() == T else lengths_), dtype=np.float64)
    target = full.argmax(1)
    Xp, Lp = perturb(X, windows, lengths_, baseline)
    out = np.asarray(logits(Xp, None if Lp.min() == T else Lp), dtype=np.float64)
    kept = out[np.arange(len(out)), np.repeat(target, W)].reshape(n, W)
    drops = np.where(valid, full[np.arange(n), target][:, None] - kept, np.nan)
    return {"windows": windows, "valid": valid, "drops": drops}


def occlusion_scores(
    relevance: np.ndarray,
    occlusion: dict[str, np.ndarray],
    *,
    lengths: np.ndarray | None = None,
    seed: int = 0,
) -> dict[str, float | None]:
    """Does a map peak where removing the series hurts the model most? Its agreement with :func:`occlusion_drops`.

    Returns :data:`OCCLUSION_KEYS`: ``occlusion_pointing`` (the share of
    series whose map peaks inside a window of the largest drop),
    ``random_occlusion_pointing`` (the share a random peak reaches: those
    windows' share of the real steps), ``occlusion_pointing_gain`` (the
    difference), ``occlusion_pointing_weighted`` (each series weighted by its
    largest drop minus its median drop; ``None`` where no window drops more than
    another) and ``occlusion_correlation`` (the mean over series of the Spearman
    correlation between each window's sum of the map and its drop; series where
    either is constant are left out, ``None`` if all are). Ties in the map are
    broken at random, seeded.

    Examples
    --------
    One series of 4 steps, a window on each, the third's removal dropping the logit most:

    >>> occ = {"windows": np.eye(4, dtype=bool)[None], "valid": np.ones((1, 4), dtype=bool),
    ...        "drops": np.array([[0.0, 0.2, 1.5, 0.1]])}
    >>> [occlusion_scores(np.eye(4)[[k]], occ)["occlusion_pointing"] for k in (2, 0)]
    [1.0, 0.0]
    >>> round(occlusion_scores(np.array([[0.1, 0.2, 0.4, 0.3]]), occ)["occlusion_correlation"], 3)
    0.8
    """
    from scipy.stats import rankdata

    relevance = np.asarray(relevance, dtype=np.float64)
    n, T = relevance.shape
    lengths_ = np.full(n, T, dtype=np.int64) if lengths is None else np.asarray(lengths, dtype=np.int64)
    peak = _ranks(relevance, lengths_, np.random.default_rng(seed)).argmin(1)  # rank 0: the map's peak
    windows, valid, drops = occlusion["windows"], occlusion["valid"], occlusion["drops"]
    hits, chances, contrasts, rhos = [], [], [], []
    for i in range(n):
        d = drops[i, valid[i]]
        win = windows[i, valid[i]]  # (w, T)
        top = d >= d.max() - 1e-6 * max(1.0, abs(float(d.max())))
        hits.append(bool(win[top, peak[i]].any()))
        chances.append(float(win[top].any(0).sum()) / max(int(lengths_[i]), 1))
        contrasts.append(float(d.max() - np.median(d)))
        mass = win.astype(np.float64) @ relevance[i]
        if len(d) > 2 and np.ptp(mass) > 0 and np.ptp(d) > 0:
            rhos.append(float(np.corrcoef(rankdata(mass), rankdata(d))[0, 1]))
    weight = float(np.sum(contrasts))
    pointing = float(np.mean(hits))
    return {
        "occlusion_pointing": pointing,
        "random_occlusion_pointing": float(np.mean(chances)),
        "occlusion_pointing_gain": pointing - float(np.mean(chances)),
        "occlusion_pointing_weighted": float(np.dot(contrasts, hits) / weight) if weight > 0 else None,
        "occlusion_correlation": float(np.mean(rhos)) if rhos else None,
    }
