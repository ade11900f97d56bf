"""`gocore-tui EXE CORE`: argument parsing, exit codes, and no tracebacks."""

from __future__ import annotations

import argparse
import os
import sys
from dataclasses import replace
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

# Only what opening a core needs is imported here: dlv starts before the
# rest (the report, the UI) is imported, so the two overlap.
from .. import __version__
from ..debugger.delve import Delve
from ..debugger.dlv import DLV_VERSION
from ..debugger.children import adopt_orphans
from ..debugger.session import SessionError, before_signal_exit, install_signal_reaper
from ..debugger.startup import OpenError
from ..parse import ParseError
from ..sources.resolve import parse_substitution

if TYPE_CHECKING:
    from ..sources.context import SourceContext

EXIT_OK, EXIT_FAILURE, EXIT_USAGE = 0, 1, 2
EXIT_INTERRUPTED = 130


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gocore-tui",
        description="Open a Go core dump with Delve and see why the program died. "
        "Also: `gocore-tui run -- PROG ARGS` (run it and open its core when it crashes), "
        "`gocore-tui doctor [EXE]` (check this machine can make and read cores), "
        "`gocore-tui serve EXE CORE` (the same view in a browser, on 127.0.0.1).",
        epilog="Get a core: build with -gcflags=all=\"-N -l\", run with GOTRACEBACK=crash "
        "after `ulimit -c unlimited`. A file named like a sub-command opens as ./doctor, ./run, ./serve.",
    )
    parser.add_argument("executable", help="the Go binary that crashed")
    parser.add_argument("core", help="the core dump it left")
    _add_view_options(parser)
    parser.add_argument("--force", action="store_true",
                        help="open a core that does not match the executable (the view is marked untrustworthy)")
    parser.add_argument("--version", action="version", version=f"gocore-tui {__version__}")
    return parser


def build_run_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gocore-tui run",
        description="Run PROG with GOTRACEBACK=crash and the core size limit raised (stdin, stdout and stderr "
        "pass through); when it crashes, find its core and open it (or print the report). "
        "If it exits on its own, exit with its status.",
        usage="gocore-tui run [options] -- PROG [ARGS...]",
    )
    _add_view_options(parser)
    parser.add_argument("command", nargs=argparse.REMAINDER, help="the program and its arguments, after --")
    return parser


def build_serve_parser() -> argparse.ArgumentParser:
    from .serve import DEFAULT_PORT

    parser = argparse.ArgumentParser(
        prog="gocore-tui serve",
        description="Serve the TUI on a core to a web browser (textual-serve), on 127.0.0.1 only: "
        "each tab that connects gets its own view. For a shared screen or a talk.",
        usage="gocore-tui serve [options] [--] EXE CORE",
    )
    parser.add_argument("executable", help="the Go binary that crashed")
    parser.add_argument("core", help="the core dump it left")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"the port to listen on (default {DEFAULT_PORT})")
    _add_view_options(parser, report=False)
    parser.add_argument("--force", action="store_true",
                        help="open a core that does not match the executable (the view is marked untrustworthy)")
    return parser


def _add_view_options(parser: argparse.ArgumentParser, report: bool = True) -> None:
    if report:
        parser.add_argument("--report", choices=("json", "md"), help="print a report instead of starting the TUI")
    parser.add_argument("--substitute-path", action="append", default=[], metavar="FROM=TO",
                        help="map a build path prefix to a local one (repeatable)")
    parser.add_argument("--dlv", metavar="PATH", help=f"the dlv to use (default: $GOCORE_TUI_DLV, then set-up's, then PATH; pinned {DLV_VERSION})")
    parser.add_argument("--no-gdb", action="store_true", help="skip the GDB-vs-Delve comparison")
    parser.add_argument("--no-heap", action="store_true",
                        help="do not read the heap: the report's heap is null (a huge core's heap takes about "
                        "2 µs an object); the TUI reads it only when m asks")
    if report:
        parser.add_argument("--heap-pprof", metavar="FILE",
                            help="write the heap by type as a pprof profile (inuse_space, inuse_objects; the stack is "
                            "the type path from its root); without --report, only that")
        parser.add_argument("--baseline", metavar="OLDCORE",
                            help="with --report: what grew since an earlier core of the same executable (types "
                            "and roots by growth; the heap of both is read)")
        parser.add_argument("--compare", action="store_true",
                            help="open straight on the GDB-vs-Delve comparison (the demo of what Delve reads that gdb cannot)")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["run"]:
        return _run(build_run_parser().parse_args(argv[1:]))
    if argv[:1] == ["doctor"]:
        from .doctor import main as doctor

        return doctor(argv[1:])
    if argv[:1] == ["serve"]:
        return _serve(build_serve_parser().parse_args(argv[1:]))
    return _open(build_parser().parse_args(argv))


