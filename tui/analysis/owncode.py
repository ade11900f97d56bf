""""Your code": package main and the packages of the main module named in
the executable's build info. Everything else (the runtime, the standard
library, dependencies) is someone else's, and is dimmed.

Pure; the module path comes from Target.main_module.
"""

from __future__ import annotations

from dataclasses import replace

from ..model import Backtrace, Frame, is_runtime_function
from ..parse.names import package_of


# Where C libraries live: their frames are not the program's.
_SYSTEM_C = ("/usr/", "/lib", "/opt/", "/nix/")


class OwnCode:
    """Whether a function is the program's own. Without a main module (no
    build info), whatever is outside the runtime counts, as before Go
    modules."""

    def __init__(self, main_module: str = "", modules: tuple[str, ...] = ()) -> None:
        self.main_module = main_module
        # Every module path the binary names: a decoded name splits at the
        # right dot (`gopkg.in/yaml.v3.handleErr`) whatever its last element.
        self._known = tuple(m for m in (main_module, *modules) if m)

    @classmethod
    def of(cls, build) -> "OwnCode":
        """For a Target's build info (None: no module info)."""
        if build is None:
            return cls()
        return cls(build.path, tuple(dep.path for dep in build.deps))

    def __call__(self, function: str, file: str = "") -> bool:
        if is_runtime_function(function) or "._Cfunc_" in function:
            return False
        if function.startswith("C._cgo_") and (not file or "cgo-gcc-prolog" in file):
            # cgo's C stub; where the optimizer inlined the program's C into it,
            # its line table says the program's file, and it is the program's.
            return False
        if function.startswith("C."):
            # C of the program's own cgo preambles and files (where its line
            # table says); not the system's, nor a library's without one.
            return bool(file) and not file.startswith(_SYSTEM_C)
        if not self.main_module:
            return True
        package = package_of(function, self._known)
        return package == "main" or package == self.main_module or package.startswith(self.main_module + "/")

    def mark(self, backtrace: Backtrace) -> Backtrace:
        """The backtrace with each frame's `own` set."""
        frames = tuple(replace(f, own=self(f.function, f.file) and not f.error) for f in backtrace.frames)
        return replace(backtrace, frames=frames)

    def frame(self, backtrace: Backtrace) -> Frame | None:
        """The innermost frame of the program's own code, else the first
        frame outside the runtime."""
        for frame in backtrace.frames:
            if self(frame.function, frame.file) and not frame.error and not frame.in_runtime_source:
                return frame
        return backtrace.first_user_frame()
