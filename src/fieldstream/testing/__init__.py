"""Testing tools for JSON streaming code (fieldstream itself, or your own consumer): hypothesis
strategies, and a conformance suite for any partial or incremental JSON parser.

Streaming bugs hide in the places a hand-written test never splits the input: inside an escape,
between the halves of a surrogate pair, in the middle of a multibyte UTF-8 sequence, one character
at a time. These strategies generate documents and the ways they arrive, so that a property such as
"my renderer shows the same thing however the model's output was chunked" is checked on inputs
nobody thought of. Requires ``hypothesis`` (``pip install hypothesis``); ``model_instances`` also
needs ``pydantic``.

* :func:`json_values`: nested JSON values (unicode, astral characters, control characters, big and
  small numbers, deep-ish nesting).
* :func:`json_texts`: JSON documents serialised with random whitespace and random escaping.
* :func:`chunkings`: every way to split a ``str`` or UTF-8 ``bytes`` text into non-empty deltas
  (1 character, random sizes, whole, and splits inside escapes, surrogate-pair escapes and
  multibyte UTF-8 sequences).
* :func:`llm_deltas`: token-like deltas, as a language model streams them.
* :func:`model_instances`: valid instances of a Pydantic model, dumped to JSON text.
* :func:`mutations`: a text with random insertions, deletions, replacements or truncation (mostly
  invalid JSON: for checking that errors are clean).

The conformance suite, :mod:`fieldstream.testing.conformance` (stdlib only; hypothesis optional),
checks any partial/incremental JSON parser through a small adapter: chunking invariance, snapshots
that only grow, number flicker, truncated and invalid input rejected, UTF-8 and surrogate splits.
Run it with ``python -m fieldstream.testing.conformance --adapter mod:fn``.

This module only re-exports the strategies of ``fieldstream.testing._strategies``. Without
hypothesis they are missing (using one says so), and the conformance suite still works.

Example: testing your own renderer (a consumer of fieldstream events) for chunking invariance::

    import fieldstream
    from hypothesis import given, strategies as st
    from fieldstream.testing import chunkings, json_texts

    def render(deltas):                      # your code: text shown to the user per field
        shown = {}
        p = fieldstream.Parser()
        for d in deltas:
            for ev in p.feed(d):
                if isinstance(ev, fieldstream.StringDelta):
                    shown[ev.jsonpath] = shown.get(ev.jsonpath, "") + ev.delta
        p.close()
        return shown

    @given(st.data())
    def test_render_does_not_depend_on_chunking(data):
        text = data.draw(json_texts())
        deltas = data.draw(chunkings(text))
        assert render(deltas) == render([text])
"""

from __future__ import annotations

try:
    from ._strategies import chunkings, json_texts, json_values, llm_deltas, model_instances, mutations
except ModuleNotFoundError as _exc:  # hypothesis is optional: the conformance suite works without it
    if _exc.name != "hypothesis":
        raise
    _MISSING = _exc

    def __getattr__(name: str) -> object:
        if name in __all__:
            raise ImportError(f"fieldstream.testing.{name} needs hypothesis (pip install hypothesis)") \
                from _MISSING
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")

__all__ = ["chunkings", "json_texts", "json_values", "llm_deltas", "model_instances", "mutations"]
