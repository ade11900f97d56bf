"""A panic value as Go's runtime prints it, from what Delve prints for it.

Go's fatalpanic prints each panic of the chain with printpanicval
(runtime/error.go), after preprintpanics turned error and Stringer values
into their strings (Go 1.18+), so for those the core holds a string. What
printpanicval prints, by the value's dynamic type:

    nil                                 nil
    bool, int*, uint*, uintptr          print(v): true, -3, 18446744073709551615
    float32, float64                    print(v): see below
    complex64, complex128               print(v): (re im i), see below
    string                              the text; Go 1.23+ puts a tab after each newline
    a named type of one of those kinds  TYPE(v); TYPE("text") for a string kind;
                                        TYPE(re+imi) for a complex kind (its own parens)
    any other type                      (TYPE) 0xADDR: the eface's data pointer

How print formats floats changed in Go 1.26 (runtime/print.go now calls
internal/strconv, new in 1.26):

    Go 1.26+     strconv.AppendFloat(v, 'g', -1, bits): the shortest text that
                 reads back (-300.5, -0.099999994, 1e+07); complexes through
                 AppendComplex: (0.11+3i), (50-1e+07i)
    Go <= 1.25   printfloat: sign, 7 digits, 3-digit exponent (-3.005000e+002,
                 +1.000000e-001); complexes (+1.100000e-001+3.000000e+000i)

Delve prints `interface {}(main.Celsius) -300.5`: the dynamic type in the
parentheses, then the value in its own format (floats as the shortest text
of their size, complexes `(50 + -10000000i)`, named constants
`minOpcode (-2147483648)`, strings quoted and cut at max-string-len). The
kind of a named type is not in that text; pass it (Delve:
`print (*runtime.eface)(uintptr(&P.arg))._type.Kind_`, `._type.kind & 31`
before Go 1.21) or it is guessed from the value's shape, and the data pointer
printed for other types (`print (*runtime.eface)(uintptr(&P.arg)).data`).
See tests/data/go/README.md for the Delve commands on 1.20 and 1.27.

Pure: no I/O. Raises ParseError for text it cannot turn into Go's.
"""

from __future__ import annotations

import math
import re
import struct
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Sequence

from ..parse.errors import ParseError

# reflect.Kind numbers (internal/abi.Kind; runtime kind & kindMask before Go 1.21).
KINDS = {
    1: "bool", 2: "int", 3: "int8", 4: "int16", 5: "int32", 6: "int64", 7: "uint", 8: "uint8", 9: "uint16",
    10: "uint32", 11: "uint64", 12: "uintptr", 13: "float32", 14: "float64", 15: "complex64",
    16: "complex128", 17: "array", 18: "chan", 19: "func", 20: "interface", 21: "map", 22: "ptr",
    23: "slice", 24: "string", 25: "struct", 26: "unsafe.Pointer",
}
_BASIC = {"bool", "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64",
          "uintptr", "float32", "float64", "complex64", "complex128", "string"}
_ALIASES = {"byte": "uint8", "rune": "int32"}

# What Delve prints for an interface value:
#   interface {}(string) "x"                   interface {}(main.MyBool) true
#   interface {}(main.Phasor) (0.11 + 3i)      interface {}(main.T) {A: 1}
#   error(*errors.errorString) *{s: "boom"}    any(int) 3
#   interface {}(*main.Request) *{Method: "BREW", Path: "/coffee"}
# The dynamic type is read up to the first `) `: a type holding `) ` itself
# (`func(int) string`) would be cut short; no panic value seen has one.
_INTERFACE = re.compile(r"^(?P<static>interface \{\}|any|error|[\w./*\[\]]+)\((?P<type>.+?)\) (?P<value>.*)$", re.S)
#   interface {} nil     error nil
_NIL_INTERFACE = re.compile(r"^(?:interface \{\}|any|error|[\w./*\[\]]+) nil$")
# A named constant or a flag set, as Delve decorates an integer: `minOpcode (-2147483648)`,
# `BoundsIndex (0)`, `TFlagUncommon|TFlagNamed (7)`.
_CONSTANT = re.compile(r"^[\w.|]+ \((?P<number>-?\d+)\)$")
# Delve's complex: `(0.11 + 3i)`, `(50 + -10000000i)` (seen); `(+Inf + NaNi)` (unverified).
_COMPLEX = re.compile(r"^\((?P<re>\S+) \+ (?P<im>\S+)i\)$")
# Delve's Kind_ as it prints it, named by some constant of the kind type it found
# (`Float32 (13)`, `internal/reflectlite.String (24)`), or the bare number of the
# runtime's kind byte before Go 1.21 (`13`, or `54`: 22 with kindDirectIface).
_DELVE_KIND = re.compile(r"^(?:\S+ \()?(?P<number>\d+)\)?$")
_INTEGER = re.compile(r"^-?\d+$")
_CUT = re.compile(r'\.\.\.\+\d+ more"?$')


