"""Named fuzz targets: a hypothesis strategy of cases plus the check each case must pass."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from fieldstream.testing import chunkings, json_texts, json_values, llm_deltas, model_instances, mutations

from . import checks
from .checks import make_case

__all__ = ["TARGETS", "Target", "corpus_checks"]


@dataclass(frozen=True)
class Target:
    name: str
    doc: str
    cases: Callable[[], SearchStrategy[dict[str, Any]]]
    check: Callable[[dict[str, Any]], None]
    unavailable: Callable[[], str | None] = lambda: None


def _to_bytes(text: str) -> bytes:
    # surrogatepass: a lone surrogate becomes an (invalid) UTF-8-encoded surrogate: more hostile input
    return text.encode("utf-8", "surrogatepass")


@st.composite
def _raw_bytes_mutation(draw: st.DrawFn, data: bytes) -> bytes:
    """Bytes-level damage: a random byte (often a stray continuation or lead byte) inserted or a
    multibyte sequence cut short."""
    at = draw(st.integers(min_value=0, max_value=len(data)))
    junk = draw(st.sampled_from([b"\x80", b"\xbf", b"\xc3", b"\xe2\x82", b"\xf0\x9f\x98", b"\xff",
                                 b"\xc0\xaf", b"\xed\xa0\x80", b"\x00"]))
    return data[:at] + junk + data[at:]


def _documents(valid_only: bool = False) -> SearchStrategy[str]:
    valid = st.one_of(json_texts(), json_texts(json_values(lone_surrogates=True)))
    if valid_only:
        return json_texts()
    return st.one_of(valid, valid.flatmap(mutations), valid.flatmap(mutations))


@st.composite
def _chunked(draw: st.DrawFn, texts: SearchStrategy[str], allow_bytes: bool = True,
             bytes_damage: bool = True) -> dict[str, Any]:
    text = draw(texts)
    data: str | bytes = text
    if allow_bytes and draw(st.booleans()):
        data = _to_bytes(text)
        if bytes_damage and draw(st.integers(min_value=0, max_value=4)) == 0:
            data = draw(_raw_bytes_mutation(data))
    if isinstance(data, str) and data and draw(st.integers(min_value=0, max_value=3)) == 0:
        chunks: list[Any] = draw(llm_deltas(data))
    else:
        chunks = draw(chunkings(data))
    return make_case(data, chunks)


@st.composite
def _schema_cases(draw: st.DrawFn) -> dict[str, Any]:
    from .models import MODELS

    name = draw(st.sampled_from(sorted(MODELS)))
    valid = model_instances(MODELS[name])
    # Mutations without the lone-surrogate noise: Pydantic's own parser rejects raw lone surrogates
    # in str input, which is a known difference of the oracle, not of the schema layer.
    texts = st.one_of(valid, valid, valid.flatmap(mutations), json_texts())
    text = draw(texts.filter(lambda t: not any("\ud800" <= c <= "\udfff" for c in t)))
    chunks = draw(st.one_of(chunkings(text), llm_deltas(text)))
    return make_case(text, chunks, model=name)


def _sse_unavailable() -> str | None:
    try:
        from fieldstream.agents.sse import event_stream  # noqa: F401
    except Exception as exc:
        return f"fieldstream.agents.sse.event_stream is not importable yet ({type(exc).__name__}: {exc})"
    from .agent_sse import unavailable_reason

    return unavailable_reason()


def _sse_cases() -> SearchStrategy[dict[str, Any]]:
    from .agent_sse import cases

    return cases()


def _sse_check(case: dict[str, Any]) -> None:
    from .agent_sse import check

    check(case)


TARGETS: dict[str, Target] = {
    t.name: t
    for t in [
        Target("chunking", "events (deltas merged), values, errors and snapshots are chunking-invariant",
               lambda: _chunked(_documents()), checks.check_chunking),
        Target("json_loads", "differential vs json.loads: same value or both reject (str and bytes)",
               lambda: _chunked(_documents()), checks.check_json_loads),
        Target("ijson", "events on valid documents equal ijson's (python and yajl2_c backends)",
               lambda: _chunked(_documents(valid_only=True), bytes_damage=False), checks.check_ijson),
        Target("error_positions", "error kind/pos/line/col identical for every chunking and equal to "
               "the reference viable-prefix length", lambda: _chunked(_documents()),
               checks.check_error_positions),
        Target("schema", "SchemaStream(Model) vs Model.model_validate_json", _schema_cases,
               checks.check_schema, checks.schema_available),
        Target("agent_sse", "agent SSE adapter: deltas per path concatenate to the result's strings",
               _sse_cases, _sse_check, _sse_unavailable),
    ]
}


def corpus_checks(case: dict[str, Any]) -> list[str]:
    """The targets a corpus case is replayed against."""
    names: list[str] = case.get("targets") or [case["target"]]
    return names
