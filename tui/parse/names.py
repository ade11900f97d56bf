"""Go symbol names as the linker writes them, and as users read them.

The compiler prefixes every symbol with its package's import path, escaped
by cmd/internal/objabi.PathToPrefix so that the first '.' after the last
'/' always ends the path: in the path's last element every '.' becomes
%2e, and anywhere in the path a control byte, space, '%', '"', DEL or a
non-ASCII byte becomes %xx (two lower-case hex digits). So Delve and Go's
own tracebacks print `gopkg.in/yaml%2ev3.handleErr` for what the import
statement calls gopkg.in/yaml.v3. The same prefix is used for package
paths that appear inside a name: type arguments of a generic instance
(`main.F[gopkg.in/yaml%2ev3.Node]`), itabs, method receivers.

Pure functions; no I/O.
"""

from __future__ import annotations

import re
from typing import Iterable

# One escape as PathToPrefix writes it. Upper-case hex is accepted too:
# objabi.PrefixToPath (the linker's inverse) accepts it.
_ESCAPE = re.compile(r"%([0-9a-fA-F]{2})")
# A run of escapes: bytes >= 0x80 of one UTF-8 character come as several.
_ESCAPES = re.compile(r"(?:%[0-9a-fA-F]{2})+")
# Names the compiler and linker make up that belong to no package:
# type:.eq.main.T (Go 1.21+), type..eq.main.T and type.*main.T (before),
# go:itab.*T,I (1.21+) and go.itab.* (before), go:buildid, go.shape.int (a
# generic's shape). Not go.uber.org/zap.New: `go.` only before a word the
# linker uses.
_SYNTHETIC = re.compile(r"^(?:type:|go:|type\.[.*]|go\.(?:itab|shape|string|buildid|func|importpath|info|cuinfo|"
                        r"map|track|builtin|link|weak|type|constinfo|interface|dict)\b)")
# gopkg.in's convention (and others'): a major version as the last
# element's suffix, `yaml.v3`. Used only to split a name whose path dots
# are not escaped (already decoded, or typed by a user).
_MAJOR_SUFFIX = re.compile(r"\.v[0-9]+(?=\.)")


def go_name(symbol: str) -> str:
    """The name as the user wrote it: `gopkg.in/yaml%2ev3.handleErr` ->
    `gopkg.in/yaml.v3.handleErr`.

    Decoded: every %xx PathToPrefix writes for a byte users can read: '.',
    '%', '"', and non-ASCII UTF-8 characters (a run of escapes that is
    valid UTF-8). Left escaped: control bytes, space and DEL (no import
    path holds them; decoding would hide them), bytes that are not valid
    UTF-8, and anything inside a double-quoted string (a struct tag in a
    type argument, where '%' is just a character). Never raises.
    """
    if "%" not in symbol:
        return symbol
    out: list[str] = []
    for piece, quoted in _split_quoted(symbol):
        out.append(piece if quoted else _ESCAPES.sub(_decode_run, piece))
    return "".join(out)


# Delve's typed pointer, its type quoted: `("*gopkg.in/yaml%2ev3.Node")(0xc000010000)`.
_TYPED_POINTER = re.compile(r'\("(\*?[^"]*)"\)\(0x')


def value_names(text: str) -> str:
    """A value as Delve prints it, with the names in it as users write them
    (`("*gopkg.in/yaml.v3.Node")(0x…)`, `gopkg.in/yaml.v3.Node {…}`): the
    escapes PathToPrefix wrote decoded in type names, quoted as Delve quotes
    a pointer's type or bare, and nowhere else (a string value keeps its '%')."""
    if "%" not in text:
        return text
    text = _TYPED_POINTER.sub(lambda m: f'("{go_name(m[1])}")(0x', text)
    return go_name(text)


def print_name(symbol: str) -> str:
    """A function's name as Go's traceback prints it (funcNameForPrint):
    decoded (go_name), and a generic instance's type arguments, which name
    the compiler's shapes (`main.Map[go.shape.int]`), shown as `[...]`."""
    name = go_name(symbol)
    first = name.find("[")
    if first < 0:
        return name
    last = name.rfind("]")
    if last <= first:
        return name
    return name[:first] + "[...]" + name[last + 1:]


