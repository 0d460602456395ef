"""The ``fieldstream`` command line: ``main``, the argument parser and the exit codes.

One module per command (:mod:`.parse`, :mod:`.demo`, :mod:`.serve`), imported only when that
command runs.

Parsing uses argparse (stdlib); rendering uses rich, and the web demo fastapi/uvicorn. Those are
imported only by the subcommands that need them, so ``fieldstream --help`` and ``fieldstream parse``
work with the core alone.

Exit codes (the same for every subcommand):

* ``0``: success;
* ``1``: invalid or truncated JSON, a document that fails ``--schema`` validation, or an agent run
  that failed;
* ``2``: usage error (bad option, unreadable file, ``--schema`` not importable);
* ``3``: an optional dependency is missing (install the ``cli`` extra);
* ``130``: interrupted (Ctrl-C).
"""

from __future__ import annotations

import argparse
import sys
import textwrap
from collections.abc import Sequence
from typing import IO

from .._errors import UsageError

__all__ = ["EXIT_DEPENDENCY", "EXIT_INTERRUPTED", "EXIT_INVALID", "EXIT_OK", "EXIT_USAGE", "build_parser",
           "main"]

EXIT_OK = 0  #: success (the input was valid and validated against --schema; the run produced a result)
EXIT_INVALID = 1  #: invalid / truncated JSON, a document that failed schema validation, a failed run
EXIT_USAGE = 2  #: bad command line, unreadable file, --schema not importable
EXIT_DEPENDENCY = 3  #: an optional dependency (pydantic, rich, fastapi, the agents layer) is missing
EXIT_INTERRUPTED = 130  #: Ctrl-C

_EPILOG = """\
exit codes:
  0    success
  1    invalid or truncated JSON, schema validation failed, or the agent run failed
  2    usage error (bad option, unreadable file, --schema not importable)
  3    an optional dependency is missing (pip install 'fieldstream[cli]')
  130  interrupted
"""


def _wrap(text: str) -> str:
    return textwrap.fill(text, 79)


