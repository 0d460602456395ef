"""Thin pull front ends over the one push-style core (:class:`~fieldstream.Parser`)."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from ._events import Event
from ._parser import DEFAULT_MAX_DEPTH, DEFAULT_MAX_NUMBER_LENGTH, DEFAULT_MAX_STRING_LENGTH, Parser

__all__ = ["aiter_events", "iter_events", "parse"]

Chunk = str | bytes | bytearray | memoryview


def _as_chunks(chunks: Iterable[Chunk] | Chunk) -> Iterable[Chunk]:
    if isinstance(chunks, (str, bytes, bytearray, memoryview)):
        return (chunks,)
    return chunks


def parse(
    chunks: Iterable[Chunk] | Chunk,
    *,
    max_depth: int | None = DEFAULT_MAX_DEPTH,
    max_string_length: int | None = DEFAULT_MAX_STRING_LENGTH,
    max_number_length: int | None = DEFAULT_MAX_NUMBER_LENGTH,
    max_size: int | None = None,
    multiple: bool = False,
) -> Any:
    """Parse a whole document given as an iterable of ``str``/``bytes`` chunks (or one chunk).

    Returns the same value as ``json.loads`` of the concatenation; raises
    :class:`~fieldstream.StreamError` where ``json.loads`` would raise (and also for
    ``NaN``/``Infinity``, which RFC 8259 forbids). No events are built.

    ``multiple=True``: the input is a stream of documents (concatenated JSON or JSON Lines, see
    :class:`~fieldstream.Parser`); returns the list of their values (``[]`` for empty input).
    """
    p = Parser(max_depth=max_depth, max_string_length=max_string_length,
               max_number_length=max_number_length, max_size=max_size, events=False,
               multiple=multiple)
    if multiple:
        docs: list[Any] = []
        p._docs = docs
    feed = p.feed
    for chunk in _as_chunks(chunks):
        feed(chunk)
    p.close()
    return docs if multiple else p.value


def iter_events(chunks: Iterable[Chunk] | Chunk, **parser_options: Any) -> Iterator[Event]:
    """Yield the events of a document as its chunks are pulled; closes (and checks) at the end.

    ``parser_options`` are :class:`~fieldstream.Parser`'s (``multiple=True`` for a stream of documents).
    """
    p = Parser(**parser_options)
    for chunk in _as_chunks(chunks):
        yield from p.feed(chunk)
    yield from p.close()


async def aiter_events(chunks: AsyncIterable[Chunk], **parser_options: Any) -> AsyncIterator[Event]:
    """Async version of :func:`iter_events` for an async iterable of chunks."""
    p = Parser(**parser_options)
    async for chunk in chunks:
        for event in p.feed(chunk):
            yield event
    for event in p.close():
        yield event
