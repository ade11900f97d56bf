"""When work fails: the one handler every worker's failure goes through,
dlv lost and restarted (R), answers that come while quitting. Mixed into
GocoreApp."""

from __future__ import annotations

import functools

from textual.app import ScreenStackError
from textual.css.query import NoMatches
from textual.worker import Worker, WorkerState

from .core.session import SessionClosed
from .messages import BackendRestarted
from .screens.error import ErrorScreen
from .workers import WorkFailed


def drawn(handler):
    """For the app's message handlers: drop an answer that arrives while
    the main screen is torn down (the app is quitting); anything else raises."""

    @functools.wraps(handler)
    def guarded(self, message):
        try:
            return handler(self, message)
        except (NoMatches, ScreenStackError):
            if self.closing:
                return None
            raise

    return guarded


class Recovery:
    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        """The one place a worker's failure reaches the user."""
        if event.state is not WorkerState.ERROR:
            return
        error = event.worker.error
        if isinstance(error, SessionClosed) or self.closing:
            self.log.debug(f"{event.worker.name} ended while closing: {error!r}")
            return
        failure = error if isinstance(error, WorkFailed) else WorkFailed(event.worker.name, error)
        self.log.error(f"worker {event.worker.name} failed: {failure}")
        self.failures.append(str(failure))
        if failure.fatal:
            self.push_screen(ErrorScreen(str(failure)))
            return
        if failure.stage == "warm":  # only a switch's speed depends on it
            return
        if failure.stage == "list":
            self._list_done(cut=True)
        elif failure.stage == "stacks":
            self._stacks_done(cut=True)
        elif failure.stage == "console":
            self.console_says(str(failure))
        if not self._dlv_lost(str(failure)) and str(failure) != self._last_failure:
            self._last_failure = str(failure)
            self.notify(str(failure), severity="error", timeout=8, markup=False)
        navigation = failure.navigation
        if navigation is not None and self.nav.is_current(navigation.generation):
            if navigation.event == "goroutine":  # still the old goroutine, whole
                self.main.fresh(self.nav.answered("backtrace", "source", "variables"))
            else:
                if self._stale_timer is not None:
                    self._stale_timer.stop()  # the answer came, as a failure: not "loading…"
                self._say_stale("not updated: dlv failed", navigation.generation)

    def _dlv_lost(self, why: str) -> bool:
        """After a failure: if dlv itself is gone, say so once and offer R."""
        primary = self.core.primary
        if primary is None or primary.alive:
            return False
        if not self.main.backend_lost:
            # Workers queued behind the dead session would each fail alike.
            self.workers.cancel_group(self, "navigate")
            self.main.say_backend_lost(True)
            self.notify(f"dlv stopped ({why}). The screen is kept; press R to restart dlv.",
                        severity="error", timeout=30, markup=False)
        return True

    def restart_backend(self) -> None:
        if self.main.backend_lost:
            self.notify("restarting dlv…", timeout=3)
            self.restart()

    def on_backend_restarted(self, message: BackendRestarted) -> None:
        if self.closing:
            return
        self.main.say_backend_lost(False)
        self.notify("dlv restarted", timeout=3)
        # Reload what is on screen from the new session, and page in what
        # the old one never listed.
        self.select_goroutine(self.nav.goroutine_id, self.nav.frame_index)
        if self.store.list_cut:
            self.store.relist()
            self.relist_goroutines()  # then the stacks, as at the start
        elif self.store.stacks_cut:
            self.store.restack()
            self.read_stacks()
