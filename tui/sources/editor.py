"""`e`: the command that opens a file at a line in the user's editor.

$VISUAL, then $EDITOR, then vi; the editor's own syntax for a line:
`+LINE FILE` for the vi and emacs families and nano, `-g FILE:LINE` for
VS Code, `FILE:LINE` for Sublime and Zed.
"""

from __future__ import annotations

import os
import shlex
from pathlib import Path

_COLON = {"subl", "sublime_text", "zed", "hx", "helix", "kak"}
_GOTO = {"code", "code-insiders", "codium", "cursor"}


def editor_command(path: str | Path, line: int, environ: dict[str, str] | None = None) -> list[str]:
    environ = os.environ if environ is None else environ
    words = shlex.split(environ.get("VISUAL") or environ.get("EDITOR") or "vi") or ["vi"]
    name = Path(words[0]).name
    if name in _GOTO:
        return [*words, "-g", f"{path}:{line}"]
    if name in _COLON:
        return [*words, f"{path}:{line}"]
    return [*words, f"+{line}", str(path)]
