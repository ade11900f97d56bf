"""Loading one frame as the panes show it: its variables and its source (or
its instructions). Blocking (it asks the backend); run it on a worker."""

from __future__ import annotations

from dataclasses import replace

from ..analysis.crash import SIGPANIC_FUNCTION
from ..analysis.forensics import SYSTEM_STACK_FRAME, addressable_index
from ..model import Backtrace, FrameState
from ..model.views import FrameView
from ..sources.highlight import Highlighter, disassembly
from .backend import Backend


def describe(err: Exception, raw_lines: int = 8) -> str:
    """A failure as the user reads it; a parse problem with the text dlv
    actually printed (its first lines), never a traceback."""
    text = str(err) or type(err).__name__
    raw = getattr(err, "raw", "").strip()
    if raw:
        lines = raw.splitlines()
        text += "\ndlv printed:\n" + "\n".join(line[:160] for line in lines[:raw_lines])
        if len(lines) > raw_lines:
            text += f"\n… ({len(lines) - raw_lines} more lines)"
    return text


def with_elided_values(backend: Backend, state: FrameState) -> FrameState:
    """The frame's args and locals, each value Delve elided (a pointer it did
    not follow, a struct cut short) printed in full: what a report shows
    without anyone opening a node. A value that cannot be printed stays
    as it was."""
    def full(variable):
        if not (variable.partial and variable.expr):
            return variable
        try:
            return backend.expand(state.goroutine_id, state.frame_index, variable)
        except Exception:
            return variable

    return replace(state, args=tuple(full(v) for v in state.args), locals=tuple(full(v) for v in state.locals))


def load_frame(backend: Backend, highlighter: Highlighter, backtrace: Backtrace, index: int,
               show_disassembly: bool = False, own_stack: Backtrace | None = None,
               disassembly_if_no_source: bool = True) -> FrameView:
    """Frame `index` of `backtrace`: its variables, and its source or (when
    show_disassembly, or when it has no source and disassembly_if_no_source)
    its instructions. A backtrace unwound in `-mode simple` (the crashing
    thread's, on Delve 1.20) numbers its frames otherwise than `frame N`
    does: its frame is found in `own_stack`, the goroutine's own."""
    frame = backtrace.frames[index]
    goroutine_id = backtrace.goroutine_id
    addressable = addressable_index(frame, backtrace, own_stack or backtrace)
    if addressable is None:
        state = FrameState(goroutine_id, index, error=SYSTEM_STACK_FRAME)
    else:
        state = backend.frame_state(goroutine_id, addressable)  # in Delve's numbering
    source = highlighter.load(frame.file, line=frame.line)
    if show_disassembly or (disassembly_if_no_source and not source.lines):  # `a`, or a frame without source
        try:
            if addressable is None:
                raise LookupError(SYSTEM_STACK_FRAME)
            # A frame a signal interrupted stopped at its PC, not after a call.
            interrupted = index > 0 and backtrace.frames[index - 1].function == SIGPANIC_FUNCTION
            # Why there is no source stays said (and what would bring it).
            source = replace(disassembly(frame, backend.disassemble(goroutine_id, addressable), exact=interrupted),
                             missing_reason=source.missing_reason, download=source.download)
        except Exception as err:  # keep the source's own reason, and say why no disassembly
            source = replace(source, missing_reason=f"{source.missing_reason or 'no source'}; "
                                                    f"no disassembly either: {describe(err)}")
    return FrameView(goroutine_id, index, state, source)
