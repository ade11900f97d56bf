"""Where a frame's source file is on this machine: pure path mapping.

A production core comes from a CI build, opened on a developer's machine
from their own checkout. The DWARF path of a frame is then one of:

    /home/runner/work/svc/svc/cmd/api/main.go     absolute, from the build machine
    example.com/svc/cmd/api/main.go                -trimpath: main module path + file
    gopkg.in/yaml.v3@v3.0.1/yaml.go                -trimpath: module@version + file
    runtime/panic.go                               -trimpath: GOROOT/src-relative
    /opt/hostedtoolcache/go/1.22.1/x64/src/runtime/panic.go
    /home/runner/go/pkg/mod/gopkg.in/yaml.v3@v3.0.1/yaml.go

locate() tries, in order, and says which step found it (Located.origin):

1. "substitute-path": the user's --substitute-path FROM=TO rules;
2. "as built": the path itself, when absolute (or `./x`, a path Delve
   printed relative to the directory it ran in);
3. "checkout": a main-module path under the checkout the user stands in
   (the go.mod found upwards from the current directory, and go.work's
   modules); a module@version path whose module go.mod (or the binary's
   build info) replaces with a directory; "vendor": module@version paths
   under the checkout's vendor/;
4. "GOROOT": standard library paths, trimmed or absolute from another
   machine, under a GOROOT of the target's Go version if this machine has
   one (a toolchain in the module cache, ~/sdk/goX, /usr/lib/go-X.Y), else
   the local GOROOT, with a warning when its version differs (line numbers
   may not match);
5. "module cache": module@version paths (and absolute .../pkg/mod/...
   paths) under GOMODCACHE, with the cache's !-escaping of upper case,
   through go.mod's module replacements;
6. "checkout" again for absolute paths whose tail is under the checkout,
   then "under cwd": the file under the current directory with the
   longest matching tail (kept last).

When none does, Located.path is None and Located.missing says why, with what to
do: for a module that is not in the cache, the exact `go mod download
module@version`. Only regular files count (DWARF paths are data from the
core's build). build_context() reads the environment once into a
SourceContext; everything else is a function of the path and that value.
"""

from __future__ import annotations

import glob
import os
import re
import stat
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Iterable, Mapping, Sequence

from ..model import BuildInfo

class Origin(StrEnum):
    """Where a frame's source was found: the one vocabulary of every pane,
    the report and the README."""

    SUBSTITUTE = "substitute-path"
    AS_BUILT = "as built"
    CHECKOUT = "checkout"
    VENDOR = "vendor"
    GOROOT = "GOROOT"
    MODULE_CACHE = "module cache"
    UNDER_CWD = "under cwd"


SUBSTITUTE, AS_BUILT, CHECKOUT, VENDOR, GOROOT, MODULE_CACHE, UNDER_CWD = Origin
ORIGINS = tuple(Origin)
# What a frame whose source was not found says, where an origin would be.
MISSING = "missing"

# How far below the current directory the last step looks.
_SEARCH_DEPTH = 6


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


@dataclass(frozen=True)
class Located:
    """path: the file on this machine, or None; origin: which step found
    it; missing: why it was not found, and what to do; warning: something
    to say about a file found (another Go version's GOROOT)."""

    path: Path | None
    origin: Origin | None = None
    warning: str = ""
    missing: str = ""

    @property
    def found(self) -> bool:
        return self.path is not None


