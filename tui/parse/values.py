"""Delve's printed values -> a tree of Variables.

Accepted shapes (single-line and `-v` multi-line alike; whitespace outside
strings is insignificant):
    "abc"   "aaaa...+936 more"   5   true   nil
    []int len: 3, cap: 3, [1,2,3]          [3]int [1,2,3]
    map[string]int ["a": 1, "b": 2, ]      main.T {A: 1, B: "x",...+2 more}
    *main.T {A: 1}   *main.T nil   (*main.T)(0xc000010000)
    ("*example.com/shop/internal/store.Store")(0xc000010000)
        (a type name with a path: Delve quotes it)
    (*time.Timer)(0xc0)\n*time.Timer {C: ...}        (pointer, -v form)
    error(*errors.errorString) *{s: "boom"}   interface {}(string) "PANIC"
    error(*errors.errorString) 0xc000012345   (an interface whose pointer
        Delve did not follow: the short form)
    (unreadable could not find loclist entry at 0x3fcab for address 0x437c5a)
"""

from __future__ import annotations

import re

from ..model import Variable
from .errors import ParseError
from .names import value_names

_OPENERS = {"{": "}", "[": "]", "(": ")"}
_CLOSERS = {v: k for k, v in _OPENERS.items()}
_MORE = re.compile(r"^\.\.\.\+(\d+) more$")
# `(*main.T)(0x...)`, or with the type quoted: `("*example.com/x/y.T")(0x...)`,
# `(*"example.com/x/y.T")(0x...)` (an element of a slice of them).
_POINTER_TYPE = r'\((?:\*[^)"]*|"\*[^"]*"|\*"[^"]*")\)'
_POINTER_HEADER = re.compile(rf"^{_POINTER_TYPE}\(0x[0-9a-f]+\)$")
_INTERFACE = re.compile(r"^(?P<iface>[\w./]+(?: \{\})?)\((?P<dyn>[^()]*(?:\([^()]*\))?[^()]*)\) (?P<value>.*)$", re.S)


def _scan(text: str):
    """Yield (index, char, depth) for characters outside string literals."""
    depth = 0
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch in "\"`":
            quote = ch
            i += 1
            while i < n and text[i] != quote:
                if quote == '"' and text[i] == "\\":
                    i += 1
                i += 1
            i += 1
            continue
        if ch == "'" and i + 2 < n:
            # rune literal such as 'a' or '\n'
            end = text.find("'", i + 2 if text[i + 1] == "\\" else i + 1)
            if end != -1 and end - i <= 12:
                i = end + 1
                continue
        if ch in _OPENERS:
            yield i, ch, depth
            depth += 1
        elif ch in _CLOSERS:
            depth -= 1
            if depth < 0:
                raise ParseError(f"unbalanced {ch!r} in value: {text[:120]!r}")
            yield i, ch, depth
        else:
            yield i, ch, depth
        i += 1


def _matching_close(text: str, start: int) -> int:
    for i, ch, depth in _scan(text[start:]):
        if ch in _CLOSERS and depth == 0:
            return start + i
    raise ParseError(f"unterminated {text[start]!r} in value: {text[:120]!r}")


def _split_top(text: str, sep: str) -> list[str]:
    parts, last = [], 0
    for i, ch, depth in _scan(text):
        if ch == sep and depth == 0:
            parts.append(text[last:i])
            last = i + 1
    parts.append(text[last:])
    return parts


def _key_split(item: str) -> tuple[str, str] | None:
    """`key: value` at depth 0, outside strings; None for a plain element."""
    for i, ch, depth in _scan(item):
        if ch == ":" and depth == 0 and item[i + 1:i + 2] in (" ", "\n", "\t", ""):
            return item[:i].strip(), item[i + 1:].strip()
    return None


def _body_start(text: str) -> int | None:
    """Where the composite body starts: a `{`/`[` at depth 0, after a space
    or `*`, whose matching bracket ends the text. Type names such as
    `map[string]int` or `[]int` never qualify."""
    for i, ch, depth in _scan(text):
        if depth == 0 and ch in "{[" and (i == 0 or text[i - 1] in " *\n\t"):
            if _matching_close(text, i) == len(text) - 1:
                return i
    return None


def one_line(text: str, limit: int = 160) -> str:
    """A value squeezed onto one line for labels and summaries."""
    squeezed = re.sub(r"\s*\n\s*", " ", text.strip())
    squeezed = re.sub(r"([{\[])\s+", r"\1", squeezed)
    squeezed = squeezed.replace(",}", "}").replace(", ]", "]").replace(",]", "]")
    return squeezed if len(squeezed) <= limit else squeezed[: limit - 1] + "…"


_ELIDED = re.compile(r"\.\.\.\+\d+ more|\[\.\.\.\]|\{\.\.\.\}")
# "(*main.T)(0xc000010000)", `("*a.b/c.T")(0xc0...)` or "*(*interface {})(0xc0...)":
# an address Delve did not follow.
_UNFOLLOWED_POINTER = re.compile(rf"^\*?{_POINTER_TYPE}\(0x[0-9a-f]*[1-9a-f][0-9a-f]*\)$")
# An interface holding a pointer, shown by its address only (short form).
_UNFOLLOWED_DYNAMIC = re.compile(r"^0x[0-9a-f]*[1-9a-f][0-9a-f]*$")