def _run(args: argparse.Namespace) -> int:
    from .run import RunError, run_and_catch

    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        return _fail("run: no program given; usage: gocore-tui run [options] -- PROG [ARGS...]")
    try:
        caught = run_and_catch(command)
    except RunError as err:
        return _fail(str(err), EXIT_FAILURE if "crashed" in str(err) else EXIT_USAGE)
    if caught.core is None:
        print(f"gocore-tui: {command[0]} exited with status {caught.returncode}; it did not crash, so there is "
              "no core", file=sys.stderr)
        return caught.returncode
    print(f"gocore-tui: {command[0]} crashed; its core is {caught.core}", file=sys.stderr)
    args.executable, args.core, args.force = str(caught.program), str(caught.core), False
    return _open(args, go_traceback=caught.stderr)


def _serve(args: argparse.Namespace) -> int:
    from .serve import ServeError, ServeRequest, serve

    request = ServeRequest(args.executable, args.core, args.port, dlv=args.dlv,
                           substitute_path=tuple(args.substitute_path), no_gdb=args.no_gdb, force=args.force,
                           no_heap=args.no_heap)
    try:
        for spec in request.substitute_path:
            parse_substitution(spec)
        return serve(request)
    except ValueError as err:
        return _fail(str(err))
    except ServeError as err:
        return _fail(f"serve: {err}")


def _open(args: argparse.Namespace, go_traceback: str = "") -> int:
    try:
        substitutions = tuple(parse_substitution(spec) for spec in args.substitute_path)
    except ValueError as err:
        return _fail(str(err))
    if args.compare and args.no_gdb:
        return _fail("--compare shows gdb beside Delve: drop --no-gdb")
    if getattr(args, "heap_pprof", None) and args.no_heap:
        return _fail("--heap-pprof writes the heap: drop --no-heap")
    if getattr(args, "baseline", None):
        if not args.report or args.no_heap:
            return _fail("--baseline compares the heap in the report: give --report json|md (without --no-heap)")
        from ..debugger.startup import check_inputs

        try:
            check_inputs(args.executable, args.baseline)
        except OpenError as err:
            return _fail(f"--baseline {args.baseline}: {_one_line(err)}")
    if getattr(args, "heap_pprof", None) and not args.report:
        return _heap_pprof_only(args)
    install_signal_reaper()
    adopt_orphans()
    try:
        # Opening before any screen is drawn keeps every bad input a one-line
        # error with exit 2. dlv starts on a thread while the UI is imported
        # (about 0.4 s of Textual), so the two overlap.
        with ThreadPoolExecutor(max_workers=1) as pool:
            opening = pool.submit(Delve.open, args.executable, args.core, dlv=args.dlv, force=args.force)
            if not args.report:
                from ..app import GocoreApp
            delve = opening.result()
    except OpenError as err:
        return _fail(str(err))
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED  # a session that opened meanwhile is reaped at exit
    try:
        if args.report:
            from ..sources.context import build_context

            sources = build_context(rules=substitutions, build_info=delve.target.build)
            return _report(delve, args.report, sources, not args.no_gdb, go_traceback,
                           None if args.no_heap else (args.executable, args.core), getattr(args, "heap_pprof", None),
                           getattr(args, "baseline", None))
        from .terminal import terminal_restorer
        from .tuning import freeze_long_lived, tune_process

        tune_process()
        before_signal_exit(terminal_restorer())
        app = GocoreApp(_opener(delve, args), substitutions=substitutions, title_paths=(args.executable, args.core),
                        compare_with_gdb=not args.no_gdb, go_traceback=go_traceback, on_settled=freeze_long_lived,
                        open_on_comparison=args.compare, read_heap_behind=not args.no_heap)
        app.run()
        return app.return_code or EXIT_OK
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except SessionError as err:
        return _fail(f"{args.core}: dlv stopped answering: {_one_line(err)}", EXIT_FAILURE)
    except ParseError as err:  # dlv answered with something that is not what the command prints
        return _fail(f"{args.core}: dlv's answer makes no sense ({_one_line(err)}); the core is damaged or "
                     f"not from {args.executable}", EXIT_FAILURE)
    finally:
        delve.close()