def build_parser() -> argparse.ArgumentParser:
    """The argparse parser for the whole command line (exposed for docs and tests)."""
    from .. import __version__

    root = argparse.ArgumentParser(
        prog="fieldstream",
        description="Stream structured JSON out of a language model, field by field.",
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    root.add_argument("--version", action="version", version=f"fieldstream {__version__}")
    sub = root.add_subparsers(dest="command", metavar="COMMAND")

    demo = sub.add_parser(
        "demo",
        help="run an agent with a story schema and render its fields live in the terminal",
        description=_wrap("Run an agent with a StoryOutput schema and render the think stream and each field "
        "of "
        "the result live as the deltas arrive. Uses the offline model by default (no key, no network)."),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    demo.add_argument("query", nargs="?", default="Write a short fable about a patient tortoise",
                      help="what to ask the agent (default: a short fable)")
    demo.add_argument("--model", default=None,
                      help="model to use, e.g. 'offline' (default, unless FIELDSTREAM_MODEL is set), "
                      "'scripted' (a fixed story) or 'openai:gpt-4o-mini' (needs that provider configured)")
    demo.add_argument("--seed", type=int, default=7, help="seed of the offline model (default: 7)")
    demo.add_argument("--pace", type=float, default=None,
                      help="seconds between offline deltas (default: the model's own pace)")
    demo.add_argument("--plain", action="store_true",
                      help="no live redraw: print the final frame only (for captures and dumb terminals)")
    demo.add_argument("--width", type=int, default=None, help="render width in columns (default: terminal)")

    parse = sub.add_parser(
        "parse",
        help="stream JSON (or LLM output with --lenient) from a file or stdin through the parser",
        description=_wrap("Stream a JSON document from FILE (or stdin) through the incremental parser and "
        "print "
        "the events, JSON lines, JSON Patch operations or snapshots it produces."),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parse.add_argument("file", nargs="?", default="-", metavar="FILE",
                       help="input file, '-' for stdin (default)")
    parse.add_argument("--format", "-f", choices=["events", "jsonl", "patch", "snapshot"], default="events",
                       help="events: one readable line per event (default); jsonl: one JSON object per "
                       "event; patch: RFC 6902 JSON Patch operations (plus 'append' for string text), one "
                       "per line; snapshot: the partial document after each chunk, one per line")
    parse.add_argument("--schema", "-s", metavar="MODULE:MODEL",
                       help="validate against a Pydantic model, e.g. 'mypkg.models:Story' (field events, "
                       "FieldDone/FieldInvalid)")
    parse.add_argument("--paths", "-p", action="append", metavar="PATTERN",
                       help="only report events at these paths, e.g. 'items[*].name' (repeatable)")
    parse.add_argument("--chunk", "-c", type=int, default=65536, metavar="N",
                       help="read and feed N characters at a time (use small N to simulate model deltas)")
    parse.add_argument("--lenient", "-l", action="store_true",
                       help="LLM output: skip prose and code fences around the JSON")
    parse.add_argument("--multiple", "-m", action="store_true",
                       help="a stream of documents (JSON Lines or concatenated JSON): each document's "
                       "events, then a DocumentDone with its index; with --schema each document is validated")
    bar = parse.add_mutually_exclusive_group()
    bar.add_argument("--progress", dest="progress", action="store_true", default=None,
                     help="always show a progress bar on stderr (default: for files >= 1 MiB on a terminal)")
    bar.add_argument("--no-progress", dest="progress", action="store_false", help="never show a progress bar")

    serve = sub.add_parser(
        "serve",
        help="serve the web demo (a page that renders fields as they stream) with uvicorn",
        description=_wrap("Start the web demo on http://HOST:PORT/ : a static page that runs the agent and "
        "renders "
        "each field of the result in its own box as the SSE stream fills it."),
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    serve.add_argument("--host", default="127.0.0.1", help="interface to bind (default: 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8000, help="port (default: 8000)")
    serve.add_argument("--model", default=None, help="model for the agent (default: offline)")
    serve.add_argument("--pace", type=float, default=None, help="seconds between offline deltas")
    serve.add_argument("--debug", action="store_true",
                       help="error frames carry the exception's real type and message (local use only: "
                       "they can contain provider URLs and response bodies); always logged on stderr")
    serve.add_argument("--workers", type=int, default=1,
                       help="uvicorn worker processes (default: 1); more than one needs --redis")
    serve.add_argument("--redis", metavar="URL", default=None,
                       help="keep runs in Redis Streams (e.g. redis://127.0.0.1:6379/0) so that any worker "
                       "can resume any run (default: in memory)")
    serve.add_argument("--grace", type=float, default=30.0,
                       help="seconds a run keeps going after its last listener left (default: 30)")
    serve.add_argument("--ttl", type=float, default=600.0,
                       help="seconds a finished run can still be resumed (default: 600)")
    serve.add_argument("--allow-host", action="append", default=[], metavar="NAME[:PORT]",
                       help="also answer requests with this Host header (repeatable; default: only "
                       "127.0.0.1, localhost and [::1] with --port, and the --host address)")
    serve.add_argument("--allow-origin", action="append", default=[], metavar="ORIGIN",
                       help="also accept POSTs from pages on this origin, e.g. https://demo.example.com "
                       "behind a TLS proxy (repeatable; default: only the page's own origin)")
    return root


def main(argv: Sequence[str] | None = None, *, stdout: IO[str] | None = None,
         stderr: IO[str] | None = None) -> int:
    """Run the command line; return the exit code (the console script exits with it)."""
    out = stdout if stdout is not None else sys.stdout
    err = stderr if stderr is not None else sys.stderr
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help / --version (0) or a usage error (2)
        return int(exc.code) if isinstance(exc.code, int) else EXIT_USAGE
    if args.command is None:
        parser.print_help(out)
        return EXIT_USAGE
    try:
        if args.command == "parse":
            from .parse import ParseOptions, run_parse

            opts = ParseOptions(file=args.file, format=args.format, schema=args.schema, paths=args.paths,
                                chunk=args.chunk, lenient=args.lenient, progress=args.progress,
                                multiple=args.multiple)
            return run_parse(opts, out, err)
        if args.command == "demo":
            try:
                from .demo import run_demo
            except ImportError as exc:
                err.write(f"error: the demo needs the cli extra (pip install 'fieldstream[cli]'): {exc}\n")
                return EXIT_DEPENDENCY
            return run_demo(query=args.query, model=args.model, seed=args.seed, pace=args.pace,
                            plain=args.plain, width=args.width, out=out, err=err)
        if args.command == "serve":
            try:
                from .serve import run_serve
            except ImportError as exc:
                err.write(f"error: serve needs the cli extra (pip install 'fieldstream[cli]'): {exc}\n")
                return EXIT_DEPENDENCY
            return run_serve(host=args.host, port=args.port, model=args.model, pace=args.pace, err=err,
                             debug=args.debug, workers=args.workers, redis=args.redis, grace=args.grace,
                             ttl=args.ttl, allow_host=args.allow_host, allow_origin=args.allow_origin)
    except UsageError as exc:
        err.write(f"fieldstream {args.command}: error: {exc}\n")
        return EXIT_USAGE
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return EXIT_INTERRUPTED
    except BrokenPipeError:  # `fieldstream parse big.json | head`
        return EXIT_OK
    raise AssertionError(f"unhandled command {args.command!r}")  # pragma: no cover

