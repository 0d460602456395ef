"""Compute the ``expect`` summary of a recorded provider stream (stdlib only).

Each ``<case>.sse`` file in this folder is a provider's HTTP response body as it
was recorded (``<case>.body``: a JSON error body that is not an event stream);
its ``<case>.json`` sidecar names the source and holds ``expect``:
what a correct client extracts from the stream (final text, reasoning, refusal,
tool calls with their full argument strings, the finish/stop reason, errors).

``expect`` is computed from the recording by this script, never written by hand:

    python tests/data/provider_streams/_expect.py            # check every sidecar
    python tests/data/provider_streams/_expect.py --write    # (re)write expect

The SSE reader here follows the WHATWG event-stream rules: lines end at CRLF,
LF or CR only (never at U+2028, U+2029 or U+0085), ``data`` fields of one event
are joined with LF, a line starting with ``:`` is a comment, a field without a
colon has an empty value, one space after the colon is dropped, and an event
is dispatched by a blank line (an event with no ``data`` is not dispatched; an
unterminated event at end of input is discarded). It is a test oracle, kept
small and separate from the library's reader on purpose.
"""

from __future__ import annotations

import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
_LINE_END = re.compile(r"\r\n|\r|\n")


@dataclass
class SSEEvent:
    event: str
    data: str
    id: str = ""
    retry: int | None = None


@dataclass
class SSEResult:
    events: list[SSEEvent] = field(default_factory=list)
    comments: list[str] = field(default_factory=list)
    unterminated: bool = False  # input ended inside an event that had data


def split_lines(text: str) -> list[str]:
    """Split on CRLF, LF and CR only; a final line without an end is kept."""
    lines = _LINE_END.split(text)
    if lines and lines[-1] == "":
        lines.pop()  # text ended with a line end
        return lines
    return lines


def parse_sse(raw: bytes) -> SSEResult:
    text = raw.decode("utf-8")
    if text.startswith("\ufeff"):
        text = text[1:]
    ended_clean = text == "" or text.endswith(("\n", "\r"))
    result = SSEResult()
    data: list[str] = []
    event_type = ""
    last_id = ""
    retry: int | None = None
    lines = split_lines(text)
    for n, line in enumerate(lines):
        is_last_unended = n == len(lines) - 1 and not ended_clean
        if is_last_unended:
            # a line without its line end is not a complete line: per the spec
            # the pending event is discarded at end of input.
            result.unterminated = True
            break
        if line == "":
            if data:
                result.events.append(SSEEvent(event_type or "message", "\n".join(data), last_id, retry))
            data, event_type, retry = [], "", None
            continue
        if line.startswith(":"):
            result.comments.append(line[1:])
            continue
        name, sep, value = line.partition(":")
        if sep and value.startswith(" "):
            value = value[1:]
        if name == "data":
            data.append(value)
        elif name == "event":
            event_type = value
        elif name == "id":
            if "\0" not in value:
                last_id = value
        elif name == "retry" and value.isdigit():
            retry = int(value)
        # any other field name is ignored
    if data and not result.unterminated:
        result.unterminated = True
    return result


def _payloads(res: SSEResult) -> list[tuple[str, Any]]:
    out: list[tuple[str, Any]] = []
    for ev in res.events:
        if ev.data == "[DONE]":
            out.append((ev.event, "[DONE]"))
        else:
            out.append((ev.event, json.loads(ev.data)))
    return out


def _error_message(obj: Any) -> str | None:
    if not isinstance(obj, dict):
        return None
    err = obj.get("error")
    if isinstance(err, dict) and err.get("message"):
        return str(err["message"])
    if isinstance(err, str) and err:
        return err
    if obj.get("object") == "error" and obj.get("message"):
        return str(obj["message"])  # vLLM's flat error object
    return None