def locate(requested: str, ctx: SourceContext) -> Located:
    """The file on this machine for a DWARF path (see the module docstring)."""
    if not requested or requested == "?":
        return Located(None, missing="no source file is recorded for this frame")
    if requested.startswith("<"):  # <autogenerated>, <stdin>
        return Located(None, missing=f"{requested}: code the compiler generated; it has no source file")
    # 1. The user's rules, as Delve's substitute-path: the first FROM that prefixes the path.
    for source, target in ctx.rules:
        candidate = _substitute(requested, source, target)
        if candidate is not None and not candidate.is_absolute():
            candidate = ctx.cwd / candidate  # a relative TO is relative to where the user stands
        if candidate is not None and _is_file(candidate):
            return Located(candidate, SUBSTITUTE)
    absolute = requested.startswith("/")
    # 2. As built (the machine that built it, or one with the same layout).
    if absolute and _is_file(Path(requested)):
        return Located(Path(requested), AS_BUILT)
    # A path Delve shortened to its working directory (`./main.go`, from a
    # recording or a dlv run where the user stands): that directory here.
    if requested.startswith(("./", "../")):
        candidate = Path(os.path.normpath(ctx.cwd / requested))
        if _is_file(candidate):
            return Located(candidate, AS_BUILT)
    reasons: list[str] = []
    # 3. The checkout: the main module and the workspace's, by module path.
    if not absolute:
        for module, directory in ctx.modules():
            rest = _under(requested, module)
            if rest is not None:
                candidate = directory / rest
                if _is_file(candidate):
                    return Located(candidate, VENDOR if rest.startswith("vendor/") else CHECKOUT)
                reasons.append(f"{requested} is not in the checkout of {module} at {directory}: "
                               f"is it the revision the binary was built from?")
    versioned = _module_version(requested, ctx.gomodcache)
    if versioned is not None:
        module, version, rest = versioned
        replacement = _replacement(ctx.replacements, module, version)
        if replacement is not None and replacement.directory is not None:
            candidate = replacement.directory / rest
            if _is_file(candidate):
                return Located(candidate, CHECKOUT)
            reasons.append(f"{requested}: go.mod replaces {module} with {replacement.directory}, "
                           f"which has no {rest}")
        for _, directory in ctx.modules():
            candidate = directory / "vendor" / module / rest
            if _is_file(candidate):
                return Located(candidate, VENDOR)
    elif absolute and "/vendor/" in requested:
        after = requested.rsplit("/vendor/", 1)[1]
        for _, directory in ctx.modules():
            candidate = directory / "vendor" / after
            if _is_file(candidate):
                return Located(candidate, VENDOR)
    # 4. The standard library.
    std = _goroot_relative(requested)
    if std:
        if ctx.target_goroot is not None:
            candidate = ctx.target_goroot / "src" / std
            if _is_file(candidate):
                return Located(candidate, GOROOT)
        if ctx.goroot is not None:
            candidate = ctx.goroot / "src" / std
            if _is_file(candidate):
                return Located(candidate, GOROOT, _version_warning(std, ctx))
        if not reasons and not absolute:
            reasons.append(f"{requested} is not in GOROOT {ctx.goroot}" if ctx.goroot is not None else
                           f"{requested} is in Go's standard library, but this machine has no GOROOT: "
                           f"install Go or set GOROOT")
    # 5. The module cache.
    if versioned is not None:
        module, version, rest = versioned
        replacement = _replacement(ctx.replacements, module, version)
        if replacement is not None and replacement.directory is None and replacement.new_module:
            module, version = replacement.new_module, replacement.new_version or version
        if ctx.gomodcache is not None:
            candidate = ctx.gomodcache / f"{escape_path(module)}@{escape_path(version)}" / rest
            if _is_file(candidate):
                return Located(candidate, MODULE_CACHE)
        if replacement is None or replacement.directory is None:
            where = f" {ctx.gomodcache}" if ctx.gomodcache is not None else ""
            reasons.insert(0, f"{module}@{version} is not in the module cache{where}: "
                              f"run `go mod download {module}@{version}`")
    # 6. Tails: under the checkout (absolute paths from another machine), then under cwd.
    if absolute:
        for _, directory in ctx.modules():
            candidate = _tail_under(requested, directory)
            if candidate is not None:
                return Located(candidate, CHECKOUT)
    candidate = find_by_tail(requested, ctx.cwd)
    if candidate is not None:
        return Located(candidate, UNDER_CWD)
    if not reasons and ctx.target_module and not absolute and _under(requested, ctx.target_module) is not None:
        if ctx.module_path:
            reasons.append(f"{requested} is in module {ctx.target_module}, but the go.mod here "
                           f"({ctx.module_dir}/go.mod) is module {ctx.module_path}: "
                           f"run from a checkout of {ctx.target_module}")
        else:
            reasons.append(f"{requested} is in module {ctx.target_module}: run from a checkout of it "
                           f"(no go.mod above {ctx.cwd})")
    if reasons:
        return Located(None, missing=reasons[0])
    if absolute:
        # Built on another machine (or moved since): where its sources are
        # here is for the user to say, unless they stand in a checkout.
        return Located(None, missing=f"{requested} is not on this machine: run gocore-tui from a checkout of "
                                     f"the program's sources, or map the directory it was built in with "
                                     f"--substitute-path FROM=TO")
    return Located(None, missing=f"{requested} is not on this machine: run gocore-tui from the directory the "
                                 f"program was built in (or a checkout of it)")


