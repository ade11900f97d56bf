"""Where the user is: the goroutine and frame on screen, and which panes an
unanswered navigation has made stale.

Every navigation gets a new generation; an answer for an older one is
dropped. Which panes an event makes stale is the table STALE_AFTER (as
gdlv's refreshState):

    goroutine switch -> backtrace, source, variables
    frame switch     -> source, variables

The panes keep the old content until the answer replaces it in one
repaint; the UI marks a pane still waiting after a moment (or whose
command failed) as stale, so quick moves never flicker and a slow or
failed one never passes for current. Pure state; no I/O, no Textual.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

from ..model import Backtrace, Frame
from ..model.views import Pane


class Move(Enum):
    """What the user moved to."""

    GOROUTINE = "goroutine"
    FRAME = "frame"


STALE_AFTER = {
    Move.GOROUTINE: frozenset({Pane.BACKTRACE, Pane.SOURCE, Pane.VARIABLES}),
    Move.FRAME: frozenset({Pane.SOURCE, Pane.VARIABLES}),
}


@dataclass(frozen=True)
class Navigation:
    """One move the user made: what to load, and which answer counts."""

    generation: int
    move: Move
    goroutine_id: int | None
    frame_index: int | None = None
    backtrace: Backtrace | None = None
    slot: int | None = None  # the goroutine's index in allgs, when known


class Navigator:
    def __init__(self) -> None:
        self.generation = 0
        self.backtrace: Backtrace | None = None
        self.goroutine_id: int | None = None
        self.frame_index = 0
        # Panes still showing an older selection.
        self.stale: set[Pane] = set()

    def is_current(self, generation: int | None) -> bool:
        return generation == self.generation

    @property
    def frame(self) -> Frame | None:
        if self.backtrace is None or not 0 <= self.frame_index < len(self.backtrace.frames):
            return None
        return self.backtrace.frames[self.frame_index]

    @property
    def at_ends(self) -> tuple[bool, bool]:
        """(no caller above, no callee below) the frame on screen."""
        frames = len(self.backtrace.frames) if self.backtrace is not None else 0
        return self.frame_index >= frames - 1, self.frame_index <= 0

    def to_goroutine(self, goroutine_id: int | None, frame_index: int | None = None,
                     slot: int | None = None) -> tuple[Navigation, set[Pane]]:
        """A goroutine switch: (what to load, panes no longer waiting)."""
        return self._start(Navigation(self.generation + 1, Move.GOROUTINE, goroutine_id, frame_index, slot=slot))

    def to_frame(self, index: int) -> tuple[Navigation, set[Pane]] | None:
        """A frame switch within the backtrace on screen; None off its ends."""
        if self.backtrace is None or not 0 <= index < len(self.backtrace.frames):
            return None
        self.frame_index = index
        return self._start(Navigation(self.generation + 1, Move.FRAME, self.goroutine_id, index, self.backtrace))

    def _start(self, navigation: Navigation) -> tuple[Navigation, set[Pane]]:
        # A navigation replaces any pending one, whose answer will be dropped:
        # a frame move during a goroutine switch stays in the backtrace on screen.
        self.generation = navigation.generation
        waiting = set(STALE_AFTER[navigation.move])
        released = self.stale - waiting
        self.stale = waiting
        return navigation, released

    def redraw(self) -> int:
        """The same place loaded anew (a theme change, `a`): a new generation
        that marks nothing stale."""
        self.generation += 1
        return self.generation

    def show_backtrace(self, backtrace: Backtrace, frame_index: int) -> None:
        self.backtrace = backtrace
        self.goroutine_id = backtrace.goroutine_id
        self.frame_index = frame_index
        self.stale.discard(Pane.BACKTRACE)

    def answered(self, *panes: Pane) -> set[Pane]:
        """Panes an answer has just replaced: no longer stale."""
        fresh = self.stale & set(panes)
        self.stale -= fresh
        return fresh