def _decode_run(match: re.Match) -> str:
    run = match[0]
    raw = bytes(int(h, 16) for h in _ESCAPE.findall(run))
    out: list[str] = []
    i = 0
    while i < len(raw):
        byte = raw[i]
        if byte < 0x80:
            out.append(chr(byte) if 0x20 < byte < 0x7F else f"%{byte:02x}")
            i += 1
            continue
        # The bytes of one UTF-8 character, or the escape kept as it was.
        length = 2 if byte >> 5 == 0b110 else 3 if byte >> 4 == 0b1110 else 4 if byte >> 3 == 0b11110 else 0
        try:
            if not length:
                raise UnicodeDecodeError("utf-8", raw, i, i + 1, "not a leading byte")
            out.append(raw[i:i + length].decode("utf-8"))
            i += length
        except UnicodeDecodeError:
            out.append(run[3 * i:3 * i + 3])
            i += 1
    return "".join(out)


def _split_quoted(text: str) -> list[tuple[str, bool]]:
    """(piece, inside a "..." string) in order; backslash escapes inside quotes."""
    pieces: list[tuple[str, bool]] = []
    start, i, quoted = 0, 0, False
    while i < len(text):
        ch = text[i]
        if quoted and ch == "\\":
            i += 2
            continue
        if ch == '"':
            if quoted:
                pieces.append((text[start:i + 1], True))
                start = i + 1
            else:
                pieces.append((text[start:i], False))
                start = i
            quoted = not quoted
        i += 1
    pieces.append((text[start:], quoted))
    return [(piece, q) for piece, q in pieces if piece]


def package_of(function: str, known: Iterable[str] = ()) -> str:
    """The import path of the package a Go function belongs to, decoded.

        gopkg.in/yaml%2ev3.(*decoder).unmarshal -> gopkg.in/yaml.v3
        gopkg.in/yaml.v3.(*decoder).unmarshal   -> gopkg.in/yaml.v3
        main.main.func1                         -> main
        example.com/svc/x.(*T).M.func2          -> example.com/svc/x
        example.com/x.Map[example.com/y.T]      -> example.com/x
        main.(*List[...]).Push                  -> main

    The path ends at the first '.' after its last '/', looking only before
    the first '[' or '(' (type arguments and receivers hold paths and
    dots of their own). That is exact for the linker's escaped names. A
    name already decoded is ambiguous when the path's last element has a
    dot (`a/yaml.v3.F`: package a/yaml, type v3, method F?): then the
    longest of `known` (import or module paths, e.g. from the build info)
    that the name starts with wins, else a `.vN` major-version suffix
    stays with the path. "" for names of no package (type:.eq.T, go:itab.*,
    ?, empty).
    """
    name = function.strip()
    if not name or _SYNTHETIC.match(name):
        return ""
    cut = len(name)
    for stop in ("[", "("):
        at = name.find(stop)
        if at >= 0:
            cut = min(cut, at)
    head = name[:cut]
    slash = head.rfind("/")
    dot = head.find(".", slash + 1)
    if dot < 0:  # "?", a bare path: no function
        return ""
    path = name[:dot]
    if "%" in path:
        return go_name(path)
    best = ""
    for candidate in known:
        if len(candidate) > len(best) and name.startswith(candidate + ".") and "/" not in name[len(candidate):cut]:
            best = candidate
    if best:
        return best
    rest = name[dot:]
    suffix = _MAJOR_SUFFIX.match(rest)
    if suffix:
        path += suffix[0]
    return path


def function_part(function: str, known: Iterable[str] = ()) -> str:
    """What follows the package: `(*decoder).unmarshal` for
    `gopkg.in/yaml%2ev3.(*decoder).unmarshal`, decoded; the whole name
    (decoded) when it has no package."""
    decoded = go_name(function.strip())
    package = package_of(function, known)
    if package and decoded.startswith(package + "."):
        return decoded[len(package) + 1:]
    return decoded