def kind_from_delve(text: str) -> str:
    """The kind name from Delve's print of `_type.Kind_` (`Float32 (13)`) or `_type.kind` (`13`, `54`)."""
    match = _DELVE_KIND.match(text.strip())
    if match is None:
        raise ParseError(f"not a type kind: {text!r}", text)
    number = int(match["number"]) & 31  # kindDirectIface and kindGCProg are flags above the kind
    if number not in KINDS:
        raise ParseError(f"unknown type kind {number}", text)
    return KINDS[number]


def go_minor(go_version: str) -> int:
    """21 for "go1.21.3" / "1.21"; ParseError for anything else."""
    match = re.match(r"^(?:go)?1\.(\d+)", go_version.strip())
    if match is None:
        raise ParseError(f"not a Go version: {go_version!r}", go_version)
    return int(match[1])


def printpanicval(delve_value: str, go_version: str, *, kind: str | None = None,
                 address: int | None = None) -> str:
    """What printpanicval prints for the value Delve shows as delve_value.

    go_version is the version of Go that built the program (the target's,
    not the machine's). kind is the kind of the dynamic type (needed to tell
    a float64 100 from an int 100 when the type is named); address is the
    interface's data pointer, printed for types that are not basic."""
    minor = go_minor(go_version)
    text = delve_value.strip()
    if _NIL_INTERFACE.match(text):
        return "nil"
    match = _INTERFACE.match(text)
    if match is None:
        raise ParseError(f"not an interface value as Delve prints it: {text!r}", delve_value)
    dynamic, value = match["type"], match["value"].strip()
    kind = _ALIASES.get(kind or "", kind)
    if dynamic in _BASIC or dynamic in _ALIASES:
        return _basic(_ALIASES.get(dynamic, dynamic), value, minor, delve_value)
    kind = kind or _guess_kind(value)
    if kind in _BASIC:
        if kind == "string":
            return f'{dynamic}("{_indented(_unquote(value, delve_value), minor)}")'
        if kind in ("complex64", "complex128"):
            return dynamic + _basic(kind, value, minor, delve_value)
        return f"{dynamic}({_basic(kind, value, minor, delve_value)})"
    if address is None:
        raise ParseError(f"a {dynamic} prints as its address: pass the interface's data pointer", delve_value)
    return f"({dynamic}) 0x{address:x}"


def _guess_kind(value: str) -> str | None:
    if value.startswith('"'):
        return "string"
    if value in ("true", "false"):
        return "bool"
    if _COMPLEX.match(value):
        return "complex128"
    number = _number_text(value)
    if _INTEGER.match(number):
        return "int"
    if _float_of(number) is not None:
        return "float64"
    return None


def _basic(kind: str, value: str, minor: int, raw: str) -> str:
    if kind == "string":
        return _indented(_unquote(value, raw), minor)
    if kind == "bool":
        if value not in ("true", "false"):
            raise ParseError(f"not a bool: {value!r}", raw)
        return value
    if kind in ("float32", "float64"):
        number = _float_of(_number_text(value))
        if number is None:
            raise ParseError(f"not a float: {value!r}", raw)
        return format_float(number, 32 if kind == "float32" else 64, minor)
    if kind in ("complex64", "complex128"):
        match = _COMPLEX.match(value)
        parts = (_float_of(match["re"]), _float_of(match["im"])) if match else (None, None)
        if parts[0] is None or parts[1] is None:
            raise ParseError(f"not a complex: {value!r}", raw)
        return format_complex(parts[0], parts[1], 32 if kind == "complex64" else 64, minor)
    number = _number_text(value)
    if not _INTEGER.match(number):
        raise ParseError(f"not an integer: {value!r}", raw)
    return str(int(number))


def _number_text(value: str) -> str:
    constant = _CONSTANT.match(value)
    return constant["number"] if constant else value


