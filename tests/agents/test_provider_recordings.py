"""The vendored corpus of real recorded provider streams is well formed.

``tests/data/provider_streams/<provider>/<case>.sse`` holds event-stream response bodies recorded
from real providers, ``<case>.body`` their JSON error bodies (sources and licences in ``SOURCES.md``
there). These tests check the corpus itself, not
the library: every stream is a valid event stream under the WHATWG rules, every ``data`` payload
except ``[DONE]`` is JSON, every error body is a JSON object, every file has its sidecar, source
row and licence, and each sidecar's ``expect`` equals a recomputation by ``_expect.py`` from the
bytes.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[1] / "data" / "provider_streams"


def _load_expect_module():
    spec = importlib.util.spec_from_file_location("_provider_streams_expect", DATA / "_expect.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up by name
    spec.loader.exec_module(module)
    return module


X = _load_expect_module()
STREAMS = sorted(DATA.glob("*/*.sse"))
BODIES = sorted(DATA.glob("*/*.body"))
CASES = X.cases()


def _ids(paths: list[Path]) -> list[str]:
    return [f"{p.parent.name}/{p.name}" for p in paths]


SIDE_KEYS = {
    "source_repo",
    "source_path",
    "commit",
    "licence",
    "provider",
    "api",
    "http_status",
    "headers",
    "notes",
    "expect",
    "reconstructed",
}


def _api(path: Path) -> str:
    return json.loads(path.with_suffix(".json").read_text(encoding="utf-8"))["api"]


def _licence_file(repo: str) -> Path:
    return DATA / "licences" / (repo.replace("/", "__") + ".LICENSE")


def test_corpus_size_and_spread():
    assert sorted(STREAMS + BODIES) == CASES
    assert len(STREAMS) >= 25
    assert len({p.parent.name for p in STREAMS}) >= 6
    apis = Counter(json.loads(p.with_suffix(".json").read_text(encoding="utf-8"))["api"] for p in CASES)
    assert set(apis) == {*X.EXPECTERS, "http-error"}, apis
    assert all((_api(p) == "http-error") == (p.suffix == ".body") for p in CASES)


# --- the oracle's own SSE splitting, on inputs whose answer is known -------------------------------


def test_oracle_splits_on_cr_lf_crlf_only():
    res = X.parse_sse("data: a\u2028b\u0085c\u2029d\r\n\r\ndata: e\rdata: f\r\rdata: g\n\n".encode())
    assert [e.data for e in res.events] == ["a\u2028b\u0085c\u2029d", "e\nf", "g"]


def test_oracle_fields_comments_and_unterminated_tail():
    raw = b": keep-alive\nevent: ping\nid: 7\nretry: 10\ndata\ndata:x\n\nevent: lost\n\ndata: tail"
    res = X.parse_sse(raw)
    assert res.comments == [" keep-alive"]
    assert [(e.event, e.data, e.id, e.retry) for e in res.events] == [("ping", "\nx", "7", 10)]
    assert res.unterminated  # "data: tail" has no line end and no blank line: discarded


# --- every recording --------------------------------------------------------------------------------


@pytest.mark.parametrize("sse", STREAMS, ids=_ids(STREAMS))
def test_recording_is_a_valid_event_stream(sse: Path):
    raw = sse.read_bytes()
    raw.decode("utf-8")  # strict: a recording is valid UTF-8
    res = X.parse_sse(raw)
    assert res.events, "no event dispatched"
    assert not res.unterminated, "the body ends inside an event"
    for ev in res.events:
        if ev.data == "[DONE]":
            continue
        json.loads(ev.data)
    # line ends are not part of the content: the same body with CRLF or CR gives the same events
    for sep in (b"\r\n", b"\r"):
        other = X.parse_sse(raw.replace(b"\r\n", b"\n").replace(b"\n", sep))
        assert [(e.event, e.data) for e in other.events] == [(e.event, e.data) for e in res.events]


@pytest.mark.parametrize("sse", STREAMS, ids=_ids(STREAMS))
def test_recording_matches_httpx_sse(sse: Path):
    httpx_sse = pytest.importorskip("httpx_sse")
    decoder = httpx_sse._decoders.SSEDecoder()
    theirs = []
    text = sse.read_bytes().decode("utf-8")
    for line in X.split_lines(text):
        ev = decoder.decode(line)
        if ev is not None:
            theirs.append((ev.event, ev.data))
    assert theirs == [(e.event, e.data) for e in X.parse_sse(sse.read_bytes()).events]


@pytest.mark.parametrize("body", BODIES, ids=_ids(BODIES))
def test_error_body_is_a_json_object(body: Path):
    meta = json.loads(body.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["api"] == "http-error"
    assert meta["http_status"] >= 400
    assert isinstance(json.loads(body.read_bytes().decode("utf-8")), dict)
    assert meta["expect"]["message"]


@pytest.mark.parametrize("sse", CASES, ids=_ids(CASES))
def test_sidecar_source_and_licence(sse: Path):
    side = sse.with_suffix(".json")
    assert side.exists(), f"{side.name} missing"
    meta = json.loads(side.read_text(encoding="utf-8"))
    assert set(meta) >= SIDE_KEYS, SIDE_KEYS - set(meta)
    assert meta["provider"] == sse.parent.name
    assert len(meta["commit"]) == 40
    assert _licence_file(meta["source_repo"]).exists()
    sources = (DATA / "SOURCES.md").read_text(encoding="utf-8")
    row = next((ln for ln in sources.splitlines() if f"`{sse.parent.name}/{sse.name}`" in ln), None)
    assert row is not None, "not listed in SOURCES.md"
    assert meta["source_repo"] in row and meta["source_path"] in row and meta["commit"] in row


@pytest.mark.parametrize("sse", CASES, ids=_ids(CASES))
def test_expect_is_recomputed_from_the_bytes(sse: Path):
    meta = json.loads(sse.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["expect"] == X.compute_expect(sse, meta["api"])


@pytest.mark.parametrize("sse", STREAMS, ids=_ids(STREAMS))
def test_completed_tool_arguments_are_json(sse: Path):
    """Every tool call of a stream that finished without error has a complete JSON object as arguments.

    Anthropic sends no ``input_json_delta`` text for a tool whose input is ``{}``.
    """
    meta = json.loads(sse.with_suffix(".json").read_text(encoding="utf-8"))
    exp = meta["expect"]
    if exp.get("errors"):
        return
    calls = exp.get("tool_calls") or exp.get("function_calls") or []
    args = [c["arguments"] for c in calls]
    args += [u["input_json"] or "{}" for u in exp.get("tool_uses", [])]
    for a in args:
        assert isinstance(json.loads(a), dict), a


@pytest.mark.parametrize("sse", STREAMS, ids=_ids(STREAMS))
def test_responses_deltas_agree_with_done_events(sse: Path):
    """In a Responses stream the deltas add up to what the matching ``.done`` events repeat whole."""
    meta = json.loads(sse.with_suffix(".json").read_text(encoding="utf-8"))
    if meta["api"] != "openai-responses":
        return
    exp = meta["expect"]
    if exp["text_done"]:
        assert exp["text"] == exp["text_done"]
    for call in exp["function_calls"]:
        if call["arguments_deltas"]:
            assert call["arguments"] == call["arguments_deltas"]