def expect_openai_chat(res: SSEResult) -> dict[str, Any]:
    text: list[str] = []
    reasoning: list[str] = []
    refusal: list[str] = []
    calls: dict[int, dict[str, str]] = {}
    finish: str | None = None
    errors: list[str] = []
    done = False
    usage = False
    choice_indexes: set[int] = set()
    for etype, obj in _payloads(res):
        if obj == "[DONE]":
            done = True
            continue
        msg = _error_message(obj)
        if msg is not None or etype == "error":
            errors.append(msg if msg is not None else json.dumps(obj))
        if isinstance(obj, dict) and obj.get("usage"):
            usage = True
        for choice in (obj.get("choices") or []) if isinstance(obj, dict) else []:
            idx = choice.get("index", 0)
            choice_indexes.add(idx)
            if idx != 0:
                continue
            delta = choice.get("delta") or {}
            if delta.get("content"):
                text.append(delta["content"])
            for key in ("reasoning_content", "reasoning"):
                if isinstance(delta.get(key), str) and delta[key]:
                    reasoning.append(delta[key])
            if delta.get("refusal"):
                refusal.append(delta["refusal"])
            for tc in delta.get("tool_calls") or []:
                call = calls.setdefault(tc.get("index", 0), {"id": "", "name": "", "arguments": ""})
                # id and name come whole in the first delta of a call; some OpenAI-compatible
                # providers repeat them in later deltas, so the first one wins (no concatenation).
                if tc.get("id") and not call["id"]:
                    call["id"] = tc["id"]
                fn = tc.get("function") or {}
                if fn.get("name") and not call["name"]:
                    call["name"] = fn["name"]
                if fn.get("arguments"):
                    call["arguments"] += fn["arguments"]
            if choice.get("finish_reason"):
                finish = choice["finish_reason"]
    return {
        "text": "".join(text),
        "reasoning": "".join(reasoning),
        "refusal": "".join(refusal) or None,
        "tool_calls": [calls[i] | {"index": i} for i in sorted(calls)],
        "finish_reason": finish,
        "errors": errors,
        "usage_chunk": usage,
        "done_marker": done,
        "choice_indexes": sorted(choice_indexes),
    }


def expect_anthropic(res: SSEResult) -> dict[str, Any]:
    text: list[str] = []
    thinking: list[str] = []
    blocks: dict[int, dict[str, Any]] = {}
    stop: str | None = None
    errors: list[str] = []
    pings = 0
    stopped = False
    for etype, obj in _payloads(res):
        kind = obj.get("type") if isinstance(obj, dict) else None
        if etype != "message" and kind is not None and etype != kind:
            raise ValueError(f"event name {etype!r} differs from payload type {kind!r}")
        if kind == "ping":
            pings += 1
        elif kind == "error":
            errors.append(_error_message(obj) or json.dumps(obj))
        elif kind == "content_block_start":
            block = obj["content_block"]
            entry: dict[str, Any] = {"type": block.get("type"), "input_json": ""}
            if "name" in block:
                entry["name"] = block["name"]
            blocks[obj["index"]] = entry
        elif kind == "content_block_delta":
            delta = obj["delta"]
            dtype = delta.get("type")
            if dtype == "text_delta":
                text.append(delta["text"])
            elif dtype == "thinking_delta":
                thinking.append(delta["thinking"])
            elif dtype == "input_json_delta":
                blocks[obj["index"]]["input_json"] += delta["partial_json"]
        elif kind == "message_delta":
            if obj.get("delta", {}).get("stop_reason"):
                stop = obj["delta"]["stop_reason"]
        elif kind == "message_stop":
            stopped = True
    tool_uses = [
        {"index": i, "type": b["type"], "name": b.get("name", ""), "input_json": b["input_json"]}
        for i, b in sorted(blocks.items())
        if b["type"] in ("tool_use", "server_tool_use", "mcp_tool_use")
    ]
    return {
        "text": "".join(text),
        "thinking": "".join(thinking),
        "tool_uses": tool_uses,
        "stop_reason": stop,
        "errors": errors,
        "pings": pings,
        "message_stop": stopped,
    }


def _by_output_index(call: dict[str, Any]) -> tuple[bool, int]:
    return (call["output_index"] is None, call["output_index"] or 0)