def _is_partial(text: str) -> bool:
    """Did Delve leave part of this value out (elisions, a pointer not followed)?"""
    return bool(_ELIDED.search(text) or _UNFOLLOWED_POINTER.match(text.strip()))


def parse_value(name: str, text: str, kind: str = "local", shadowed: bool = False, expr: str | None = None) -> Variable:
    """One value (as printed after `name = `) into a Variable tree.

    expr is the Go expression for it (default: name); children get theirs
    (`expr.field`, `expr[i]`), so an elided part can be printed in full later.
    Type names in it read as users write them (value_names).
    """
    text = value_names(text.strip())
    expr = name if expr is None else expr
    partial = _is_partial(text)
    if "\n" in text:
        head, _, rest = text.partition("\n")
        if _POINTER_HEADER.match(head.strip()):
            pointee = parse_value("*", rest, kind, expr=expr)
            return Variable(name, head.strip(), pointee.type, kind, pointee.children or (pointee,), shadowed,
                            expr, pointee.partial)
    if text.startswith("(unreadable"):
        return Variable(name, one_line(text), "", kind, (), shadowed)
    match = _INTERFACE.match(text)
    if match and not text.startswith(("[", "map[", "(")):
        inner = parse_value(name, match["value"], kind, shadowed, expr)
        type_text = f"{match['iface']}({match['dyn']})"
        followed = not (match["dyn"].startswith("*") and _UNFOLLOWED_DYNAMIC.match(match["value"].strip()))
        return Variable(name, one_line(text), type_text, kind, inner.children, shadowed, expr,
                        partial or not followed)
    start = _body_start(text)
    if start is None:
        return Variable(name, one_line(text), "", kind, (), shadowed, expr, partial)
    type_text = re.split(r" len: ", text[:start], maxsplit=1)[0].rstrip(" *").strip()
    body = text[start + 1:-1]
    children = _parse_items(body, text[start] == "{", kind, expr)
    return Variable(name, one_line(text), type_text, kind, children, shadowed, expr, partial)


# A slice's header inside a composite: `[]int len: 2, cap: 2, [1,2]` holds
# two commas of its own at the composite's depth.
_LEN_TAIL = re.compile(r"\blen: \d+$")
_CAP = re.compile(r"^cap: \d+$")


def _items(body: str) -> list[str]:
    """The composite's items, a slice's `len: N, cap: N, [...]` kept whole."""
    parts = _split_top(body, ",")
    items, i = [], 0
    while i < len(parts):
        if _LEN_TAIL.search(parts[i].strip()) and i + 2 < len(parts) and _CAP.match(parts[i + 1].strip()):
            items.append(",".join(parts[i:i + 3]))
            i += 3
        else:
            items.append(parts[i])
            i += 1
    return items


def _parse_items(body: str, is_struct: bool, kind: str, expr: str = "") -> tuple[Variable, ...]:
    children: list[Variable] = []
    index = 0
    for raw in _items(body):
        item = raw.strip()
        if not item or item == "...":  # "[...]": elements not loaded
            continue
        more = _MORE.match(item)
        if more:
            children.append(Variable(f"…+{more[1]} more", "", "", kind))
            continue
        if item.startswith("...+"):
            # Delve glues the elision onto the last item without a comma.
            continue
        tail = re.search(r"\.\.\.\+(\d+) more$", item)
        if tail and not item.startswith('"'):
            item = item[: tail.start()].rstrip()
        pair = _key_split(item)
        if pair and (is_struct or not item.startswith(("[", "{"))):
            key, value = pair
            if is_struct:
                children.append(parse_value(key, value, kind, expr=f"{expr}.{key}" if expr else ""))
            else:  # a map entry: no expression reaches it again
                children.append(parse_value(f"[{key}]", value, kind, expr=""))
        else:
            children.append(parse_value(f"[{index}]", item, kind, expr=f"{expr}[{index}]" if expr else ""))
            index += 1
        if tail:
            children.append(Variable(f"…+{tail[1]} more", "", "", kind))
    return tuple(children)


_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|[abfnrtv\\'\"])")
_SIMPLE_ESCAPES = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'", '"': '"'}


def unquote(text: str) -> str:
    """A Go-quoted string as Delve prints it, without quotes and escapes.

    Delve's elision (`"abc...+936 more"`) is kept as it is.
    """
    text = text.strip()
    if len(text) < 2 or text[0] != '"' or text[-1] != '"':
        return text

    def replace(match: re.Match) -> str:
        code = match[1]
        if code[0] in "xuU":
            return chr(int(code[1:], 16))
        return _SIMPLE_ESCAPES[code]

    return _ESCAPE.sub(replace, text[1:-1])
