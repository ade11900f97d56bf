"""tui.analysis.panicvalue against what Go really printed.

- tests/data/go/<go>/print-floats.txt: what the runtime's print printed for
  thousands of float32/float64/complex bit patterns (tests/data/go/print_floats.go.txt,
  run with Go 1.19.8 and 1.26.8): the formatting printpanicval uses.
- tests/data/go/<go>/panic-chains.json (tests/record_panic_chains.py): what
  dlv 1.20.2 / 1.27.2 read of each fixture's g._panic chain, with the header
  Go printed on stderr when that core was written.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tui.analysis.panicvalue import (
    PanicLink,
    format_complex,
    format_float,
    go_minor,
    kind_from_delve,
    printpanics,
    printpanicval,
)
from tui.parse import ParseError

pytestmark = pytest.mark.toolchain_independent

DATA = Path(__file__).parent / "data" / "go"
VERSIONS = ("go1.19.8", "go1.26.8")


def _f64(bits: str) -> float:
    return struct.unpack("<d", struct.pack("<Q", int(bits)))[0]


def _f32(bits: str) -> float:
    return struct.unpack("<f", struct.pack("<I", int(bits)))[0]


@pytest.mark.parametrize("version", VERSIONS)
def test_floats_print_as_the_runtime_printed_them(version):
    minor = go_minor(version)
    wrong = []
    lines = (DATA / version / "print-floats.txt").read_text().splitlines()
    for line in lines:
        kind, *fields = line.split(" ")
        if kind == "f64":
            got, want = format_float(_f64(fields[0]), 64, minor), fields[1]
        elif kind == "f32":
            got, want = format_float(_f32(fields[0]), 32, minor), fields[1]
        elif kind == "c128":
            got, want = format_complex(_f64(fields[0]), _f64(fields[1]), 64, minor), fields[2]
        else:
            got, want = format_complex(_f32(fields[0]), _f32(fields[1]), 32, minor), fields[2]
        if got != want:
            wrong.append((line, got))
    assert len(lines) > 6000 and wrong == []


# (Delve's print of the value, kind, Go 1.19.8's text, Go 1.26.8's text): seen in the fixtures.
VALUES = [
    ("interface {}(main.Healthy) false", "bool", "main.Healthy(false)", "main.Healthy(false)"),
    ("interface {}(main.Opcode) minOpcode (-2147483648)", "int32", "main.Opcode(-2147483648)",
     "main.Opcode(-2147483648)"),
    ("interface {}(main.Page) 18446744073709551615", "uint", "main.Page(18446744073709551615)",
     "main.Page(18446744073709551615)"),
    ("interface {}(main.Kilograms) -0.099999994", "float32", "main.Kilograms(-9.999999e-002)",
     "main.Kilograms(-0.099999994)"),
    ("interface {}(main.Celsius) -300.5", "float64", "main.Celsius(-3.005000e+002)", "main.Celsius(-300.5)"),
    ("interface {}(float64) 1.25", None, "+1.250000e+000", "1.25"),
    ("interface {}(main.Phasor) (0.11 + 3i)", "complex64", "main.Phasor(+1.100000e-001+3.000000e+000i)",
     "main.Phasor(0.11+3i)"),
    ("interface {}(main.Impedance) (50 + -10000000i)", "complex128",
     "main.Impedance(+5.000000e+001-1.000000e+007i)", "main.Impedance(50-1e+07i)"),
    ('interface {}(main.State) "draining"', "string", 'main.State("draining")', 'main.State("draining")'),
    ('interface {}(string) "order#000042"', None, "order#000042", "order#000042"),
    ('interface {}(string) "migration 0042 failed:\\nALTER TABLE orders"', None,
     "migration 0042 failed:\nALTER TABLE orders", "migration 0042 failed:\n\tALTER TABLE orders"),
    ("interface {} nil", None, "nil", "nil"),
]


@pytest.mark.parametrize("delve, kind, go119, go126", VALUES)
def test_values_as_go_printed_them(delve, kind, go119, go126):
    assert printpanicval(delve, "go1.19.8", kind=kind) == go119
    assert printpanicval(delve, "go1.26.8", kind=kind) == go126


def test_other_types_print_as_their_address():
    struct_value = 'interface {}(main.Failure) {\n\tCode: 7,\n\tReason: "negative balance",}'
    assert printpanicval(struct_value, "go1.26.8", address=0x4A37B8) == "(main.Failure) 0x4a37b8"
    pointer = 'interface {}(*main.Request) *{Method: "BREW", Path: "/coffee"}'
    assert printpanicval(pointer, "go1.19.8", kind="ptr", address=0xC000084000) == "(*main.Request) 0xc000084000"
    with pytest.raises(ParseError, match="address"):
        printpanicval(struct_value, "go1.26.8")


def test_the_kind_decides_a_named_number():
    # a float64 holding 100 reads `100` in Delve, like an int
    assert printpanicval("interface {}(main.Celsius) 100", "go1.19.8", kind="float64") == "main.Celsius(+1.000000e+002)"
    assert printpanicval("interface {}(main.Celsius) 100", "go1.19.8") == "main.Celsius(100)"  # guessed: int
    assert printpanicval("interface {}(main.Celsius) 100", "go1.26.8", kind="float64") == "main.Celsius(100)"


def test_what_delve_cannot_say_is_an_error():
    with pytest.raises(ParseError, match="max-string-len"):
        printpanicval('interface {}(string) "migration 0042 failed:\\nALTER TABLE orders\\n  ADD COLUMN total num...+51 more"',
                      "go1.26.8")
    for bad in ("", "42", "interface {}(main.X", "(unreadable could not read memory)"):
        with pytest.raises(ParseError):
            printpanicval(bad, "go1.26.8")
    with pytest.raises(ParseError):
        printpanicval("interface {}(int) 3", "devel +abc")


def test_kinds_as_delve_prints_them():
    assert kind_from_delve("Float32 (13)") == "float32"  # dlv 1.27, internal/abi.Type.Kind_
    assert kind_from_delve("13") == "float32"  # dlv 1.20, runtime._type.kind
    assert kind_from_delve("54") == "ptr"  # 22 | kindDirectIface
    assert kind_from_delve("Struct (25)") == "struct"
    with pytest.raises(ParseError):
        kind_from_delve("(unreadable)")


def _links(record: dict, version: str) -> list[PanicLink]:
    links = []
    for raw in reversed(record["links"]):  # recorded newest first
        goexit = raw["goexit"] == "true"
        value = ""
        if not goexit:
            address = int(raw["data"].removeprefix("unsafe.Pointer(").rstrip(")"), 16)
            value = printpanicval(raw["arg"], version, kind=kind_from_delve(raw["kind"]), address=address)
        links.append(PanicLink(value, raw["recovered"] == "true", raw.get("repanicked") == "true", goexit))
    return links


def _chains(version: str) -> dict:
    return json.loads((DATA / version / "panic-chains.json").read_text())["fixtures"]


@pytest.mark.parametrize("version", VERSIONS)
def test_the_chain_dlv_reads_prints_as_go_printed_it(version):
    """printpanics over g._panic as dlv read it gives Go's header, for every
    fixture whose header is a panic chain alone (not a throw: a fatal error
    prints its own message, and `panic while printing` never gets to printpanics)."""
    compared = 0
    for name, record in sorted(_chains(version).items()):
        header = record["go_header"]
        if not header or not header[0].startswith("panic: "):
            continue
        if any(line.lstrip("\t").startswith("fatal error: ") for line in header):
            continue
        assert list(printpanics(_links(record, version), version)) == header, name
        compared += 1
    assert compared >= 47


def test_printpanics_rules():
    a, b = PanicLink("A", recovered=True, repanicked=True), PanicLink("A", recovered=True)
    assert printpanics([a, b], "go1.26.8") == ("panic: A [recovered, repanicked]",)
    assert printpanics([a, b, PanicLink("B")], "go1.26.8") == ("panic: A [recovered, repanicked]", "\tpanic: B")
    old = [PanicLink("A", recovered=True), PanicLink("A")]
    assert printpanics(old, "go1.19.8") == ("panic: A [recovered]", "\tpanic: A")
    goexit = PanicLink("", goexit=True)
    assert printpanics([PanicLink("A"), goexit, PanicLink("B")], "go1.26.8") == ("panic: A", "\tpanic: B")
    assert printpanics([goexit, PanicLink("B")], "go1.19.8") == ("panic: B",)


@settings(max_examples=500, deadline=None)
@given(st.floats(allow_nan=False, allow_infinity=False))
def test_shortest_float64_digits_are_python_s_shortest_repr(value):
    # Python's repr is the shortest round-trip decimal too (closest of them):
    # the digits must agree; only the layout (%e/%f choice, exponent) is Go's.
    text = format_float(value, 64, 26)
    assert float(text) == value
    digits = lambda s: s.lstrip("-").split("e")[0].replace(".", "").strip("0")
    assert digits(text) == digits(repr(value)) or value == 0


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=120), st.sampled_from(["go1.19.8", "go1.26.8"]),
       st.sampled_from([None, "bool", "int", "float32", "float64", "complex64", "string", "struct"]))
def test_arbitrary_delve_text_prints_or_raises_parse_error(text, version, kind):
    for candidate in (text, f"interface {{}}(main.T) {text}", f"interface {{}}(float64) {text}"):
        try:
            assert isinstance(printpanicval(candidate, version, kind=kind, address=0x10), str)
        except ParseError:
            pass
