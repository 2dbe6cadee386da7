"""MkDocs hooks: the CLI reference is the CLI's own ``--help``, so that it cannot drift from the code."""

from __future__ import annotations

from typing import Any

MARKER = "<!-- tsattn-cli-help -->"


def _help(args: list[str]) -> str:
    from typer.testing import CliRunner

    from tsattn.cli import app

    result = CliRunner().invoke(app, [*args, "--help"], terminal_width=100, env={"COLUMNS": "100"})
    if result.exit_code != 0:
        raise RuntimeError(f"tsattn {' '.join(args)} --help failed: {result.output}")
    return result.output.rstrip()


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if MARKER not in markdown:
        return markdown
    from tsattn.cli import app

    names = [c.name or (c.callback.__name__ if c.callback else "") for c in app.registered_commands]
    parts = ["```text", _help([]), "```"]
    for name in names:
        parts += [f"## tsattn {name}", "", "```text", _help([name]), "```", ""]
    return markdown.replace(MARKER, "\n".join(parts))
