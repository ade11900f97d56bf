"""Parsers on output recorded from real dlv sessions (tests/data/dlv, dlv 1.27.2)
and on the older variants the reference lists (dlv 1.20)."""

from pathlib import Path

import pytest

from tui.analysis.crash import panic_message
from tui.parse.values import unquote
from tui.parse import ParseError
from tui.parse.delve import (
    command_error,
    parse_backtrace,
    parse_goroutine_line,
    parse_goroutines,
    parse_switched,
    parse_variables,
    parse_version,
)
from tui.parse.values import parse_value

pytestmark = pytest.mark.toolchain_independent

DATA = Path(__file__).parent / "data" / "dlv"


def recorded(name: str) -> str:
    return (DATA / f"{name}.txt").read_text()


def test_goroutines_of_the_seed_core():
    items, total = parse_goroutines(recorded("goroutine_panic.goroutines"))
    assert total == 6 and len(items) == 6
    crashed = [g for g in items if g.selected]
    assert [g.id for g in crashed] == [18]
    assert crashed[0].thread is not None and crashed[0].state == "running"
    assert crashed[0].location.function == "main.main.func1"
    assert crashed[0].location.file.endswith("goroutine_panic/main.go")
    main = next(g for g in items if g.id == 1)
    assert main.wait_reason == "chan receive" and not main.is_runtime
    finalizer = next(g for g in items if g.id == 17)
    assert finalizer.state == "runnable" and finalizer.is_runtime


def test_goroutines_with_no_selected_one_on_a_deadlock():
    items, total = parse_goroutines(recorded("deadlock.goroutines"))
    assert total == len(items) == 4
    assert not any(g.selected for g in items)


def test_hundreds_of_goroutines_all_parsed():
    items, total = parse_goroutines(recorded("many_goroutines.goroutines"))
    assert total == len(items) == 355
    assert sum(1 for g in items if g.wait_reason == "chan receive") >= 200


@pytest.mark.parametrize(
    "line, expected",
    [
        # dlv 1.20 with a wait-since number after the reason
        ("  Goroutine 2 - User: /usr/lib/go-1.19/src/runtime/proc.go:364 runtime.gopark (0x43ac5d) [force gc (idle) 2720431775670]",
         dict(id=2, wait_reason="force gc (idle)", wait_since=2720431775670, line=364)),
        # lower-case "goroutine", as older releases printed
        ("* goroutine 1 - User: ./main.go:11 main.main (0x47023e) (thread 27507)",
         dict(id=1, thread=27507, selected=True, file="./main.go")),
        # unknown function and location
        ("  Goroutine 7 - User: ???:0 ??? (0x0)", dict(id=7, function="???", line=0)),
        # a path with spaces
        ("  Goroutine 3 - User: /src/my app/main.go:9 main.work (0x4b1) [select]",
         dict(id=3, file="/src/my app/main.go", wait_reason="select")),
        # a location label other than User
        ("  Goroutine 4 - Start: /x/y.go:12 main.worker (0x4c0)", dict(id=4, function="main.worker")),
    ],
)
def test_goroutine_line_variants(line, expected):
    g = parse_goroutine_line(line)
    for key, value in expected.items():
        actual = getattr(g.location, key) if key in ("file", "line", "function") else getattr(g, key)
        assert actual == value, key


def test_unreadable_goroutine_has_no_id():
    g = parse_goroutine_line("  Goroutine (unreadable could not read memory)")
    assert g.id is None and g.state == "unreadable" and g.unreadable == "could not read memory"


def test_backtrace_of_the_crashing_goroutine():
    bt = parse_backtrace(recorded("goroutine_panic.stack"), 18)
    assert [f.function for f in bt.frames[:2]] == ["runtime.raise", "runtime.dieFromSignal"]
    user = bt.first_user_frame()
    assert (user.index, user.function, user.line) == (8, "main.main.func1", 15)
    assert bt.frames[-1].function == "runtime.goexit" and not bt.truncated
    # runtime.raise appears twice: the signal handler re-raises on the same PC
    assert bt.frames[0].pc == bt.frames[4].pc


def test_backtrace_with_two_digit_indexes_and_sigpanic():
    bt = parse_backtrace(recorded("nil_deref.stack"), 1)
    assert len(bt.frames) == 14
    assert bt.frames[9].function == "runtime.sigpanic"
    assert bt.first_user_frame().function == "main.retries"


def test_stack_full_skips_variable_lines_and_sees_truncation():
    bt = parse_backtrace(recorded("goroutine_panic.stack-full"), 18)
    assert [f.index for f in bt.frames] == [0, 1, 2, 3]
    assert bt.truncated