def _is_file(path: Path) -> bool:
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except (OSError, ValueError):
        return False


def _substitute(requested: str, source: str, target: str) -> Path | None:
    source = source.rstrip("/") or "/"
    if requested == source:
        return Path(target)
    prefix = source if source.endswith("/") else source + "/"
    if requested.startswith(prefix):
        return Path(target.rstrip("/") + "/" + requested[len(prefix):]) if target else Path(requested[len(prefix):])
    return None


def _under(path: str, prefix: str) -> str | None:
    """The rest of path below prefix (an import path), or None."""
    if prefix and path.startswith(prefix + "/") and len(path) > len(prefix) + 1:
        return path[len(prefix) + 1:]
    return None


def _replacement(replacements: Sequence[Replacement], module: str, version: str) -> Replacement | None:
    # As go.mod means it: a replacement of one version wins over one of all versions.
    exact = [r for r in replacements if r.module == module and r.version == version]
    every = [r for r in replacements if r.module == module and not r.version]
    return (exact or every or [None])[0]


# --- path shapes -----------------------------------------------------------

def _module_version(requested: str, gomodcache: Path | None = None) -> tuple[str, str, str] | None:
    """(module, version, file) of a module@version path: trimmed
    (`gopkg.in/yaml.v3@v3.0.1/yaml.go`), or an absolute path into a module
    cache on the build machine, escaped: `.../pkg/mod/github.com/!burnt!sushi/toml@v1.3.2/x.go`,
    or under another GOMODCACHE, where the module path starts at an
    element with a dot (its host; the first such whose module is in the
    local cache, else the first)."""
    if not requested.startswith("/"):
        return _split_versioned(requested, escaped=False)
    if "/pkg/mod/" in requested:
        found = _split_versioned(requested.rsplit("/pkg/mod/", 1)[1], escaped=True)
        if found is not None:
            return found
    parts = requested.split("/")
    at = next((i for i, part in enumerate(parts) if "@" in part), None)
    if at is None:
        return None
    candidates = [found for start in range(1, at + 1) if "." in parts[start].split("@")[0]
                  for found in [_split_versioned("/".join(parts[start:]), escaped=True)] if found is not None]
    for module, version, rest in candidates:
        if gomodcache is not None and (gomodcache / f"{escape_path(module)}@{escape_path(version)}").is_dir():
            return module, version, rest
    return candidates[0] if candidates else None


def _split_versioned(text: str, escaped: bool) -> tuple[str, str, str] | None:
    module, sep, after = text.partition("@")
    version, slash, rest = after.partition("/")
    if not sep or not slash or not module or not version or not rest or module.startswith("/"):
        return None
    if escaped:
        module, version = unescape_path(module), unescape_path(version)
    return module, version, rest


