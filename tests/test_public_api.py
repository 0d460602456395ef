"""The public API is exactly what ``fieldstream.__all__`` lists, and the core needs only the stdlib."""

from __future__ import annotations

import subprocess
import sys

import fieldstream

CORE = {
    "DEFAULT_MAX_DEPTH", "DEFAULT_MAX_NUMBER_LENGTH", "DEFAULT_MAX_STRING_LENGTH", "ErrorKind", "Event",
    "Parser", "ParserClosedError", "Path", "PathPattern", "StreamError", "StringDelta", "ValueDone",
    "ValueKind", "ValueStart", "__version__", "aiter_events", "iter_events", "parse", "parse_path",
    "to_dotted", "to_jsonpath", "to_pointer",
}
SCHEMA = {"FieldDone", "FieldInvalid", "SchemaError", "SchemaStream", "Skipped"}


def test_all_lists_exactly_the_documented_names() -> None:
    assert set(fieldstream.__all__) == CORE | SCHEMA
    assert len(fieldstream.__all__) == len(set(fieldstream.__all__))


def test_every_exported_name_resolves() -> None:
    for name in fieldstream.__all__:
        assert getattr(fieldstream, name) is not None, name


def test_errors_are_value_errors() -> None:
    assert issubclass(fieldstream.StreamError, ValueError)
    assert issubclass(fieldstream.ParserClosedError, fieldstream.StreamError)
    assert issubclass(fieldstream.SchemaError, ValueError)


def test_importing_the_core_imports_no_third_party_package() -> None:
    code = (
        "import sys, fieldstream; fieldstream.parse('[1]');"
        "bad = sorted(m for m in ('pydantic', 'httpx', 'fastapi', 'rich', 'hypothesis') if m in sys.modules);"
        "print(','.join(bad))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == ""
