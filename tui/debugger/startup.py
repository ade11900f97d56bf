"""Turning bad inputs and dlv's start-up failures into one-line advice."""

from __future__ import annotations

import re

from . import elf


class OpenError(Exception):
    """A core that cannot be opened. str() is the one line the user sees."""


# Which Delve release supports a Go minor version (pkg/goversion/compat.go
# of each tag from v1.7.3 to v1.27.1): the newest release whose range
# includes it. Delve went from v1.9.1 to v1.20.0.
_DELVE_FOR_GO = {
    15: "v1.7.3", 16: "v1.8.3", 17: "v1.9.1", 18: "v1.21.0", 19: "v1.22", 20: "v1.22",
    21: "v1.25.0", 22: "v1.25.2", 23: "v1.25.2", 24: "v1.26", 25: "v1.27", 26: "v1.27", 27: "v1.27",
}


def delve_for_go(minor: int) -> str:
    if minor in _DELVE_FOR_GO:
        return _DELVE_FOR_GO[minor]
    return "latest" if minor > max(_DELVE_FOR_GO) else _DELVE_FOR_GO[min(_DELVE_FOR_GO)]


def check_inputs(executable: str, core: str, force: bool = False) -> tuple[str, ...]:
    """Reject what dlv would reject (or worse, accept and misread) up front.

    Returns warnings to show on screen: with force, a core/executable
    mismatch becomes a banner instead of an error.
    """
    try:
        exe_info = elf.check_executable(executable)
        core_info = elf.check_core(core)
        elf.check_pair(exe_info, core_info)
    except elf.MismatchError as err:
        if not force:
            raise OpenError(str(err)) from None
        return (f"UNTRUSTWORTHY VIEW (--force): {err}",)
    except elf.InputError as err:
        raise OpenError(str(err)) from None
    return ()


# dlv 1.20-1.27 start-up failures, as printed on the pty before it exits 1.
# Up to 1.20 the version comes without its "go" ("Go version 1.26.8"); the
# recorded ones are in tests/data/dlv/<dlv version>/startup.other-go.txt.
_TOO_NEW = re.compile(r"Version of Delve is too old for Go version (?:go)?1\.(\d+)")
_TOO_OLD = re.compile(r"Go version (?:go)?1\.(\d+)(?:\.\d+)? is too old for this version of Delve")


def explain_startup_failure(output: str, executable: str, core: str, dlv_version: str) -> str:
    text = " ".join(line.strip() for line in output.splitlines() if line.strip())
    dlv_name = f"dlv {dlv_version}" if dlv_version else "this dlv"
    match = _TOO_NEW.search(text)
    if match:
        release = delve_for_go(int(match[1]))
        return (f"{executable}: built with Go 1.{match[1]}, which {dlv_name} does not support; "
                f"install Delve {release} (go install github.com/go-delve/delve/cmd/dlv@{release}) and pass --dlv")
    match = _TOO_OLD.search(text)
    if match:
        release = delve_for_go(int(match[1]))
        return (f"{executable}: built with Go 1.{match[1]}, older than {dlv_name} supports; "
                f"install Delve {release} (go install github.com/go-delve/delve/cmd/dlv@{release}) and pass --dlv")
    if "could not open debug info" in text or "no debug info found" in text:
        return stripped_message(executable)
    if "bad magic number" in text:
        return f"{executable}: not an ELF executable; pass the Go binary that crashed"
    if "unrecognized core format" in text or "is not a core file" in text:
        return f"{core}: not a core dump; pass the core file the kernel wrote"
    if "architecture mismatch" in text:
        return f"{core}: {text[text.find('architecture mismatch'):]}"
    first = text or "dlv exited without a message"
    return f"dlv could not open {core} with {executable}: {first}"


def stripped_message(executable: str) -> str:
    return (f"{executable}: no DWARF debug info (stripped); rebuild without -ldflags=\"-s -w\", "
            f"e.g. go build -gcflags=all=\"-N -l\"")


def no_debug_info_warning(banner: str, executable: str) -> str | None:
    """dlv 1.21+ opens stripped binaries with only a warning, and no stacks."""
    if "no debug info found" in banner:
        return stripped_message(executable)
    return None
