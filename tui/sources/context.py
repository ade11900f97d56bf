"""What locate() needs to know about this machine and the binary, read
from the environment once: the checkout the user stands in (go.mod found
upwards, go.work's modules, their replace directives), Go's environment
as cmd/go reads it (GOROOT, GOMODCACHE, GOENV files), a GOROOT of the
target's Go version if this machine has one, and the user's
--substitute-path rules. No subprocess, no go command needed: cmd/go's
answers are worked out as it works them out.
"""

from __future__ import annotations

import glob
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Mapping

from ..model import BuildInfo


def is_file(path: Path) -> bool:
    """A regular file (DWARF paths are data from the core's build: a
    directory, a device or a broken link never counts)."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False


@dataclass(frozen=True)
class Replacement:
    """A go.mod `replace`: module (at version, or every version when "")
    by a directory, or by another module in the module cache."""

    module: str
    version: str = ""
    directory: Path | None = None
    new_module: str = ""
    new_version: str = ""


@dataclass(frozen=True)
class SourceContext:
    """What locate() needs to know about this machine and the binary.

    module_path/module_dir: the checkout's go.mod (found upwards from cwd);
    workspace: more (module path, directory) pairs from go.work;
    goroot/local_go_version: this machine's Go; target_goroot: a GOROOT
    of exactly target_go_version (the binary's), if there is one here;
    target_module: the binary's main module (its build info), for the
    reason a trimmed main-module path is missing.
    """

    cwd: Path
    module_path: str = ""
    module_dir: Path | None = None
    goroot: Path | None = None
    local_go_version: str = ""
    target_go_version: str = ""
    gomodcache: Path | None = None
    rules: tuple[tuple[str, str], ...] = ()
    workspace: tuple[tuple[str, Path], ...] = ()
    replacements: tuple[Replacement, ...] = ()
    target_goroot: Path | None = None
    target_module: str = ""

    def modules(self) -> tuple[tuple[str, Path], ...]:
        """(module path, directory) of the checkout and its workspace."""
        main = ((self.module_path, self.module_dir),) if self.module_path and self.module_dir else ()
        return main + tuple(m for m in self.workspace if m not in main)


def build_context(cwd: str | os.PathLike | None = None, rules: Iterable[tuple[str, str]] = (),
                  build_info: BuildInfo | None = None, environ: Mapping[str, str] | None = None) -> SourceContext:
    """The SourceContext of this machine, read once: no subprocess, no go
    command needed (its answers are worked out as cmd/go does).

    build_info (tui.debugger.buildinfo.BuildInfo, optional) gives the
    target's Go version, main module and replacements.
    """
    env = os.environ if environ is None else environ
    here = Path(cwd if cwd is not None else os.getcwd()).absolute()
    go_env = GoEnv(env)
    module_path, module_dir, replacements = "", None, []
    gomod = _find_upwards(here, "go.mod")
    if gomod is not None:
        module_path, file_replacements = parse_gomod(gomod.read_text(errors="replace"), gomod.parent)
        module_dir = gomod.parent
        replacements += file_replacements
    workspace: list[tuple[str, Path]] = []
    gowork = _gowork(here, go_env)
    if gowork is not None:
        uses, work_replacements = parse_gowork(gowork.read_text(errors="replace"), gowork.parent)
        replacements = work_replacements + replacements  # go.work's replace directives win
        for directory in uses:
            used = directory / "go.mod"
            if is_file(used):
                path, used_replacements = parse_gomod(used.read_text(errors="replace"), directory)
                if path:
                    workspace.append((path, directory))
                replacements += used_replacements
    target_version, target_module, goos_arch = "", "", ("", "")
    if build_info is not None:
        target_version, target_module = build_info.go_version, build_info.main.path
        goos_arch = (build_info.settings.get("GOOS", ""), build_info.settings.get("GOARCH", ""))
        base = module_dir or here
        known = {r.module for r in replacements}
        for dep in build_info.deps:  # what go.mod and go.work here do not say already
            if dep.replace is not None and dep.path not in known:
                replacements.append(_from_build_info(dep, base))
    goroot = go_env.goroot()
    local_version = goroot_version(goroot) if goroot is not None else ""
    gomodcache = go_env.gomodcache()
    target_goroot = find_goroot_of(target_version, goroot, local_version, gomodcache, env, goos_arch)
    return SourceContext(here, module_path, module_dir, goroot, local_version, target_version, gomodcache,
                         tuple(rules), tuple(workspace), tuple(replacements), target_goroot, target_module)


def _from_build_info(dep, base: Path) -> Replacement:
    new = dep.replace
    if new.path.startswith(("./", "../", "/")) or new.path in (".", ".."):
        return Replacement(dep.path, "", (base / new.path).resolve())
    return Replacement(dep.path, "", None, new.path, new.version)


def _find_upwards(start: Path, name: str) -> Path | None:
    for directory in (start, *start.parents):
        candidate = directory / name
        if is_file(candidate):
            return candidate
    return None


def _gowork(here: Path, go_env: "GoEnv") -> Path | None:
    setting = go_env.get("GOWORK")
    if setting == "off":
        return None
    if setting:
        return Path(setting) if is_file(Path(setting)) else None
    return _find_upwards(here, "go.work")


class GoEnv:
    """Go's environment as cmd/go/internal/cfg reads it: a variable set
    non-empty, else the user's go env file ($GOENV, else
    $XDG_CONFIG_HOME/go/env or ~/.config/go/env; GOENV=off: none), else
    GOROOT/go.env, else the default."""

    def __init__(self, environ: Mapping[str, str]) -> None:
        self.environ = environ
        self.file = _read_env_file(self._env_file())
        self._goroot_file: dict[str, str] | None = None

    def _env_file(self) -> Path | None:
        setting = self.environ.get("GOENV", "")
        if setting == "off":
            return None
        if setting:
            return Path(setting)
        config = self.environ.get("XDG_CONFIG_HOME", "")
        if not config.startswith("/"):
            home = self.environ.get("HOME", "")
            if not home:
                return None
            config = os.path.join(home, ".config")
        return Path(config) / "go" / "env"

    def get(self, key: str) -> str:
        value = self.environ.get(key, "")
        if value:
            return value
        if self.file.get(key):
            return self.file[key]
        if key != "GOROOT":
            if self._goroot_file is None:
                goroot = self.goroot()
                self._goroot_file = _read_env_file(goroot / "go.env") if goroot is not None else {}
            return self._goroot_file.get(key, "")
        return ""

    def goroot(self) -> Path | None:
        """$GOROOT (or the env file's), else the GOROOT of the `go` on PATH
        (its ../.., symlinks resolved), else /usr/local/go."""
        setting = self.environ.get("GOROOT", "") or self.file.get("GOROOT", "")
        if setting:
            return Path(setting)
        for directory in self.environ.get("PATH", "").split(os.pathsep):
            exe = Path(directory or ".") / "go"
            if is_file(exe) and os.access(exe, os.X_OK):
                for candidate in (exe.absolute().parent.parent, exe.resolve().parent.parent):
                    if (candidate / "pkg" / "tool").is_dir() or (candidate / "src" / "runtime").is_dir():
                        return candidate
        fallback = Path("/usr/local/go")
        return fallback if (fallback / "src" / "runtime").is_dir() else None

    def gomodcache(self) -> Path | None:
        """$GOMODCACHE, else GOPATH's first entry + /pkg/mod, else ~/go/pkg/mod."""
        setting = self.get("GOMODCACHE")
        if setting:
            return Path(setting)
        gopath = self.get("GOPATH")
        first = gopath.split(os.pathsep)[0] if gopath else ""
        if not first:
            home = self.environ.get("HOME", "")
            if not home:
                return None
            first = os.path.join(home, "go")
        return Path(first) / "pkg" / "mod"


def _read_env_file(path: Path | None) -> dict[str, str]:
    """KEY=VALUE lines as cmd/go reads them: others (comments, junk) ignored."""
    if path is None:
        return {}
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return {}
    out = {}
    for line in text.split("\n"):
        key, sep, value = line.partition("=")
        if sep and key and "A" <= key[0] <= "Z":
            out[key] = value
    return out


_BOOTSTRAP_VERSION = re.compile(r'const version = `?"?(go[^`"\s]+)')


def go_version(text: str) -> str:
    """go1.22.1 of `go1.22.1 X:boringcrypto` or `go1.22.1`."""
    return text.split()[0] if text.split() else ""


def goroot_version(goroot: Path) -> str:
    """The Go version of a GOROOT: VERSION's first line (release builds),
    else the version cmd/dist wrote into internal/buildcfg; "" unknown."""
    try:
        first = (goroot / "VERSION").read_text(errors="replace").split("\n", 1)[0].strip()
        if first.startswith("go"):
            return first
    except OSError:
        pass
    try:
        found = _BOOTSTRAP_VERSION.search((goroot / "src" / "internal" / "buildcfg" / "zbootstrap.go").read_text())
        return found[1] if found else ""
    except OSError:
        return ""


def find_goroot_of(version: str, goroot: Path | None, local_version: str, gomodcache: Path | None,
                   environ: Mapping[str, str], goos_arch: tuple[str, str] = ("", "")) -> Path | None:
    """A GOROOT of exactly this Go version on this machine, if any: the
    local one; a toolchain the go command downloaded into the module cache
    (golang.org/toolchain@v0.0.1-go1.22.1.linux-amd64); golang.org/dl's
    ~/sdk/go1.22.1; a distribution's /usr/lib/go-1.22."""
    wanted = go_version(version)
    if not wanted:
        return None
    if goroot is not None and go_version(local_version) == wanted:
        return goroot
    candidates: list[Path] = []
    if gomodcache is not None:
        toolchains = gomodcache / "golang.org" / "toolchain"
        goos, goarch = goos_arch
        if goos and goarch:
            candidates.append(Path(f"{toolchains}@v0.0.1-{wanted}.{goos}-{goarch}"))
        else:
            candidates += sorted(Path(p) for p in glob.glob(f"{glob.escape(str(toolchains))}@v0.0.1-{wanted}.*"))
    home = environ.get("HOME", "")
    if home:
        candidates.append(Path(home) / "sdk" / wanted)
    minor = re.match(r"go(\d+\.\d+)", wanted)
    if minor:
        candidates.append(Path(f"/usr/lib/go-{minor[1]}"))
    for candidate in candidates:
        if (candidate / "src" / "runtime").is_dir() and goroot_version(candidate) == wanted:
            return candidate
    return None


# --- go.mod and go.work ----------------------------------------------------

_TOKEN = re.compile(r'"(?:[^"\\]|\\.)*"|`[^`]*`|=>|[^\s"`]+')


def _tokens(line: str) -> list[str]:
    line = re.sub(r"(^|\s)//.*$", "", line)
    out = []
    for token in _TOKEN.findall(line):
        if token[0] == '"':
            token = re.sub(r"\\(.)", r"\1", token[1:-1])
        elif token[0] == "`":
            token = token[1:-1]
        out.append(token)
    return out


def _directives(text: str) -> list[tuple[str, list[str]]]:
    """(verb, arguments) of each directive, blocks `verb ( ... )` expanded."""
    out, block = [], None
    for line in text.split("\n"):
        tokens = _tokens(line)
        if not tokens:
            continue
        if block is not None:
            if tokens == [")"]:
                block = None
            else:
                out.append((block, tokens))
        elif len(tokens) == 2 and tokens[1] == "(":
            block = tokens[0]
        else:
            out.append((tokens[0], tokens[1:]))
    return out


def _replace(arguments: list[str], base: Path) -> Replacement | None:
    if "=>" not in arguments:
        return None
    arrow = arguments.index("=>")
    old, new = arguments[:arrow], arguments[arrow + 1:]
    if not old or not new:
        return None
    version = old[1] if len(old) > 1 else ""
    target = new[0]
    if len(new) == 1 and (target.startswith(("./", "../", "/")) or target in (".", "..")):
        return Replacement(old[0], version, (base / target).resolve())
    return Replacement(old[0], version, None, target, new[1] if len(new) > 1 else "")


def parse_gomod(text: str, directory: Path) -> tuple[str, list[Replacement]]:
    """(module path, replace directives) of a go.mod in directory."""
    module, replacements = "", []
    for verb, arguments in _directives(text):
        if verb == "module" and arguments:
            module = arguments[0]
        elif verb == "replace":
            found = _replace(arguments, directory)
            if found is not None:
                replacements.append(found)
    return module, replacements


def parse_gowork(text: str, directory: Path) -> tuple[list[Path], list[Replacement]]:
    """(the directories of `use`, replace directives) of a go.work."""
    uses, replacements = [], []
    for verb, arguments in _directives(text):
        if verb == "use" and arguments:
            uses.append((directory / arguments[0]).resolve())
        elif verb == "replace":
            found = _replace(arguments, directory)
            if found is not None:
                replacements.append(found)
    return uses, replacements

