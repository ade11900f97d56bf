"""The dlvs of one core: the first (the user's commands), a helper for the
listings, and a restart when the first dies. Blocking methods run on
worker threads; what they learn is returned, never written into the UI.

The helper is started when a listing goes through dlv (the native reader
could not read the core), at the lowest CPU priority, and is retired when
its listings are done (or cut short). Closing kills every
dlv this session started, those still loading a huge core included, so
nothing outlives a quit.
"""

from __future__ import annotations

import threading
from typing import Any, Callable

from ..debugger.session import close_sessions_of, owned_by
from .backend import Backend, Lister


class SessionClosed(Exception):
    """The core session was closed (we are quitting) while a dlv started."""


class CoreSession:
    def __init__(self, open_backend: Callable[[], Backend]) -> None:
        self._open_backend = open_backend
        self._lock = threading.Lock()
        self._closed = False
        self.primary: Backend | None = None
        self._helper: Lister | None = None
        self._helper_retired = False
        self._helper_ready = threading.Event()
        self._helper_ready.set()  # nothing to wait for until one is started
        self.helper_problem = ""

    @property
    def closed(self) -> bool:
        return self._closed

    def open(self) -> Backend:
        """The first dlv (blocking)."""
        backend = self._start(self._open_backend)
        with self._lock:
            self.primary = backend
        return backend

    def start_helper(self) -> None:
        """Start the helper dlv for the listings, on its own thread (dlv takes
        a while to load a huge core); helper() waits for it."""
        with self._lock:
            if self.primary is None or self._closed or not self._helper_ready.is_set() or self._helper_retired:
                return
            primary = self.primary
            self._helper_ready.clear()
        threading.Thread(target=self._spawn_helper, args=(primary,), name="spawn-helper", daemon=True).start()

    def restart(self) -> Backend:
        """A new first dlv after the old one died or hung (blocking); the
        old one is closed. Listings go on from the new one alone."""
        backend = self._start(self._open_backend)
        with self._lock:
            old, self.primary = self.primary, backend
        if old is not None:
            old.close()
        return backend

    def _start(self, opener: Callable[[], Any]) -> Any:
        """What opener() starts (a Backend, a Lister or None), owned by this
        session: a close meanwhile kills it, and raises SessionClosed."""
        with owned_by(self):
            started = opener()
        with self._lock:
            if not self._closed:
                return started
        if started is not None:
            started.close()
        raise SessionClosed("closed while dlv started")

    def _spawn_helper(self, primary: Backend) -> None:
        helper = None
        try:
            lister = primary.lister()
            helper = self._start(lister.spawn_helper) if lister is not None and not self._closed else None
        except SessionClosed:
            helper = None
        except Exception as err:  # listings fall back to the first dlv
            self.helper_problem = f"the second dlv did not start: {err}"
        with self._lock:
            keep = helper is not None and not (self._closed or self._helper_retired)
            if keep:
                self._helper = helper
        if helper is not None and not keep:
            helper.close()
        self._helper_ready.set()

    @property
    def has_helper(self) -> bool:
        """A helper dlv is up (not starting, not retired); does not wait."""
        with self._lock:
            return self._helper is not None

    def helper(self) -> Lister | None:
        """The helper once it is up; None when there is none, it failed, or
        it has been retired (its work is done, or the listing was cut)."""
        self._helper_ready.wait()
        with self._lock:
            return self._helper

    def retire_helper(self) -> None:
        """The helper's work is done: it is closed on a thread (a dlv holding
        100k goroutines takes a while to quit), and helper() is None from now on."""
        with self._lock:
            self._helper_retired = True
            helper, self._helper = self._helper, None
        if helper is not None:
            threading.Thread(target=helper.close, name="close-helper", daemon=True).start()

    def close(self) -> None:
        """Close every dlv of this core, at once; idempotent."""
        with self._lock:
            self._closed = True
            backends = [b for b in (self.primary, self._helper) if b is not None]
            self._helper = None
        close_sessions_of(self)  # the dlvs it started, those still loading too
        for backend in backends:
            backend.close()  # a backend opened elsewhere (the CLI's first dlv)
        self._helper_ready.set()
