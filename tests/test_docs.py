"""The API reference: everything it documents exists and shows an example, and the example runs (doctests)."""

from __future__ import annotations

import importlib
import inspect
import re
from pathlib import Path

import pytest

API = Path(__file__).parent.parent / "docs" / "api.md"


def _documented() -> list[str]:
    return re.findall(r"^::: ([\w.]+)$", API.read_text(), flags=re.M)


def _resolve(path: str) -> object:
    module, _, name = path.rpartition(".")
    while module:
        try:
            obj = importlib.import_module(module)
            break
        except ModuleNotFoundError:
            module, _, head = module.rpartition(".")
            name = f"{head}.{name}"
    for part in name.split("."):
        obj = getattr(obj, part)
    return obj


def test_the_api_reference_lists_public_objects():
    names = _documented()
    assert len(names) >= 40 and len(set(names)) == len(names)


@pytest.mark.parametrize("path", _documented())
def test_every_documented_object_has_an_example(path):
    doc = inspect.getdoc(_resolve(path)) or ""
    assert re.search(r"^Examples\n--------\n(?:.*\n)*?>>> ", doc, flags=re.M), f"{path} has no Examples section"
