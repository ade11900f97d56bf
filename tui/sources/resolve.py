"""Where a frame's DWARF path is on this machine: the --substitute-path
rules, then locate.py's search (the path as built, the checkout, GOROOT,
the module cache, a matching tail under the current directory)."""

from __future__ import annotations

import functools
from pathlib import Path

from .context import SourceContext, build_context
from .locate import Located, locate


def parse_substitution(spec: str) -> tuple[str, str]:
    """`FROM=TO` as given to --substitute-path."""
    source, sep, target = spec.partition("=")
    if not sep or not source:
        raise ValueError(f"--substitute-path wants FROM=TO, got {spec!r}")
    return source, target


@functools.lru_cache(maxsize=1)
def _machine() -> SourceContext:
    """This machine's context, without any target's build info."""
    return build_context()


def find(requested: str, context: SourceContext | None = None) -> Located:
    """Where the file is (its path and origin), or why it is not here."""
    return locate(requested, context or _machine())


def resolve(requested: str, context: SourceContext | None = None) -> Path | None:
    """The local file for a DWARF path, or None. Only regular files count
    (DWARF paths are data from the core's build)."""
    return find(requested, context).path
