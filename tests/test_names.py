"""tui.parse.names: the linker's escaped symbol names, decoded, and the package of a function."""

from __future__ import annotations

import pytest
from hypothesis import example, given, strategies as st

from tui.parse.names import function_part, go_name, package_of, print_name, value_names

pytestmark = pytest.mark.toolchain_independent


def path_to_prefix(path: str) -> str:
    """cmd/internal/objabi.PathToPrefix, restated from its documentation:
    control bytes, space, '%', '"', DEL and non-ASCII bytes become %xx
    everywhere; '.' only after the last '/'."""
    slash = path.rfind("/")
    raw = path.encode("utf-8")
    slash_byte = len(path[:slash].encode("utf-8")) if slash >= 0 else -1
    out = []
    for i, byte in enumerate(raw):
        if byte <= 0x20 or byte in (0x25, 0x22) or byte >= 0x7F or (byte == 0x2E and i > slash_byte):
            out.append(f"%{byte:02x}")
        else:
            out.append(chr(byte))
    return "".join(out)


@pytest.mark.parametrize("symbol, name, package", [
    ("gopkg.in/yaml%2ev3.handleErr", "gopkg.in/yaml.v3.handleErr", "gopkg.in/yaml.v3"),
    ("gopkg.in/yaml%2ev3.(*decoder).unmarshal", "gopkg.in/yaml.v3.(*decoder).unmarshal", "gopkg.in/yaml.v3"),
    ("gopkg.in/yaml.v3.(*decoder).unmarshal", "gopkg.in/yaml.v3.(*decoder).unmarshal", "gopkg.in/yaml.v3"),
    ("main.main.func1", "main.main.func1", "main"),
    ("main.main.func1.1", "main.main.func1.1", "main"),
    ("main.glob..func1", "main.glob..func1", "main"),  # Go 1.19's closures of package-level vars
    ("main.init.0", "main.init.0", "main"),
    ("example.com/svc/x.(*T).M.func2", "example.com/svc/x.(*T).M.func2", "example.com/svc/x"),
    ("example.com/svc/x.T.M-fm", "example.com/svc/x.T.M-fm", "example.com/svc/x"),
    ("main.F[...]", "main.F[...]", "main"),
    ("main.F[go.shape.int]", "main.F[go.shape.int]", "main"),
    ("main.(*List[...]).Push", "main.(*List[...]).Push", "main"),
    ("example.com/x.Map[go.shape.string,example.org/yaml%2ev1.Node]",
     "example.com/x.Map[go.shape.string,example.org/yaml.v1.Node]", "example.com/x"),
    ("example.com/x.(*Box[example.com/y.T]).Get", "example.com/x.(*Box[example.com/y.T]).Get", "example.com/x"),
    ("runtime.gopanic", "runtime.gopanic", "runtime"),
    ("runtime/debug.Stack", "runtime/debug.Stack", "runtime/debug"),
    ("vendor/golang.org/x/net/dns/dnsmessage.(*Parser).Start",
     "vendor/golang.org/x/net/dns/dnsmessage.(*Parser).Start", "vendor/golang.org/x/net/dns/dnsmessage"),
    ("go.uber.org/zap.New", "go.uber.org/zap.New", "go.uber.org/zap"),
    ("example.org/Acme/retry.Do", "example.org/Acme/retry.Do", "example.org/Acme/retry"),
    ("example.com/a%25b.F", "example.com/a%b.F", "example.com/a%b"),
    ("example.com/q%22.F", 'example.com/q".F', 'example.com/q"'),
    ("example.com/%e4%be%8b.F", "example.com/例.F", "example.com/例"),
    ("C.store", "C.store", "C"),
    # Names of no package: made up by the compiler and the linker.
    ("type:.eq.main.T", "type:.eq.main.T", ""),
    ("type..eq.main.T", "type..eq.main.T", ""),
    ("go:itab.*gopkg.in/yaml%2ev3.decoder,error", "go:itab.*gopkg.in/yaml.v3.decoder,error", ""),
    ("go.itab.*main.T,main.I", "go.itab.*main.T,main.I", ""),
    ("?", "?", ""),
    ("", "", ""),
])
def test_examples(symbol, name, package):
    assert go_name(symbol) == name
    assert package_of(symbol) == package


def test_kept_escaped():
    # No import path holds these: decoding would hide them in the pane.
    assert go_name("a/b%20c.F") == "a/b%20c.F"
    assert go_name("a/b%0ac.F") == "a/b%0ac.F"
    assert go_name("a/b%7f.F") == "a/b%7f.F"
    # Not UTF-8: the escapes stay as written.
    assert go_name("a/b%ff%fe.F") == "a/b%ff%fe.F"
    assert go_name("a/b%e4%be.F") == "a/b%e4%be.F"
    # Not an escape.
    assert go_name("a/b%zz.F") == "a/b%zz.F"
    assert go_name("a/b%2") == "a/b%2"
    # Upper-case hex: the linker's inverse accepts it.
    assert go_name("gopkg.in/yaml%2Ev3.F") == "gopkg.in/yaml.v3.F"
    # Inside a struct tag of a type argument '%' is a character.
    tagged = 'main.F[struct { X int "json:\\"a%2eb\\"" }]'
    assert go_name(tagged) == tagged
    assert go_name('main.F[struct { X int "t" }, a/b%2ec.T]') == 'main.F[struct { X int "t" }, a/b.c.T]'