def expect_openai_responses(res: SSEResult) -> dict[str, Any]:
    text: list[str] = []
    refusal: list[str] = []
    reasoning: list[str] = []
    calls: dict[str, dict[str, Any]] = {}
    text_done: list[str] = []
    status: str | None = None
    incomplete_reason: str | None = None
    errors: list[str] = []
    terminal: str | None = None
    for etype, obj in _payloads(res):
        kind = obj.get("type") if isinstance(obj, dict) else None
        if etype != "message" and kind is not None and etype != kind:
            raise ValueError(f"event name {etype!r} differs from payload type {kind!r}")
        if kind == "response.output_text.delta":
            text.append(obj["delta"])
        elif kind == "response.refusal.delta":
            refusal.append(obj["delta"])
        elif kind in ("response.reasoning_text.delta", "response.reasoning_summary_text.delta"):
            reasoning.append(obj["delta"])
        elif kind == "response.output_item.added" and obj["item"].get("type") == "function_call":
            item = obj["item"]
            calls[item["id"]] = {
                "output_index": obj.get("output_index"),
                "call_id": item.get("call_id", ""),
                "name": item.get("name", ""),
                "arguments": "",
                "arguments_deltas": "",
            }
        elif kind == "response.function_call_arguments.delta":
            calls[obj["item_id"]]["arguments_deltas"] += obj["delta"]
        elif kind == "response.function_call_arguments.done":
            # the whole arguments string; some servers (LM Studio) send only this, no deltas
            calls[obj["item_id"]]["arguments"] = obj["arguments"]
        elif kind == "response.output_text.done":
            text_done.append(obj["text"])
        elif kind == "error":
            errors.append(obj.get("message") or _error_message(obj) or json.dumps(obj))
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            terminal = kind
            resp = obj.get("response") or {}
            status = resp.get("status")
            details = resp.get("incomplete_details") or {}
            incomplete_reason = details.get("reason")
            if resp.get("error"):
                errors.append(_error_message(resp) or json.dumps(resp["error"]))
    for call in calls.values():
        if not call["arguments"]:
            call["arguments"] = call["arguments_deltas"]
    return {
        "text": "".join(text),
        "text_done": "".join(text_done),
        "reasoning": "".join(reasoning),
        "refusal": "".join(refusal) or None,
        "function_calls": sorted(calls.values(), key=_by_output_index),
        "terminal_event": terminal,
        "status": status,
        "incomplete_reason": incomplete_reason,
        "errors": errors,
    }


def expect_http_error(body: Any) -> dict[str, Any]:
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        return {"message": err.get("message"), "type": err.get("type"), "code": err.get("code")}
    if isinstance(body, dict):
        return {"message": body.get("message") or err, "type": body.get("type"), "code": body.get("code")}
    return {"message": None, "type": None, "code": None}


EXPECTERS = {
    "openai-chat": expect_openai_chat,
    "anthropic-messages": expect_anthropic,
    "openai-responses": expect_openai_responses,
}


def compute_expect(sse_path: Path, api: str) -> dict[str, Any]:
    if api == "http-error":  # a JSON error body, not an event stream
        return expect_http_error(json.loads(sse_path.read_bytes().decode("utf-8")))
    res = parse_sse(sse_path.read_bytes())
    out = EXPECTERS[api](res)
    out["events"] = len(res.events)
    out["comments"] = len(res.comments)
    out["unterminated"] = res.unterminated
    return out


def cases() -> list[Path]:
    """Every recording: ``*.sse`` event streams and ``*.body`` HTTP error bodies."""
    return sorted([*HERE.glob("*/*.sse"), *HERE.glob("*/*.body")])


def main(argv: list[str]) -> int:
    write = "--write" in argv
    bad = 0
    for sse in cases():
        side = sse.with_suffix(".json")
        meta = json.loads(side.read_text(encoding="utf-8"))
        exp = compute_expect(sse, meta["api"])
        if write:
            meta["expect"] = exp
            side.write_text(json.dumps(meta, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        elif meta.get("expect") != exp:
            bad += 1
            print(f"expect differs: {side.relative_to(HERE)}")
    print(f"{len(cases())} recordings, {bad} differing")
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