def _opener(first: Delve, args: argparse.Namespace):
    """The session opened above, then a new one for each restart (R)."""
    pending = [first]

    from ..core.backend import DelveBackend

    def open_backend() -> DelveBackend:
        delve = pending.pop() if pending else Delve.open(args.executable, args.core, dlv=args.dlv, force=args.force)
        return DelveBackend(delve)

    return open_backend


def _report(delve: Delve, fmt: str, sources: SourceContext, with_gdb: bool, go_traceback: str = "",
            files: tuple[str, str] | None = None, heap_pprof: str | None = None, baseline: str | None = None) -> int:
    from ..analysis.forensics import read_snapshot
    from ..analysis.report import build_report, comparison_report, to_markdown, write_json
    from ..analysis.showdown import read_delve_values, run_comparison
    from ..core.backend import DelveBackend
    from ..core.frames import with_elided_values
    from ..core.inventory import take_inventory

    backend = DelveBackend(delve)
    first = read_snapshot(delve)
    if first.frame is not None:  # the values the report shows, whole
        first = replace(first, frame=with_elided_values(backend, first.frame))
    inventory = take_inventory(backend, first.crash.goroutine_id, first.crash.deadlock)
    notes = tuple(note for note in (inventory.problem, inventory.through_dlv and
                                    f"goroutines listed through dlv: {inventory.through_dlv}",
                                    inventory.waits_problem) if note)
    snapshot = replace(first, goroutines=inventory.goroutines, warnings=first.warnings + notes)
    comparison = None
    if with_gdb:
        stacks = inventory.index.stacks()
        values = read_delve_values(delve.evaluate, snapshot.frame)
        run, result = run_comparison(snapshot, stacks=stacks, values=values)
        comparison = comparison_report(run, None if run.error else result)
    heap = None
    if files is not None:
        from ..analysis.heapreport import heap_section, read_heap_reading, write_pprof

        reading = read_heap_reading(*files)
        heap = heap_section(reading)
        if baseline and not isinstance(reading, str):
            from ..analysis.heapgrowth import growth_section, heap_growth

            before = read_heap_reading(files[0], baseline)
            heap["growth"] = {"baseline": baseline, "error": before} if isinstance(before, str) else \
                growth_section(heap_growth(reading, before), baseline)
            del before
        if heap_pprof and not isinstance(reading, str):
            try:
                write_pprof(reading, heap_pprof)
            except OSError as err:
                return _fail(f"{heap_pprof}: cannot write the profile ({err.strerror})")
    report = build_report(snapshot, sources, comparison, go_traceback, inventory.index, heap)
    if fmt == "json":
        write_json(report, sys.stdout)
    else:
        sys.stdout.write(to_markdown(report))
    return EXIT_OK


def _heap_pprof_only(args: argparse.Namespace) -> int:
    """--heap-pprof without --report: read the heap from the core file (no
    dlv), write the profile, say what it holds."""
    from ..analysis.heapreport import read_heap_reading, write_pprof
    from ..debugger.startup import check_inputs

    try:
        check_inputs(args.executable, args.core, force=args.force)
    except OpenError as err:
        return _fail(str(err))
    reading = read_heap_reading(args.executable, args.core)
    if isinstance(reading, str):
        return _fail(f"{args.core}: the heap cannot be read: {reading}", EXIT_FAILURE)
    try:
        samples = write_pprof(reading, args.heap_pprof)
    except OSError as err:
        return _fail(f"{args.heap_pprof}: cannot write the profile ({err.strerror})")
    flagged = "; ".join(c.describe() for c in reading.mismatches)
    print(f"gocore-tui: wrote {args.heap_pprof}: {reading.reachable_bytes:,} B reachable in "
          f"{reading.reachable_objects:,} objects, {len(reading.types)} types, {samples} stacks"
          + (f"; disagrees with the runtime: {flagged}" if flagged else ""), file=sys.stderr)
    return EXIT_OK


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split()) or type(err).__name__


def _fail(message: str, code: int = EXIT_USAGE) -> int:
    print(f"gocore-tui: {message}", file=sys.stderr)
    return code


def run() -> None:
    try:
        sys.exit(main())
    except BrokenPipeError:
        # `gocore-tui ... | head`: the reader left; say nothing more.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        sys.exit(EXIT_OK)


if __name__ == "__main__":
    run()