def _float_of(text: str) -> float | None:
    special = {"+Inf": math.inf, "Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan, "+NaN": math.nan}
    if text in special:
        return special[text]
    try:
        return float(Decimal(text))
    except (InvalidOperation, ValueError, OverflowError):
        return None


def _unquote(value: str, raw: str) -> str:
    if _CUT.search(value):
        raise ParseError("Delve cut the string (raise `config max-string-len`)", raw)
    if len(value) < 2 or value[0] != '"' or value[-1] != '"':
        raise ParseError(f"not a quoted string: {value!r}", raw)
    out, i, body = [], 0, value[1:-1]
    simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t", "v": "\v", "\\": "\\", "'": "'",
              '"': '"'}
    while i < len(body):
        ch = body[i]
        if ch != "\\":
            out.append(ch)
            i += 1
            continue
        code = body[i + 1: i + 2]
        if code in simple:
            out.append(simple[code])
            i += 2
        elif code in ("x", "u", "U"):
            width = {"x": 2, "u": 4, "U": 8}[code]
            digits = body[i + 2: i + 2 + width]
            if len(digits) != width or not all(c in "0123456789abcdefABCDEF" for c in digits):
                raise ParseError(f"bad escape in {value!r}", raw)
            point = int(digits, 16)
            # \xNN is a byte: keep it as the code point (the text is compared, not re-encoded)
            out.append(chr(point) if point <= 0x10FFFF else "\ufffd")
            i += 2 + width
        elif code.isdigit():
            digits = body[i + 1: i + 4]
            if len(digits) != 3 or not all(c in "01234567" for c in digits):
                raise ParseError(f"bad escape in {value!r}", raw)
            out.append(chr(int(digits, 8)))
            i += 4
        else:
            raise ParseError(f"bad escape in {value!r}", raw)
    return "".join(out)


def _indented(text: str, minor: int) -> str:
    """printindented (Go 1.23+): a tab after each newline, so that a value
    cannot pass for a goroutine header."""
    return text.replace("\n", "\n\t") if minor >= 23 else text


def format_float(value: float, bits: int, minor: int) -> str:
    """print(v) of a float32 (bits=32) or float64 value, as the Go of that minor version does."""
    if bits == 32:
        value = _to_float32(value)
    return _shortest(value, bits) if minor >= 26 else _legacy_float(value)


def format_complex(real: float, imag: float, bits: int, minor: int) -> str:
    """print(c) of a complex64 (bits=32: float32 parts) or complex128."""
    if minor < 26:
        if bits == 32:
            real, imag = _to_float32(real), _to_float32(imag)
        return f"({_legacy_float(real)}{_legacy_float(imag)}i)"
    re_text, im_text = format_float(real, bits, minor), format_float(imag, bits, minor)
    if im_text[0] not in "+-":
        im_text = "+" + im_text  # strconv.AppendComplex always signs the imaginary part
    return f"({re_text}{im_text}i)"


