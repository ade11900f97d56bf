"""One interactive debugger child on a pty: spawn, run a command, close.

The pty belongs to exactly one PromptSession. Commands are serialised by a
lock so that two threads can never interleave their writes, every read has a
timeout, and the child is reaped on every path (close, error, interpreter
exit, SIGTERM/SIGHUP of our process).
"""

from __future__ import annotations

import atexit
import contextlib
import contextvars
import json
import os
import signal
import threading
import time
import weakref
from pathlib import Path
from typing import Callable, Protocol

import pexpect

from .batch import stop_batches
from .children import forking, reap_orphans


class SessionError(Exception):
    """The debugger child misbehaved: it died, or did not answer in time."""


class SessionDied(SessionError):
    pass


class CommandTimeout(SessionError):
    """A command ran past its timeout and was interrupted; the session
    is still usable (when it could not be interrupted, SessionDied)."""


# A user's action is often a few commands in a row (args, then locals):
# background pages hold off this long after a foreground command, so they
# do not slip in between them.
FOREGROUND_GRACE = 0.03
# How long an interrupted command may take to give the prompt back.
INTERRUPT_GRACE = 5.0
# How long dlv's SIGINT handler is given to print before a last resync.
INTERRUPT_SETTLE = 0.1


# How long a polite `quit` may take before the child is killed, and how long
# a closer waits for a thread still reading the killed child to let go.
CLOSE_GRACE = 0.5
LOCK_WAIT = 2.0


class CommandRunner(Protocol):
    """What the typed backends need: run one command, get its output."""

    def run(self, command: str, timeout: float | None = None, background: bool = False) -> str: ...

    def is_alive(self) -> bool: ...

    def close(self) -> None: ...


_live_sessions: "weakref.WeakSet[PromptSession]" = weakref.WeakSet()
# Who started a session (a CoreSession): close_sessions_of() closes them all,
# those still starting included.
_owner: contextvars.ContextVar[object | None] = contextvars.ContextVar("gocore_session_owner", default=None)


@contextlib.contextmanager
def owned_by(owner: object):
    """Sessions started inside this block (on this thread) belong to owner."""
    token = _owner.set(owner)
    try:
        yield
    finally:
        _owner.reset(token)


def close_sessions_of(owner: object) -> None:
    """Close every session `owner` started: a dlv still loading a huge core
    is killed rather than waited for."""
    _close_together([s for s in list(_live_sessions) if s.owner is owner])


def _close_together(sessions: list["PromptSession"]) -> None:
    """Each on its own thread: closing N dlvs costs one grace period, not N."""
    closers = [threading.Thread(target=session.close, daemon=True) for session in sessions]
    for closer in closers:
        closer.start()
    for closer in closers:
        closer.join(CLOSE_GRACE + LOCK_WAIT + 1)


def close_all_sessions() -> None:
    """Close every debugger child and batch run still alive (we are exiting)."""
    stop_batches(final=True)
    _close_together(list(_live_sessions))
    reap_orphans()


# Called after the children are gone, when a signal ends us (the terminal
# put back as it was: the app's own teardown never runs then).
_last_words: list[Callable[[], None]] = []


def before_signal_exit(action: Callable[[], None]) -> None:
    _last_words.append(action)


def _terminate_on_signal(signum, _frame) -> None:
    close_all_sessions()
    for action in _last_words:
        action()
    # Re-raise with the default action so our exit status tells the truth.
    signal.signal(signum, signal.SIG_DFL)
    os.kill(os.getpid(), signum)


def install_signal_reaper() -> None:
    """Reap every child when the terminal hangs up or we are told to stop
    (SIGINT too: Ctrl+C before the TUI takes the terminal, or `kill -INT`)."""
    if threading.current_thread() is not threading.main_thread():
        return
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(signum, _terminate_on_signal)


atexit.register(close_all_sessions)


