"""When a job fails: what the user hears of it and what becomes of the
screen, decided in one place. The policy is plain logic over the failure
and what it is told of the session; the app carries its Response out."""

from __future__ import annotations

from dataclasses import dataclass

from .core.navigator import Move
from .workers import Stage, WorkFailed

LOST_NOTICE = "dlv stopped ({why}). The screen is kept; press R to restart dlv."


@dataclass(frozen=True)
class Response:
    """What to do about one failure.

    error_screen: the first screen never opened: show the error, and only quit.
    list_cut / stacks_cut: that listing stopped short; R reads it again.
    console: a line for the console's log.
    backend_lost: dlv itself is gone: stop what waits on it, say so once
    (`notice`), offer R.
    notice: a notification for the user ("" when it would only repeat).
    old_goroutine_whole: a goroutine switch failed: the panes still show
    the old goroutine, whole, so they are no longer stale.
    not_updated: a frame switch failed: its panes say they were not updated.
    """

    error_screen: bool = False
    list_cut: bool = False
    stacks_cut: bool = False
    console: str = ""
    backend_lost: bool = False
    notice: str = ""
    old_goroutine_whole: bool = False
    not_updated: bool = False


QUIET = Response()


class RecoveryPolicy:
    """Remembers what it said, so that a failure repeated (every queued job
    of a dead dlv) is said once."""

    def __init__(self) -> None:
        self.lost = False
        self._last_notice = ""

    def respond(self, failure: WorkFailed, dlv_alive: bool, navigation_current: bool) -> Response:
        """failure: a job's; dlv_alive: the first dlv still answers;
        navigation_current: the navigation it answered is still the user's."""
        text = str(failure)
        if failure.fatal:
            return Response(error_screen=True)
        if failure.stage is Stage.WARM:  # only a switch's speed depends on it
            return QUIET
        lost_now = not dlv_alive and not self.lost
        if not dlv_alive:
            self.lost = True
            notice = LOST_NOTICE.format(why=text) if lost_now else ""
        elif text != self._last_notice:
            self._last_notice = notice = text
        else:
            notice = ""
        navigation = failure.navigation
        current = navigation is not None and navigation_current
        return Response(
            list_cut=failure.stage is Stage.LIST,
            stacks_cut=failure.stage is Stage.STACKS,
            console=text if failure.stage is Stage.CONSOLE else "",
            backend_lost=lost_now,
            notice=notice,
            old_goroutine_whole=current and navigation.move is Move.GOROUTINE,
            not_updated=current and navigation.move is Move.FRAME,
        )

    def restarted(self) -> None:
        """A new dlv answers: the next loss is news again."""
        self.lost = False
        self._last_notice = ""
