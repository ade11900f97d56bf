"""What the `:` console may send to dlv, and in which scope. Pure: no I/O.

A core never runs, so commands that run, restart or end the target or the
session are refused, as are ones that would change how dlv prints (our
parsers read that output) or read and write files. Commands that look at a
frame run in the goroutine and frame on screen, as if typed after Delve's
own `goroutine G frame F` prefix.
"""

from __future__ import annotations

REFUSED = {
    **dict.fromkeys(("exit", "quit", "q"), "it would end the dlv session this view reads from"),
    **dict.fromkeys(("restart", "r", "rebuild"), "a core cannot be restarted"),
    **dict.fromkeys(("continue", "c", "next", "n", "step", "s", "stepout", "so", "step-instruction", "si",
                     "rev", "call", "rewind", "checkpoint", "target"), "a core does not run"),
    **dict.fromkeys(("source", "transcript", "edit", "ed", "dump"), "it reads or writes files on this machine"),
    **dict.fromkeys(("config", "alias"), "it changes how dlv prints, which gocore-tui reads"),
    **dict.fromkeys(("set",), "a core is read-only"),
}
# Commands that look at one frame: they get the frame on screen.
FRAME_SCOPED = {"print", "p", "locals", "args", "whatis", "list", "ls", "l", "disassemble", "disass",
                "examinemem", "x", "regs", "display"}
# Commands that look at one goroutine: they get the goroutine on screen.
GOROUTINE_SCOPED = {"stack", "bt"}


class Refused(ValueError):
    """str() says why the command is not sent."""


def console_command(text: str, goroutine_id: int | None, frame_index: int) -> str:
    """The line to send for what the user typed, or Refused."""
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in text):
        raise Refused("one line of printable text only: control characters and newlines are not sent")
    line = text.strip()
    if not line:
        raise Refused("type a dlv command, e.g. print err, locals, stack 20, goroutines -group user")
    word = line.split()[0]
    if word in REFUSED:
        raise Refused(f"`{word}` is not sent: {REFUSED[word]}")
    scope = "" if goroutine_id is None else f"goroutine {goroutine_id} "
    if word in FRAME_SCOPED:
        return f"{scope}frame {frame_index} {line}"
    if word in GOROUTINE_SCOPED:
        return f"{scope}{line}"
    return line