class PromptSession:
    """A REPL child driven by exact prompt matching (after pexpect's replwrap).

    run() sends one line, waits for the prompt, and returns what came
    between, without the echoed command and with `\\r\\n` folded to `\\n`.
    """

    def __init__(
        self,
        argv: list[str],
        prompt: str,
        env: dict[str, str] | None = None,
        cwd: str | None = None,
        startup_timeout: float = 60.0,
        command_timeout: float = 30.0,
    ) -> None:
        self.prompt = prompt
        self.command_timeout = command_timeout
        # Reentrant: a command that meets EOF closes the session from
        # inside its own turn at the pty.
        self._lock = threading.RLock()
        # Background commands (pages of a listing) wait while a user's
        # command waits for the pty: a keypress is never queued behind a
        # run of pages, only behind the one page being printed.
        self._count_lock = threading.Lock()
        self._foreground_waiting = 0
        self._no_foreground = threading.Event()
        self._no_foreground.set()
        self._foreground_done = 0.0
        self._closed = False
        # Set once the child is gone and reaped: a second closer (the exit's
        # close_all_sessions) waits for the first instead of returning early.
        self._reaped = threading.Event()
        self._resyncs = 0
        self.transcript: list[tuple[str, str]] | None = None
        self.owner = _owner.get()
        # Huge outputs (100k goroutines) arrive in big reads; the prompt can
        # only sit at the end, so pexpect need not rescan the whole buffer.
        # Registered before the banner, and inside the fork gate: a close
        # meanwhile (we are quitting, on a signal) finds and kills the child,
        # and the wait below ends at once on its EOF.
        with forking:
            self.child = pexpect.spawn(
                argv[0],
                argv[1:],
                env=env,
                cwd=cwd,
                encoding="utf-8",
                codec_errors="replace",
                dimensions=(50, 500),
                maxread=1 << 20,
                searchwindowsize=len(prompt) + 64,
                timeout=startup_timeout,
            )
            _live_sessions.add(self)
        # Every send would otherwise sleep 50 ms before writing.
        self.child.delaybeforesend = None
        with self._lock:
            if self._closed:
                raise SessionDied("the debugger session was closed while it started")
            self.banner = self._read_until_prompt(startup_timeout, "start")

    @property
    def pid(self) -> int:
        return self.child.pid

    def is_alive(self) -> bool:
        return not self._closed and self.child.isalive()

    def _read_until_prompt(self, timeout: float, what: str) -> str:
        output = self._expect(self.prompt, timeout, what)
        if output is None:
            self._close(wait=False)
            raise CommandTimeout(f"no prompt after {timeout:g}s during {what}")
        return output

    def _expect(self, text: str, timeout: float, what: str) -> str | None:
        """What came before `text`; None on timeout; SessionDied on EOF."""
        try:
            self.child.expect_exact(text, timeout=timeout)
        except pexpect.EOF:
            output = _fold(self.child.before or "")
            self._close(wait=False)
            raise SessionDied(output.strip() or f"the debugger exited during {what}") from None
        except pexpect.TIMEOUT:
            return None
        return _fold(self.child.before or "")

    def run(self, command: str, timeout: float | None = None, background: bool = False) -> str:
        """Send one command and return its output. A background command
        (a page of a listing) gives way to foreground ones: it waits while
        one is waiting or has just run. (It is not cancelled with ^C for
        them: a ^C that reaches the pty before dlv has read the command's
        line flushes it, and dlv would never answer.)"""
        if not command.strip() or any(ord(c) < 0x20 or ord(c) == 0x7F for c in command):
            # An empty line repeats the previous command, a newline would
            # smuggle in a second one, and the pty's line discipline acts
            # on control characters (^C interrupts, ^U erases the line).
            raise ValueError(f"refusing to send {command!r}: one line of printable text only")
        if background:
            self._wait_for_calm()
        else:
            self._foreground(+1)
        with self._lock:
            if not background:
                self._foreground(-1)
            if self._closed:
                raise SessionDied("the debugger session is closed")
            output = self._send(command, timeout)
            if not background:
                self._foreground_done = time.monotonic()
            return output

    def _send(self, command: str, timeout: float | None) -> str:
        self.child.sendline(command)
        timeout = timeout or self.command_timeout
        try:
            output = self._expect(self.prompt, timeout, repr(command))
        except SessionDied as died:
            last_words = _strip_echo(str(died), command).strip()
            if last_words.startswith("the debugger exited during"):
                last_words = ""
            raise SessionDied(f"dlv exited during {command!r}" + (f": {last_words}" if last_words else "")) from None
        if output is None:
            self._interrupt(command, timeout)
        output = _strip_echo(output, command)
        if self.transcript is not None:
            self.transcript.append((command, output))
        return output

    def _wait_for_calm(self) -> None:
        while True:
            self._no_foreground.wait()
            quiet = time.monotonic() - self._foreground_done
            if quiet >= FOREGROUND_GRACE:
                return
            time.sleep(FOREGROUND_GRACE - quiet)

    def _foreground(self, change: int) -> None:
        with self._count_lock:
            self._foreground_waiting += change
            if self._foreground_waiting:
                self._no_foreground.clear()
            else:
                self._no_foreground.set()

    def _interrupt(self, command: str, timeout: float) -> None:
        """Stop a command that ran too long, so its late output can never
        be read as the answer to the next one; raise what happened.

        Ctrl+C makes dlv cancel the command (a Starlark loop included) and
        print a prompt. But a ^C can land before dlv has read the command's
        line (a loaded machine, a short timeout): at the line editor it is
        taken as typed text and the command then runs uninterrupted, and in
        between it flushes the line (and the marker sent after it). So a
        second ^C goes when the first brings no answer. And dlv's SIGINT
        handler prints "received SIGINT" on its own time, perhaps after the
        marker's answer: once calm, a second marker must come back too, and
        everything before its answer is discarded.
        """
        for _ in range(2):
            self.child.sendintr()
            if self._resync():
                time.sleep(INTERRUPT_SETTLE)
                if self._resync():
                    raise CommandTimeout(f"{command!r} took longer than {timeout:g}s; interrupted")
        self._close(wait=False)
        raise SessionDied(f"dlv did not answer {command!r} within {timeout:g}s, nor stop when interrupted; "
                          "it was stopped")

    def _resync(self) -> bool:
        """Read up to the answer of a fresh marker, discarding whatever a
        ^C left behind; False if dlv does not answer."""
        self._resyncs += 1
        marker = f"gocore-resync-{self._resyncs}"
        self.child.sendline(f'print "{marker}"')
        return self._expect(f'"{marker}"\r\n{self.prompt}', INTERRUPT_GRACE, "an interrupt") is not None

    def close(self) -> None:
        """Quit the child and reap it, from any thread, without waiting long.

        If no command is running, `quit` is asked politely (CLOSE_GRACE);
        if one is (another thread reads the pty), the child is killed, that
        reader gets EOF at once, and the child is reaped once it has let go.
        Either way the child is gone and reaped when this returns, also
        for a caller that finds another thread already closing it (it waits).
        The session stays in _live_sessions until then, so that the exit's
        close_all_sessions() waits for a close still under way on a daemon
        thread (a retired helper) instead of exiting before the reap.
        """
        self._close(wait=True)

    def _close(self, wait: bool) -> None:
        """close(); wait=False from a thread that holds the pty (a command that
        met EOF or a timeout): the other closer waits for it to let go."""
        with self._count_lock:
            closing_already = self._closed
            self._closed = True
        if closing_already:
            if wait:
                self._reaped.wait(CLOSE_GRACE + LOCK_WAIT + 1)
            return
        idle = self._lock.acquire(blocking=False)
        try:
            if idle:
                self._quit_politely()
            else:
                self._kill()
                idle = self._lock.acquire(timeout=LOCK_WAIT)
            self._reap()
        finally:
            if idle:
                self._lock.release()
            _live_sessions.discard(self)
            self._reaped.set()

    def _quit_politely(self) -> None:
        try:
            if self.child.isalive():
                self.child.sendline("quit")
                self.child.expect(pexpect.EOF, timeout=CLOSE_GRACE)
        except (pexpect.ExceptionPexpect, OSError):
            pass

    def _kill(self) -> None:
        try:
            os.kill(self.child.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass

    def _reap(self) -> None:
        try:
            self.child.close(force=True)
        except (pexpect.ExceptionPexpect, OSError):
            pass
        if self.child.isalive():  # close could not end it: kill it and wait
            self._kill()
            try:
                os.waitpid(self.child.pid, 0)
            except ChildProcessError:
                pass


def _fold(text: str) -> str:
    return text.replace("\r\n", "\n")


def _strip_echo(output: str, command: str) -> str:
    first, sep, rest = output.partition("\n")
    if first.strip() == command.strip():
        return rest
    return output


class ReplaySession:
    """A stand-in that answers from a transcript recorded off a real session.

    Only for frozen pictures (snapshot tests): the same screens are tested
    against the real dlv elsewhere.
    """

    def __init__(self, transcript: dict[str, str], banner: str = "", meta: dict | None = None) -> None:
        self._answers = transcript
        self.banner = banner
        self.meta = meta or {}

    @classmethod
    def load(cls, path: str | Path) -> "ReplaySession":
        data = json.loads(Path(path).read_text())
        return cls(dict(data["commands"]), data.get("banner", ""), data.get("meta", {}))

    def run(self, command: str, timeout: float | None = None, background: bool = False) -> str:
        if command.startswith("source "):
            return ""  # scripts ran in the recorded session; their commands' answers are recorded
        try:
            return self._answers[command]
        except KeyError:
            raise SessionError(f"not in the recorded transcript: {command!r}") from None

    def is_alive(self) -> bool:
        return True  # a recording never dies

    def close(self) -> None:
        pass


def save_transcript(path: str | Path, banner: str, pairs: list[tuple[str, str]], meta: dict) -> None:
    data = {"meta": meta, "banner": banner, "commands": {cmd: out for cmd, out in pairs}}
    Path(path).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
