"""Named training recipes: settings measured to work. The figures that chose them, and where they were
measured: ``benchmarks/results/design_choices.md``.

A recipe is a partial :class:`~tsattn.config.TrainConfig` (:class:`~tsattn.config.Recipe`). ``tsattn benchmark``
trains each model with its own recipe; anything not set falls back to the
``TrainConfig`` defaults.
"""

from __future__ import annotations

from ..config import Recipe, TrainConfig

#: The seed task (default config, 10,000 x 500) with lstm_attention: what `tsattn demo` trains.
SEED_TASK_RECIPE: Recipe = {
    "max_epochs": 12,
    "min_steps": 800,
    "patience": 5,
    "batch_size": 32,
    "lr": 2e-3,
    "lr_schedule": "onecycle",
    "grad_clip": 1.0,
    "scaling": "diff",
    "scaling_gain": 4.0,
}

# min_steps keeps the optimiser-step count of the seed task on small datasets (UCR sets of 20-500
# series): with 7,000 training series they change nothing.
RECIPES: dict[str, Recipe] = {
    "lstm_attention": SEED_TASK_RECIPE,
    "cnn_attention": {
        "max_epochs": 8,
        "min_steps": 800,
        "batch_size": 64,
        "lr": 3e-3,
        "lr_schedule": "onecycle",
        "attention_smoothing": 0.002,
        "scaling": "znorm_level",
    },
    # The default model: one recipe for every dataset. From 1,600 training series, where 10 epochs pass the
    # step cap, one network instead of three.
    "inception_attention": {
        "max_epochs": 10,
        "min_steps": 400,
        "max_steps": 1000,
        "min_val_size": 100,
        "ensemble": 3,
        "ensemble_below": 1600,
        "batch_size": 16,
        "lr": 3e-3,
        "lr_schedule": "onecycle",
        "scaling": "znorm_level",
    },
    "transformer": {"max_epochs": 20, "min_steps": 1500, "batch_size": 64, "lr": 1e-3, "lr_schedule": "onecycle"},
    "mlp": {"max_epochs": 30, "min_steps": 1500, "batch_size": 64, "lr": 1e-3, "lr_schedule": "onecycle"},
    "cnn": {"max_epochs": 10, "min_steps": 1000, "batch_size": 64, "lr": 3e-3, "lr_schedule": "onecycle"},
}


def check_recipes(recipes: dict[str, Recipe]) -> None:
    """Validate every recipe as a partial :class:`~tsattn.config.TrainConfig`: a misspelt key or a bad value fails
    when this module is imported, not at a user's first run.

    Examples
    --------
    >>> check_recipes({"cnn": {"max_epoch": 10}})
    Traceback (most recent call last):
        ...
    tsattn._errors.ConfigError: recipe cnn: unknown key 'max_epoch'. Did you mean 'max_epochs'? Valid keys: ...
    """
    for name, recipe in recipes.items():
        TrainConfig.from_dict(dict(recipe), source=f"recipe {name}")


check_recipes(RECIPES)


def recipe_for(model: str) -> Recipe:
    """The recipe of ``model`` (a copy), or ``{}`` for a model without one."""
    return Recipe(**RECIPES.get(model, {}))