def _to_float32(value: float) -> float:
    if math.isnan(value) or math.isinf(value):
        return value
    try:
        return struct.unpack("<f", struct.pack("<f", value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)


def _legacy_float(v: float) -> str:
    """runtime.printfloat before Go 1.26, step by step in float64 arithmetic."""
    if v != v:
        return "NaN"
    if v + v == v and v > 0:
        return "+Inf"
    if v + v == v and v < 0:
        return "-Inf"
    n = 7  # digits printed
    buf = ["+"] + ["0"] * (n + 6)
    e = 0
    if v == 0:
        if math.copysign(1.0, v) < 0:
            buf[0] = "-"
    else:
        if v < 0:
            v = -v
            buf[0] = "-"
        while v >= 10:  # normalize
            e += 1
            v /= 10
        while v < 1:
            e -= 1
            v *= 10
        h = 5.0  # round
        for _ in range(n):
            h /= 10
        v += h
        if v >= 10:
            e += 1
            v /= 10
    for i in range(n):  # format +d.dddd+edd
        s = int(v)
        buf[i + 2] = chr(s + ord("0"))
        v -= float(s)
        v *= 10
    buf[1] = buf[2]
    buf[2] = "."
    buf[n + 2] = "e"
    buf[n + 3] = "+"
    if e < 0:
        e = -e
        buf[n + 3] = "-"
    buf[n + 4] = chr(e // 100 + ord("0"))
    buf[n + 5] = chr((e // 10) % 10 + ord("0"))
    buf[n + 6] = chr(e % 10 + ord("0"))
    return "".join(buf)


def _shortest(v: float, bits: int) -> str:
    """strconv.FormatFloat(v, 'g', -1, bits) (internal/strconv/ftoa.go): the
    shortest decimal that reads back as v at that size; %e form (at least
    two exponent digits) when its exponent is < -4 or >= 6, else %f."""
    if math.isnan(v):
        return "NaN"
    if math.isinf(v):
        return "+Inf" if v > 0 else "-Inf"
    negative = math.copysign(1.0, v) < 0
    if v == 0:
        return "-0" if negative else "0"
    digits, point = _shortest_digits(abs(v), bits)
    return ("-" if negative else "") + _format_g(digits, point)


def _format_g(digits: str, point: int) -> str:
    """digits (no leading or trailing zeros) times 10**(point - len(digits)),
    as formatDigits prints it for 'g' with the shortest precision."""
    exp = point - 1
    if exp < -4 or exp >= 6:
        mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
        return f"{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"
    if point <= 0:
        return "0." + "0" * (-point) + digits
    if point >= len(digits):
        return digits + "0" * (point - len(digits))
    return digits[:point] + "." + digits[point:]


def _shortest_digits(v: float, bits: int) -> tuple[str, int]:
    """(digits, decimal point) of the shortest decimal that rounds to v at
    the given size; of those, the closest to v, a tie to the even last digit
    (Go 1.26's Dragonbox, internal/strconv/ftoadbox.go)."""
    exact = Fraction(v)
    low, high, inclusive = _interval(v, bits)
    for precision in range(1, 18):
        count, scale = _neighbours(exact, precision)
        below, above = count * scale, (count + 1) * scale
        fits = [c for c in (below, above) if low < c < high or (inclusive and c in (low, high))]
        if len(fits) == 2 and below - exact == exact - above:
            return _digits_of(below if count % 2 == 0 else above)
        if fits:
            return _digits_of(min(fits, key=lambda c: abs(c - exact)))
    raise AssertionError(f"no decimal of 17 digits reads back as {v!r}")  # 17 digits always do


def _interval(v: float, bits: int) -> tuple[Fraction, Fraction, bool]:
    """The reals that round to v (half to even): between the midpoints to its
    neighbours, the midpoints included when v's mantissa is even."""
    pack, unpack = ("<f", "<I") if bits == 32 else ("<d", "<Q")
    (word,) = struct.unpack(unpack, struct.pack(pack, v))
    down = struct.unpack(pack, struct.pack(unpack, word - 1))[0]
    up = struct.unpack(pack, struct.pack(unpack, word + 1))[0]
    exact = Fraction(v)
    low = (exact + Fraction(down)) / 2
    high = exact + (exact - low) if math.isinf(up) else (exact + Fraction(up)) / 2
    return low, high, word % 2 == 0


def _neighbours(exact: Fraction, precision: int) -> tuple[int, Fraction]:
    """(k, scale): k * scale and (k + 1) * scale are the decimals of
    `precision` significant digits just below and above exact."""
    scale = Fraction(10) ** (_decimal_point(exact) - precision)
    return (exact / scale).__floor__(), scale


def _decimal_point(exact: Fraction) -> int:
    """p such that 10**(p-1) <= exact < 10**p."""
    point = len(str(exact.numerator)) - len(str(exact.denominator))
    while Fraction(10) ** point <= exact:
        point += 1
    while Fraction(10) ** (point - 1) > exact:
        point -= 1
    return point


def _digits_of(value: Fraction) -> tuple[str, int]:
    """The significant digits of a decimal of at most 17 of them, and its point."""
    point = _decimal_point(value)
    scaled = value / Fraction(10) ** (point - 17)
    return str(int(scaled)).rstrip("0"), point


@dataclass(frozen=True)
class PanicLink:
    """One _panic record of a goroutine's chain, its value already as
    printpanicval prints it (printpanicval() above)."""

    value: str
    recovered: bool = False
    repanicked: bool = False  # Go 1.25+: preprintpanics marks a link re-panicked with the same value
    goexit: bool = False  # a runtime.Goexit: prints nothing


def printpanics(oldest_first: Sequence[PanicLink], go_version: str) -> tuple[str, ...]:
    """The lines runtime.printpanics prints for a chain, oldest panic first:
    `\\t` before each later panic, ` [recovered]`, Go 1.25+
    ` [recovered, repanicked]` and a repanicked link's successor not printed
    again, Goexit links printing nothing (runtime/panic.go)."""
    minor = go_minor(go_version)
    out: list[str] = []
    for index, link in enumerate(oldest_first):
        previous = oldest_first[index - 1] if index else None
        if previous is not None:
            if minor >= 25 and previous.repanicked:
                # printpanics returns before printing this link; so do the later
                # links' calls up the recursion only if their own link is repanicked
                continue
            if not previous.goexit:
                out.append("\t")
        if link.goexit:
            continue
        suffix = ""
        if link.recovered and link.repanicked and minor >= 25:
            suffix = " [recovered, repanicked]"
        elif link.recovered:
            suffix = " [recovered]"
        out.append(f"panic: {link.value}{suffix}\n")
    return tuple("".join(out).splitlines())