def test_backtrace_unknown_and_error_frames():
    text = (" 5  0x0000000000465400 in runtime.sigreturn__sigaction\n"
            "    at /usr/local/go/src/runtime/sys_linux_amd64.s:471\n"
            " 6  0x0000000000000001 in ???\n"
            "    at ?:-1\n"
            " 7  0x0000000000000000 in main.lost\n"
            "    at :0\n"
            "    error: could not unwind\n"
            "(truncated)\n")
    bt = parse_backtrace(text)
    assert bt.frames[1].function == "???" and bt.frames[1].file == "" and bt.frames[1].line == 0
    assert bt.frames[2].error == "could not unwind"
    assert bt.truncated and bt.first_user_frame() is None


def test_failed_command_raises_parse_error_with_the_raw_text():
    with pytest.raises(ParseError) as info:
        parse_backtrace(recorded("goroutine_panic.unknown-goroutine"))
    assert "unknown goroutine 99" in str(info.value)
    assert info.value.raw.startswith("Command failed")
    assert command_error(recorded("goroutine_panic.unknown-goroutine")) == "unknown goroutine 99"


def test_args_with_a_slice_expand_into_elements():
    items, index, result = parse_variables(recorded("index_range.args"), "arg")
    assert items.name == "items" and items.type == "[]int"
    assert [c.value for c in items.children] == ["10", "20", "30"]
    assert (index.name, index.value) == ("i", "5")


def test_error_value_expands_into_its_chain():
    (err,) = parse_variables(recorded("panic_error.locals"))
    assert err.type == "error(*fmt.wrapError)"
    inner = {c.name: c for c in err.children}
    assert inner["msg"].value == '"load 42: record not found"'
    assert inner["err"].children[0].value == '"record not found"'


def test_pointer_in_verbose_form_takes_the_pointee_fields():
    (timer,) = parse_variables(recorded("goroutine_panic.locals-timer"))
    assert timer.type == "*time.Timer"
    assert {c.name for c in timer.children} == {"C", "initTimer"}


def test_no_args_and_shadowed_and_unreadable():
    assert parse_variables("(no args)\n") == ()
    a, b = parse_variables("(err) = 5\ninfo = (unreadable could not find loclist entry at 0x1fed7 for address 0x468a85)\n")
    assert a.shadowed and a.name == "err"
    assert b.unreadable and b.children == ()


def test_struct_with_elided_fields_and_map():
    v = parse_value("t", 'main.T {A: 1, B: "x, y: z",...+2 more}')
    assert [c.name for c in v.children] == ["A", "B", "…+2 more"]
    m = parse_value("m", 'map[string]int ["a": 1, "b": 2, ]')
    assert [(c.name, c.value) for c in m.children] == [('["a"]', "1"), ('["b"]', "2")]


# Delve 1.27 on a type of another package than main (locals, short form, then `print`).
STORE_POINTER = '("*example.com/shop/internal/store.Store")(0x385b63c6e000)'
STORE_PRINTED = """("*example.com/shop/internal/store.Store")(0x385b63c6e000)
*example.com/shop/internal/store.Store {
\tName: "north",
\tIndex: map[string]int nil,
\tItems: []*example.com/shop/internal/store.Item len: 2, cap: 2, [
\t\t*(*"example.com/shop/internal/store.Item")(0x385b63c00330),
\t\t*(*"example.com/shop/internal/store.Item")(0x385b63c00348),
\t],
\tErr: error(*errors.errorString) *{
\t\ts: "card declined",},
\tNext: *example.com/shop/internal/store.Store nil,}"""


def test_a_pointer_to_a_type_of_another_package_opens():
    """Delve quotes a type name with a path: the pointer is still one it did
    not follow, so its node opens (and `print st` fills it)."""
    short = parse_value("st", STORE_POINTER)
    assert short.partial and short.expandable and short.expr == "st"
    full = parse_value("st", STORE_PRINTED)
    assert full.type == "*example.com/shop/internal/store.Store"
    fields = {child.name: child for child in full.children}
    assert list(fields) == ["Name", "Index", "Items", "Err", "Next"]
    assert fields["Index"].value == "map[string]int nil"  # the nil map the crash wrote to
    items = fields["Items"]
    assert [child.name for child in items.children] == ["[0]", "[1]"]
    assert items.children[0].partial and items.children[0].expr == "st.Items[0]"
    assert [(c.name, c.value) for c in fields["Err"].children] == [("s", '"card declined"')]


