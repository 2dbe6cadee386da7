"""The command line: a thin layer over :mod:`tsattn.workflows`.

Each command parses its options, calls one workflow and prints what it
returned. Library errors name Python parameters; :func:`_guard` shows them
with flag names and exits with code 2, never a traceback.

Every flag is one parameter of its command, as Typer declares flags: the
signature is the command's surface (each flag's type, default and help), so
``train`` has one parameter per flag. The command hands the workflow typed
objects, not the loose flags: the training settings the user gave (a partial
:class:`~tsattn.config.TrainConfig`, resolved over the model's recipe by the
workflow) and a :class:`~tsattn.workflows.DataSpec` for the data.

Heavy libraries (torch, Lightning, scikit-learn, matplotlib) are imported
inside the commands, so ``tsattn --help`` answers at once.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, ParamSpec, TypeVar

import typer

from ._defaults import DEFAULT_MODEL
from ._errors import TsattnError, as_flags

if TYPE_CHECKING:
    from .workflows import DataSpec

P = ParamSpec("P")
R = TypeVar("R")

#: Python parameters whose flag is not ``--`` + the name with dashes.
FLAGS = {"fmt": "--format", "test_data": "--test-data", "open_it": "--open"}

app = typer.Typer(
    name="tsattn",
    help="Time-series classification with attention you can see and measure.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


def _print_version(value: bool) -> None:
    if value:
        from . import __version__

        typer.echo(f"tsattn {__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    version: bool = typer.Option(
        False, "--version", callback=_print_version, is_eager=True, help="print the version and exit"
    ),
) -> None:
    """Time-series classification with attention you can see and measure."""


# The tutorial's recipe, tuned to finish the whole article in under 5 minutes on 2 CPU cores.
DEMO_OUT = Path("runs/demo")


def _fail(message: str) -> NoReturn:
    typer.echo(f"Error: {message}", err=True)
    raise typer.Exit(code=2)


def _guard(fn: Callable[P, R]) -> Callable[P, R]:
    """Turn bad input into a one-line message and exit code 2, never a traceback."""

    @functools.wraps(fn)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        try:
            return fn(*args, **kwargs)
        except TsattnError as exc:
            _fail(as_flags(exc, FLAGS))
        except KeyboardInterrupt as exc:
            run = getattr(exc, "run", None)
            if run is not None:
                typer.echo(
                    f"Interrupted: {run} keeps its last finished epoch (state 'interrupted'); continue it "
                    f"with: tsattn train --resume {run}",
                    err=True,
                )
            else:
                typer.echo("Interrupted.", err=True)
            raise typer.Exit(code=130) from None

    return wrapper


def _reader(
    label_column: str | None,
    id_column: str | None,
    time_column: str | None,
    value_column: str,
    channel_column: str | None,
    variable_length: bool = False,
) -> dict[str, Any]:
    """The reader flags shared by train and benchmark (CSV/Parquet column names, short wide rows)."""
    return {
        "label_column": label_column,
        "id_column": id_column,
        "time_column": time_column,
        "value_column": value_column,
        "channel_column": channel_column,
        "variable_length": variable_length or None,  # recorded only when given
    }


LABEL_OPT = typer.Option("label", "--label-column", help="CSV/Parquet: the label column")
ID_OPT = typer.Option(
    None,
    "--id-column",
    help="CSV/Parquet: the series id column (long format: one row per observation; wide: never read as a time step)",
)
TIME_OPT = typer.Option(None, "--time-column", help="long format: the column to order steps by")
VALUE_OPT = typer.Option("value", "--value-column", help="long format: the value column")
CHANNEL_OPT = typer.Option(None, "--channel-column", help="long format: the channel column (multivariate)")
VARIABLE_OPT = typer.Option(
    False,
    "--variable-length",
    help="wide CSV/Parquet: a row whose last values are missing is a shorter series, padded at the end "
    "(without this flag such a short row is refused, naming the row)",
)
DATA_HELP = "dataset file (.ts .tsv .arff .csv .parquet .npz) or ucr:<Name> (GunPoint, BasicMotions, ...)"


@app.command(
    epilog="Examples:\n\n  tsattn generate --config configs/seed_default.json --seed 0 --out data.npz\n\n"
    "  tsattn generate --config big.json --shards 64 --workers 2 --out data/  (read on demand, any size)"
)
@_guard
def generate(
    config: Path | None = typer.Option(
        None, "--config", help="dataset config JSON (the seed's keys); defaults to the seed's"
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="random seed; the same seed gives byte-identical data"),
    out: Path = typer.Option(..., "--out", help="output .npz file, or a directory with --shards"),
    shards: int | None = typer.Option(
        None,
        "--shards",
        help="write a directory of memory-mappable .npy files in this many shards, never holding the dataset in memory",
    ),
    workers: int = typer.Option(1, "--workers", help="processes filling shards (the bytes do not depend on it)"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
) -> None:
    """Generate the sine / rectified-sine dataset with its ground-truth segments."""
    import time

    from .config import DatasetConfig, load_dataset_config

    cfg = load_dataset_config(config) if config else DatasetConfig()
    t = time.perf_counter()
    if shards is not None or workers != 1:
        from .data.shards import write_shards

        m = write_shards(
            cfg, seed, out, shards=shards if shards is not None else 1, workers=workers, progress=not quiet
        )
        typer.echo(
            f"Wrote {out}/: {m['n_series']} series x {m['seq_len']} points in {len(m['shards'])} shard(s) "
            f"in {time.perf_counter() - t:.2f} s (train with --data {out})"
        )
        return
    from .data import generate as gen
    from .data import save_npz

    ds = gen(cfg, seed=seed)
    save_npz(ds, out)
    n1 = int(ds.y.sum())
    typer.echo(
        f"Wrote {out}: {len(ds)} series x {ds.seq_len} points ({len(ds) - n1} normal, {n1} rectified) "
        f"in {time.perf_counter() - t:.2f} s"
    )


@app.command(
    epilog="Examples:\n\n  tsattn train --config configs/seed_default.json --out runs/seed0\n\n"
    "  tsattn train --data data.npz --model lstm_attention --seed 1 --max-epochs 20 --out runs/s1\n\n"
    "  tsattn train --resume runs/s1   (after a crash: continue from the last epoch)\n\n"
    "  tsattn train --data data/ --accelerator cpu --devices 2 --strategy ddp --out runs/ddp"
)
@_guard
def train(
    ctx: typer.Context,
    config: Path | None = typer.Option(None, "--config", help="dataset config JSON: generate the data first"),
    data: str | None = typer.Option(None, "--data", help=DATA_HELP),
    test_data: Path | None = typer.Option(None, "--test-data", help="a separate test file (else a 20% split)"),
    model: str = typer.Option(DEFAULT_MODEL, "--model", help="registered model name (see `tsattn models`)"),
    seed: int = typer.Option(0, "--seed", min=0, help="seeds data generation, split, weights and batch order"),
    out: Path | None = typer.Option(None, "--out", help="run directory to create"),
    resume: Path | None = typer.Option(
        None,
        "--resume",
        help="continue this run directory from its last checkpoint, with its own config, seed and data",
    ),
    max_epochs: int | None = typer.Option(
        None,
        "--max-epochs",
        help="epoch budget, kept as given: it turns the recipe's step budget off (min_steps and max_steps 0, as "
        "config.json's train block records) [default: the model's recipe]",
    ),
    ensemble: int | None = typer.Option(
        None,
        "--ensemble",
        help="train K networks with different initial weights and average them, kept as given: it turns the "
        "recipe's ensemble_below off (one network on large training sets) [default: the model's recipe]",
    ),
    batch_size: int | None = typer.Option(None, "--batch-size", help="batch size [default: the model's recipe]"),
    lr: float | None = typer.Option(None, "--lr", help="peak learning rate [default: the model's recipe]"),
    patience: int | None = typer.Option(
        None,
        "--patience",
        help="early-stopping patience in epochs [default: the recipe's, 5; where min_steps raises the epoch "
        "budget, a quarter of that budget if larger; the log's first line shows the patience in force]",
    ),
    scaling: str | None = typer.Option(
        None,
        "--scaling",
        help="znorm | znorm_level | standard | both | diff | none; turns the recipe's --scaling-clip off "
        "[default: the model's recipe]",
    ),
    scaling_clip: float | None = typer.Option(
        None,
        "--scaling-clip",
        help="limit the scaled input to +-this many standard deviations (0: off) [default: the model's recipe]",
    ),
    attention_smoothing: float | None = typer.Option(
        None, "--attention-smoothing", help="total-variation penalty on the attention [default: the model's recipe]"
    ),
    attention_entropy: float | None = typer.Option(
        None,
        "--attention-entropy",
        help="penalty on the attention's entropy, in units of log(length) [default: the model's recipe]",
    ),
    precision: str | None = typer.Option(
        None,
        "--precision",
        help="32-true | bf16-mixed: train under bfloat16 autocast (weights and predictions stay float32) "
        "[default: the model's recipe, 32-true]",
    ),
    accelerator: str | None = typer.Option(None, "--accelerator", help="Lightning accelerator [default: auto]"),
    devices: str | None = typer.Option(None, "--devices", help="Lightning devices: a count, a list or auto"),
    num_nodes: int | None = typer.Option(None, "--num-nodes", help="Lightning num_nodes (multi-node DDP)"),
    strategy: str | None = typer.Option(None, "--strategy", help="Lightning strategy: auto, ddp, ..."),
    logger: str = typer.Option("csv", "--logger", help="csv | tensorboard | mlflow | none (under RUN/logs)"),
    nan_policy: str | None = typer.Option(None, "--nan-policy", help="error | interpolate | zero [default: error]"),
    label_column: str = LABEL_OPT,
    id_column: str | None = ID_OPT,
    time_column: str | None = TIME_OPT,
    value_column: str = VALUE_OPT,
    channel_column: str | None = CHANNEL_OPT,
    variable_length: bool = VARIABLE_OPT,
    model_param: list[str] | None = typer.Option(
        None,
        "--model-param",
        help="a hyperparameter of the model as KEY=VALUE (VALUE read as JSON, else as text), repeatable; e.g. "
        "--model-param pooling=conjunctive (class-specific MIL pooling) or pooling=average (global average "
        "pooling with its class activation map) for cnn_attention and inception_attention",
    ),
    faithfulness: bool = typer.Option(
        True,
        "--faithfulness/--no-faithfulness",
        help="score how faithful each relevance method is on 32 test series (up to about a quarter of the wall time "
        "on small datasets); `tsattn evaluate --run` adds it later",
    ),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar or report"),
) -> None:
    """Train a model and write a run directory (config, weights, metrics, plots, logs)."""
    from .training.trainer import global_rank

    quiet = quiet or global_rank() != 0  # DDP: only rank 0 talks
    if resume is not None:
        given = _given_flags(ctx, keep=("resume", "quiet"))
        if given:
            _fail(
                f"--resume: continues the run with its own config, data and settings, so it cannot take "
                f"{', '.join(given)}; start a new run with --out for other settings"
            )
        from .workflows import resume_run

        m = resume_run(resume, progress=not quiet, verbose=not quiet)
        if m:  # --quiet silences progress, never where the run went
            typer.echo(
                f"{'' if quiet else chr(10)}Run {resume}/ resumed and finished ({m['epochs_run']} epochs, "
                f"best epoch {m['best_epoch'] + 1})"
            )
        return
    if (config is None) == (data is None):
        _fail("train: give exactly one of --config CFG.json (generate data) or --data FILE")
    if out is None:
        _fail("--out: required (the run directory to create)")
    dev = None if devices is None else (int(devices) if devices.isdigit() else devices)
    options = {
        "seed": seed,
        "max_epochs": max_epochs,
        "ensemble": ensemble,
        "batch_size": batch_size,
        "lr": lr,
        "patience": patience,
        "scaling": scaling,
        "scaling_clip": scaling_clip,
        "attention_smoothing": attention_smoothing,
        "attention_entropy": attention_entropy,
        "precision": precision,
        "accelerator": accelerator,
        "devices": dev,
        "num_nodes": num_nodes,
        "strategy": strategy,
        "nan_policy": nan_policy,
        "model_params": _model_params(model_param),
    }
    from .workflows import DataSpec

    reader = _reader(label_column, id_column, time_column, value_column, channel_column, variable_length)
    _train(
        model,
        options,
        out,
        DataSpec(data, config, test_data, reader),
        quiet=quiet,
        logger=logger,
        faithfulness=faithfulness,
    )


def _train(
    model: str,
    given: dict[str, Any],
    out: Path,
    data: DataSpec,
    *,
    quiet: bool,
    logger: str = "csv",
    replace: bool = False,
    faithfulness: bool = True,
) -> dict[str, Any]:
    """:func:`~tsattn.workflows.train.train_command`, and the line that says where the run went."""
    from .workflows import train_command

    m = train_command(model, given, out, data, quiet=quiet, logger=logger, replace=replace, faithfulness=faithfulness)
    if m:  # --quiet silences progress and the report, never where the run went
        typer.echo(
            f"{'' if quiet else chr(10)}Run saved in {out}/ ({m['epochs_run']} epochs, best epoch "
            f"{m['best_epoch'] + 1}, {m['train_seconds']:.1f} s of training)"
        )
    return m


def _model_params(pairs: list[str] | None) -> dict[str, Any] | None:
    """``--model-param KEY=VALUE`` pairs as a dict; ``None`` when none was given."""
    if not pairs:
        return None
    params: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        if not sep or not key.strip():
            _fail(f"--model-param: must be KEY=VALUE; got {pair!r}")
        try:
            params[key.strip()] = json.loads(text)
        except ValueError:
            params[key.strip()] = text
    return params


def _given_flags(ctx: typer.Context, keep: tuple[str, ...]) -> list[str]:
    """The options given on the command line (not left at their defaults), as flags, except ``keep``."""

    def source(name: str) -> str:  # by name: typer may carry its own copy of click's ParameterSource enum
        return getattr(ctx.get_parameter_source(name), "name", "")

    return [p.opts[0] for p in ctx.command.params if p.name not in keep and source(p.name) == "COMMANDLINE"]


@app.command(
    epilog="Examples:\n\n  tsattn evaluate --run runs/demo\n\n"
    "  tsattn evaluate --run runs/demo --data other.npz --out runs/demo-on-other"
)
@_guard
def evaluate(
    run: Path = typer.Option(..., "--run", help="run directory"),
    data: str | None = typer.Option(
        None, "--data", help="score this file (or ucr:<Name>, its test split) instead of the run's test split"
    ),
    out: Path | None = typer.Option(
        None,
        "--out",
        help="with --data: where its metrics.json, report.txt and plots go [default: RUN/evaluations/<data name>/]",
    ),
    positive_class: str | None = typer.Option(
        None,
        "--positive-class",
        help="two classes: the class whose precision, recall and F1 are reported [default: the second class name]",
    ),
) -> None:
    """Print the classification report and write metrics.json (the run's own test record only for its test split)."""
    from .workflows import evaluate_run

    if out is not None and data is None:
        _fail("--out: goes with --data; the run's own test split is scored into the run directory")
    evaluate_run(run, data=data, out=out, positive_class=positive_class)


METHOD_HELP = (
    "attention | class_map (models with conjunctive or average pooling) | attention_x_gradient | "
    "integrated_gradients (any model) [default: attention; class_map under average pooling, whose attention is "
    "uniform]"
)


@app.command(
    epilog="Examples:\n\n  tsattn explain --run runs/demo --data data.npz --index 3 --out explain.png\n\n"
    "  tsattn explain --run runs/demo --data data.npz --index 3 --method integrated_gradients --out ig.png"
)
@_guard
def explain(
    run: Path = typer.Option(..., "--run", help="run directory"),
    data: str = typer.Option(
        ..., "--data", help="series to explain: any supported file (labels optional) or ucr:<Name> (its test split)"
    ),
    index: int = typer.Option(0, "--index", help="which series of the file"),
    out: Path = typer.Option(..., "--out", help="output image (.png, .svg or .pdf)"),
    method: str | None = typer.Option(None, "--method", help=METHOD_HELP),
) -> None:
    """Plot one series with the model's relevance (attention by default) over it."""
    from .workflows import explain_run

    info = explain_run(run, data, index, out, method=method)
    method = info["method"]
    typer.echo(f"Series {index}: predicted {info['predicted']} (true {info['true']}); plot written to {out}")
    from .evaluation.faithfulness import CAVEAT

    f = info["faithfulness"]
    if f.get("uninformative_series"):
        typer.echo(
            f"Faithfulness of {method} here: uninformative; no deletion or insertion moves the model's "
            "probability on this series (a saturated model)"
        )
    else:
        share = f.get("deletion_gain_of_room")
        typer.echo(
            f"Faithfulness of {method} here: deletion AUC {f['deletion_auc']:.3f} "
            f"(random {f['random_deletion_auc']:.3f}"
            + ("" if share is None else f"; gain {100 * share:+.0f}% of the room from chance to the intact probability")
            + f"), insertion AUC {f['insertion_auc']:.3f} (random {f['random_insertion_auc']:.3f}), "
            f"comprehensiveness {f['comprehensiveness']:.3f} (random {f['random_comprehensiveness']:.3f}), "
            f"sufficiency {f['sufficiency']:.3f} (random {f['random_sufficiency']:.3f})"
        )
    typer.echo(f"  ({CAVEAT})")


@app.command(epilog="Example: tsattn locate --run runs/demo --data data.npz --out spans.csv")
@_guard
def locate(
    run: Path = typer.Option(..., "--run", help="run directory"),
    data: str = typer.Option(
        ...,
        "--data",
        help="series to locate anomalies in: any supported file (labels optional) or ucr:<Name> (its test split)",
    ),
    out: Path = typer.Option(..., "--out", help="output CSV: one predicted span per series"),
    method: str | None = typer.Option(None, "--method", help=METHOD_HELP),
    mass: float | None = typer.Option(
        None,
        "--mass",
        help="each span is the shortest window holding this share of the relevance [default: the span rule chosen "
        "on the run's validation split where it has true segments, else 0.9]",
    ),
) -> None:
    """Turn relevance into anomaly spans (start, end) per series: a localizer trained on labels alone."""
    from .workflows import locate_run

    s = locate_run(run, data, out, method=method, mass=mass)
    from .evaluation.localization import SpanRule

    typer.echo(
        f"Wrote {s['n_series']} spans to {out} ({s['method']}; each {SpanRule.from_dict(s['rule']).describe()}, "
        f"{s['rule_source']})"
    )
    if "mean_iou" in s:
        typer.echo(f"Mean IoU with the true segments: {s['mean_iou']:.4f} over {s['n_with_segment']} anomalous series")


@app.command(epilog="Example: tsattn demo --out runs/demo")
@_guard
def demo(
    out: Path = typer.Option(DEMO_OUT, "--out", help="run directory"),
    seed: int = typer.Option(0, "--seed", min=0, help="random seed"),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
) -> None:
    """The whole tutorial in one command: generate, train lstm_attention, report, plot attention."""
    import time

    from .workflows import DataSpec

    t = time.perf_counter()
    # the seed task's recipe, whole; the tutorial re-runs in place
    m = _train("lstm_attention", {"seed": seed}, out, DataSpec(), quiet=quiet, replace=True)
    typer.echo(
        f"\nDemo done in {time.perf_counter() - t:.1f} s: accuracy {m['accuracy']:.4f}, "
        f"ROC AUC {m['roc_auc']:.4f}.\nLook at {out}/attention.png and {out}/curves.png."
    )


@app.command(
    epilog="Examples:\n\n  tsattn benchmark --config configs/seed_default.json "
    "--models lstm_attention,cnn_attention,transformer,mlp,cnn,minirocket --seed 0 --out runs/bench\n\n"
    "  tsattn benchmark --data data.npz --models cnn_attention,cnn --out runs/bench"
)
@_guard
def benchmark(
    config: Path | None = typer.Option(None, "--config", help="dataset config JSON [default: the seed's]"),
    data: str | None = typer.Option(None, "--data", help=DATA_HELP),
    test_data: Path | None = typer.Option(None, "--test-data", help="a separate test file (else a 20% split)"),
    models: str = typer.Option(
        f"{DEFAULT_MODEL},lstm_attention,cnn_attention,transformer,mlp,cnn,minirocket",
        "--models",
        help="comma-separated model names; 'minirocket' is aeon's MiniRocketClassifier",
    ),
    seed: int = typer.Option(0, "--seed", min=0, help="random seed: the same split for every model"),
    out: Path = typer.Option(..., "--out", help="output directory"),
    max_epochs: int | None = typer.Option(
        None,
        "--max-epochs",
        help="override every model's epoch budget, kept as given (the recipes' step budgets off: min_steps and "
        "max_steps 0)",
    ),
    ensemble: int | None = typer.Option(None, "--ensemble", help="override every network's ensemble size"),
    scaling: str | None = typer.Option(
        None,
        "--scaling",
        help="znorm | znorm_level | standard | both | diff | none for every model [default: each recipe's]",
    ),
    label_column: str = LABEL_OPT,
    id_column: str | None = ID_OPT,
    time_column: str | None = TIME_OPT,
    value_column: str = VALUE_OPT,
    channel_column: str | None = CHANNEL_OPT,
    variable_length: bool = VARIABLE_OPT,
    quiet: bool = typer.Option(False, "--quiet", help="status lines only, no progress bars"),
) -> None:
    """Train several models on the same split; compare accuracy, speed, memory and size."""
    from .workflows import DataSpec
    from .workflows.benchmark import check_benchmark, markdown_table, run_benchmark

    if config is not None and data is not None:
        _fail("benchmark: give at most one of --config CFG.json (generate data) or --data FILE")
    names = [m.strip() for m in models.split(",") if m.strip()]
    if not names:
        _fail(f"--models: must name at least one model; got {models!r}")
    overrides = {"max_epochs": max_epochs, "ensemble": ensemble, "scaling": scaling}
    check_benchmark(names, seed, overrides)  # unknown models or bad settings fail before any data are made
    reader = _reader(label_column, id_column, time_column, value_column, channel_column, variable_length)
    ds, test_ds, source = DataSpec(data, config, test_data, reader).resolve(seed)
    result = run_benchmark(
        ds, names, seed, out, test_data=test_ds, data_source=source, overrides=overrides or None, progress=not quiet
    )
    typer.echo("\n" + markdown_table(result))
    typer.echo(f"Wrote {out}/benchmark.json, benchmark.md and benchmark.png")


@app.command(epilog="Example: tsattn predict --run runs/demo --data new.npy --out preds.csv --with-attention")
@_guard
def predict(
    run: Path = typer.Option(..., "--run", help="run directory"),
    data: str = typer.Option(
        ...,
        "--data",
        help="series to classify: .npy (read in chunks), .csv/.parquet "
        "(read in batches), .ts, .npz ..., or ucr:<Name> (its test split)",
    ),
    out: Path = typer.Option(..., "--out", help="predictions: .csv or .parquet, one row per series"),
    with_attention: bool = typer.Option(False, "--with-attention", help="also write <out>.attention.npy, row-aligned"),
    chunk: int = typer.Option(8192, "--chunk", min=1, help="series per chunk (bounds memory)"),
    id_column: str | None = typer.Option(
        None,
        "--id-column",
        help="CSV/Parquet: the column holding each series' "
        "id [default: the run's, or a text or pandas-index first column]",
    ),
    variable_length: bool = typer.Option(
        False,
        "--variable-length",
        help="wide CSV/Parquet: a row whose last values are missing is a shorter series "
        "[default: as the run's training file was read]",
    ),
    quiet: bool = typer.Option(False, "--quiet", help="no progress bar"),
) -> None:
    """Classify a file of any size in chunks: id, predicted label and per-class probabilities per series."""
    import time

    from .workflows.predict import predict_file

    t = time.perf_counter()
    info = predict_file(
        run,
        data,
        out,
        with_attention=with_attention,
        chunk=chunk,
        progress=not quiet,
        id_column=id_column,
        variable_length=variable_length or None,
    )
    dt = time.perf_counter() - t
    typer.echo(
        f"Wrote {info['n_series']} predictions to {out} in {dt:.1f} s ({info['n_series'] / dt:.0f} series/s)"
        + (f"; attention in {info['attention']}" if info["attention"] else "")
    )


@app.command(
    epilog="Examples:\n\n  tsattn export --run runs/demo --format onnx --out model.onnx\n\n"
    "  tsattn export --run runs/pickup --format onnx --out model.onnx  (variable length: inputs "
    "series and lengths)"
)
@_guard
def export(
    run: Path = typer.Option(..., "--run", help="run directory"),
    fmt: str = typer.Option("onnx", "--format", help="export format (onnx)"),
    out: Path = typer.Option(..., "--out", help="output file"),
    lengths: bool | None = typer.Option(
        None,
        "--lengths/--no-lengths",
        help="give the graph a lengths input (default: only for a run trained on series of several lengths)",
    ),
) -> None:
    """Export the model with its scaling inside: raw series (and lengths) in, probabilities and attention out."""
    if fmt != "onnx":
        _fail(f"--format: must be 'onnx'; got {fmt!r}")
    from .workflows.export import export_onnx

    r = export_onnx(run, out, lengths=lengths)
    diffs = ", ".join(f"{k.removeprefix('max_abs_diff_')} {v:.1e}" for k, v in r.items() if k.startswith("max_abs"))
    typer.echo(
        f"Wrote {out} ({r['bytes'] / 1024:.0f} KiB; inputs {', '.join(r['inputs'])}; outputs "
        f"{', '.join(r['outputs'])}; time axis {'dynamic' if r['dynamic_time'] else 'fixed'}). "
        f"Max |ONNX - tsattn predict|: {diffs}"
    )


@app.command(epilog="Examples:\n\n  tsattn report runs/demo --open\n\n  tsattn report runs/bench")
@_guard
def report(
    run: Path = typer.Argument(..., help="a run directory, or a `tsattn benchmark` output directory"),
    open_it: bool = typer.Option(False, "--open", help="open the report in the default web browser"),
) -> None:
    """(Re)build the self-contained report.html of a run or benchmark, and optionally open it."""
    import time

    from .report import write_report

    t = time.perf_counter()
    path = write_report(run)
    typer.echo(f"Wrote {path} ({path.stat().st_size / 1024:.0f} KiB) in {time.perf_counter() - t:.1f} s")
    if open_it:
        import webbrowser

        if not webbrowser.open(path.resolve().as_uri()):
            typer.echo(f"No browser found; open {path.resolve().as_uri()} yourself", err=True)


@app.command(name="models", epilog="Example: tsattn models")
@_guard
def models_cmd() -> None:
    """List the registered models."""
    from .models import get_model_class, list_models

    for name in list_models(peers=True):
        cls = get_model_class(name)
        doc = (cls.__doc__ or "").strip().splitlines()[0] if cls.__doc__ else ""
        typer.echo(f"{name:18s} {doc}")


def main() -> None:  # console-script entry point
    app()


if __name__ == "__main__":
    main()