def test_decoded_names_use_what_is_known():
    # Decoded, `a/yaml.v3.F` may be package a/yaml, type v3, method F:
    # the build info's module paths settle it.
    assert package_of("example.org/decoder.js.Parse") == "example.org/decoder"
    assert package_of("example.org/decoder.js.Parse", known=["example.org/decoder.js"]) == "example.org/decoder.js"
    assert package_of("example.org/decoder.js.(*P).Run", known=["example.org/decoder.js", "example.org"]) == \
        "example.org/decoder.js"
    # A known module path does not swallow a sub-package.
    assert package_of("example.org/m.v2/sub.F", known=["example.org/m.v2"]) == "example.org/m.v2/sub"
    # Escaped names need nothing known.
    assert package_of("example.org/decoder%2ejs.Parse") == "example.org/decoder.js"


def test_function_part():
    assert function_part("gopkg.in/yaml%2ev3.(*decoder).unmarshal") == "(*decoder).unmarshal"
    assert function_part("main.main.func1") == "main.func1"
    assert function_part("type:.eq.main.T") == "type:.eq.main.T"


# Import path elements: what module.CheckImportPath allows (letters,
# digits, -._~+), plus a little non-ASCII (GOPATH-era paths).
_element = st.text(st.sampled_from("abcxyzAZ09-._~+é例"), min_size=1, max_size=8).filter(
    lambda e: not e.startswith(".") and not e.endswith("."))
_path = st.lists(_element, min_size=1, max_size=4).map("/".join)
_ident = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,6}", fullmatch=True)
_closure = st.sampled_from(["", ".func1", ".func2.1", ".gowrap1", ".deferwrap1", "-fm"])


@st.composite
def _function(draw) -> str:
    """What follows `path.` in a Go function symbol."""
    name, kind = draw(_ident), draw(_ident)
    generic = draw(st.sampled_from(["", "[...]", "[go.shape.int]"]))
    shape = draw(st.sampled_from(["func", "method", "pointer method", "init", "glob"]))
    if shape == "func":
        body = name + generic
    elif shape == "method":
        body = f"{kind}{generic}.{name}"
    elif shape == "pointer method":
        body = f"(*{kind}{generic}).{name}"
    elif shape == "init":
        return "init.0"
    else:
        return "glob..func1"
    return body + draw(_closure)


@given(_path, _function())
@example("gopkg.in/yaml.v3", "handleErr")
@example("example.org/yaml.v1", "(*decoder).unmarshal")
def test_escaped_names_round_trip(path, function):
    symbol = f"{path_to_prefix(path)}.{function}"
    assert go_name(symbol) == f"{path}.{function}"
    assert package_of(symbol) == path
    assert function_part(symbol) == function
    # Decoded, the name needs the path known when its last element has a dot.
    assert package_of(f"{path}.{function}", known=[path, path.rpartition("/")[0]]) == path


@given(_path, _function(), _path)
def test_type_arguments_are_decoded_and_ignored(path, function, argument):
    symbol = f"{path_to_prefix(path)}.F[{path_to_prefix(argument)}.T].{function}"
    assert go_name(symbol) == f"{path}.F[{argument}.T].{function}"
    assert package_of(symbol) == path


@given(st.text(st.characters(min_codepoint=0x21, max_codepoint=0x10FFFF, exclude_categories=("Cs",),
                                exclude_characters="\x7f"), max_size=30))
def test_printable_paths_decode_to_themselves(text):
    assert go_name(path_to_prefix(text)) == text


@given(st.text(max_size=60))
def test_any_text(text):
    assert isinstance(go_name(text), str)
    assert isinstance(package_of(text), str)
    assert isinstance(function_part(text), str)
    if "%" not in text:
        assert go_name(text) == text


def test_leb128_numbers_read_as_dwarf_writes_them():
    from tui.corefile.leb128 import sleb as _sleb, uleb as _uleb

    assert _uleb(bytes([0xE5, 0x8E, 0x26, 0x01]), 0) == (624485, 3)  # DWARF 5, 7.6
    assert _sleb(bytes([0xC0, 0xBB, 0x78]), 0) == (-123456, 3)
    assert _sleb(bytes([0x7F]), 0) == (-1, 1) and _sleb(bytes([0x3F]), 0) == (63, 1)


@pytest.mark.parametrize("printed, shown", [
    # A typed pointer Delve prints with its type quoted, a struct, a nested pointer field.
    ('("*gopkg.in/yaml%2ev3.Node")(0xc000010000)', '("*gopkg.in/yaml.v3.Node")(0xc000010000)'),
    ("gopkg.in/yaml%2ev3.yamlError {err: error nil}", "gopkg.in/yaml.v3.yamlError {err: error nil}"),
    ('main.T {d: ("*example.com/yamlish%2ev3.decoder")(0x1e95)}',
     'main.T {d: ("*example.com/yamlish.v3.decoder")(0x1e95)}'),
    # A string value keeps its '%': only type names are decoded.
    ('"100%2e done"', '"100%2e done"'),
    ('main.T {s: "a%2eb"}', 'main.T {s: "a%2eb"}'),
])
def test_values_name_types_as_users_write_them(printed, shown):
    assert value_names(printed) == shown


@pytest.mark.parametrize("symbol, shown", [
    ("main.waitOn[go.shape.string]", "main.waitOn[...]"),
    ("main.(*List[go.shape.int]).Push", "main.(*List[...]).Push"),
    ("gopkg.in/yaml%2ev3.handleErr", "gopkg.in/yaml.v3.handleErr"),
])
def test_function_names_print_as_go_s_traceback_prints_them(symbol, shown):
    assert print_name(symbol) == shown