def _goroot_relative(requested: str) -> str:
    """The GOROOT/src-relative path of a standard library file, or ""."""
    if requested.startswith("$GOROOT/src/"):
        return requested[len("$GOROOT/src/"):]
    if not requested.startswith("/"):
        first = requested.split("/", 1)[0]
        # Standard import paths have no dot in their first element; modules do (their host).
        if "/" in requested and "." not in first and "@" not in requested:
            return requested
        return ""
    parts = requested.split("/src/")
    for i in range(len(parts) - 1, 0, -1):
        rest = "/src/".join(parts[i:])
        first = rest.split("/", 1)[0]
        if "/" in rest and "." not in first and "@" not in rest:
            return rest
    return ""


def _version_warning(std: str, ctx: SourceContext) -> str:
    local, target = _version(ctx.local_go_version), _version(ctx.target_go_version)
    if not local or not target or local == target:
        return ""
    return (f"{std} is from this machine's {local} (GOROOT {ctx.goroot}); the program was built with "
            f"{target}, so its lines may not match")


def _version(text: str) -> str:
    """go1.22.1 of `go1.22.1 X:boringcrypto` or `go1.22.1`."""
    return text.split()[0] if text.split() else ""


def escape_path(path: str) -> str:
    """The module cache's spelling (golang.org/x/mod/module.EscapePath):
    each upper-case letter as '!' and its lower case."""
    return re.sub(r"[A-Z]", lambda m: "!" + m[0].lower(), path)


def unescape_path(path: str) -> str:
    return re.sub(r"!([a-z])", lambda m: m[1].upper(), path)


def _tail_under(requested: str, base: Path) -> Path | None:
    """base/<tail of requested>, the longest tail of at least a directory and a file."""
    parts = [p for p in requested.split("/") if p]
    for start in range(len(parts) - 1):
        candidate = base.joinpath(*parts[start:])
        if _is_file(candidate):
            return candidate
    return None


def find_by_tail(requested: str, base: Path) -> Path | None:
    """The last resort: base/<a tail of the path>, longest
    first; else the file of the same name within _SEARCH_DEPTH levels of
    base (hidden directories, node_modules and vendor skipped) that shares
    the most trailing components with it, at least two."""
    parts = [p for p in Path(requested).parts if p not in ("/", "")]
    for start in range(len(parts) - 1):
        candidate = base.joinpath(*parts[start:])
        if _is_file(candidate):
            return candidate
    name = parts[-1] if parts else ""
    if not name:
        return None
    best: tuple[int, Path] | None = None
    for root, dirs, files in os.walk(base):
        depth = len(Path(root).relative_to(base).parts)
        if depth >= _SEARCH_DEPTH:
            dirs[:] = []
        dirs[:] = sorted(d for d in dirs if not d.startswith(".") and d not in ("node_modules", "vendor"))
        if name in files:
            found = Path(root) / name
            score = _common_tail(found.parts, parts)
            if _is_file(found) and (best is None or score > best[0]):
                best = (score, found)
    return best[1] if best and best[0] >= 2 else None


def _common_tail(a: Sequence[str], b: Sequence[str]) -> int:
    count = 0
    for x, y in zip(reversed(a), reversed(b)):
        if x != y:
            break
        count += 1
    return count


# --- the context, from the environment -------------------------------------

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
            if _is_file(used):
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
        if _is_file(candidate):
            return candidate
    return None


def _gowork(here: Path, go_env: "GoEnv") -> Path | None:
    setting = go_env.get("GOWORK")
    if setting == "off":
        return None
    if setting:
        return Path(setting) if _is_file(Path(setting)) else None
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
            if _is_file(exe) and os.access(exe, os.X_OK):
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
    wanted = _version(version)
    if not wanted:
        return None
    if goroot is not None and _version(local_version) == wanted:
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


__all__ = ["ORIGINS", "Located", "Replacement", "SourceContext", "build_context", "escape_path", "find_by_tail",
           "find_goroot_of", "goroot_version", "locate", "parse_gomod", "parse_gowork", "unescape_path", "GoEnv"]