@pytest.mark.parametrize("text", ["interface {}(*example.com/shop/internal/store.Store) 0x385b63c5aed8",
                                  "error(*errors.errorString) 0x2395013b5ce8"])
def test_an_interface_holding_a_pointer_delve_did_not_follow_opens(text):
    value = parse_value("err", text)
    assert value.partial and value.expandable


def test_a_slice_field_keeps_its_length_and_capacity_together():
    value = parse_value("t", "main.T {Items: []int len: 2, cap: 2, [1,2], B: 1}")
    assert [(c.name, c.value) for c in value.children] == [("Items", "[]int len: 2, cap: 2, [1,2]"), ("B", "1")]
    assert [c.value for c in value.children[0].children] == ["1", "2"]


def test_unbalanced_value_raises_parse_error():
    with pytest.raises(ParseError):
        parse_value("x", "main.T {A: 1")


@pytest.mark.parametrize(
    "name, message, runtime_error",
    [
        ("goroutine_panic.panic-arg", "PANIC", False),
        ("nil_deref.panic-arg", "runtime error: invalid memory address or nil pointer dereference", True),
        ("panic_struct.panic-arg", 'main.Failure {Code: 7, Reason: "negative balance"}', False),
    ],
)
def test_panic_values_read_from_the_panic_record(name, message, runtime_error):
    assert panic_message(recorded(name)) == (message, runtime_error)


def test_panic_values_of_older_go_releases():
    # Before preprinting, runtime errors arrive as their own types.
    assert panic_message("interface {}(runtime.boundsError) {x: 5, y: 3, signed: true, code: 0}") == (
        "runtime error: index out of range [5] with length 3", True)
    assert panic_message('interface {}(runtime.errorString) "integer divide by zero"') == (
        "runtime error: integer divide by zero", True)


def test_unquote_go_strings():
    assert unquote(recorded("deadlock.fatal-arg")) == "all goroutines are asleep - deadlock!"
    assert unquote(r'"tab\there \"q\" \u00e9"') == 'tab\there "q" é'


def test_switched_and_version():
    assert parse_switched("Switched from 18 to 1 (thread 6530)\n") == 1
    with pytest.raises(ParseError):
        parse_switched("Command failed: unknown goroutine 99\n")
    assert parse_version("Delve Debugger\nVersion: 1.27.2\nBuild: $Id: 360e $\n") == "1.27.2"


# Property tests: whatever text arrives on the pty, parsers answer with
# model values or their own ParseError, never another exception.
from hypothesis import given, settings, strategies as st  # noqa: E402

from tui.parse.delve import parse_print  # noqa: E402

_noise = st.text(alphabet=st.sampled_from(list('Goroutine 0123456789-User:./main.go()[]{}*"\\ \n\tatin0x=,.?')), max_size=300)


@settings(max_examples=300, deadline=None)
@given(_noise)
def test_parsers_only_raise_parse_error(text):
    for parser in (parse_goroutines, parse_backtrace, parse_variables, parse_print):
        try:
            parser(text)
        except ParseError:
            pass
    try:
        parse_value("x", text)
    except ParseError:
        pass


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=1, max_value=10**7), st.integers(min_value=1, max_value=99999),
       st.sampled_from(["chan receive", "select", "sync.Mutex.Lock", ""]), st.booleans())
def test_rendered_goroutine_lines_parse_back(gid, line, reason, selected):
    text = f"{'*' if selected else ' '} Goroutine {gid} - User: /src/app/x.go:{line} main.f (0x4b1)"
    text += f" [{reason}]" if reason else " (thread 42)"
    g = parse_goroutine_line(text)
    assert (g.id, g.location.line, g.wait_reason, g.selected) == (gid, line, reason, selected)


_page_noise = st.text(alphabet=st.sampled_from(list("GLSNEXT\t\n0123456789-,./main.go?")), max_size=300)


def _mutated(recorded_text: str):
    """A recorded page with a slice cut out and noise put in its place."""
    size = len(recorded_text)
    return st.tuples(st.integers(0, size), st.integers(0, 200), _page_noise).map(
        lambda cut: recorded_text[:cut[0]] + cut[2] + recorded_text[cut[0] + cut[1]:])


@settings(max_examples=300, deadline=None)
@given(st.one_of(_page_noise, _mutated(recorded("many_goroutines.page0")),
                 _mutated((Path(__file__).parent / "data" / "dlv" / "split_stacks.stacks.txt").read_text())))
def test_page_parsers_only_raise_parse_error(text):
    from tui.parse.delve import parse_goroutine_page, parse_stack_page

    for parser in (parse_goroutine_page, parse_stack_page):
        try:
            parser(text)
        except ParseError:
            pass
