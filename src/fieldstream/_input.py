"""Input decoding for the parser: UTF-8 ``bytes`` deltas to text, and the byte order mark.

Everything about turning ``bytes`` into the text the state machine runs on lives here; the parser
(:mod:`._parser`) only ever sees ``str``. Rules:

* Decoding is incremental (a multi-byte character may be cut anywhere by a chunk boundary) and
  strict: the first invalid byte raises :class:`InvalidUtf8`, which carries the valid text decoded
  before it, so that the parser can run that text first (a JSON error in it wins, as it comes
  first) and then report the UTF-8 error at the exact character position after it.
* A UTF-8 byte order mark at the very start is accepted and dropped, as ``json.loads(bytes)`` does;
  it still counts as one character of input (positions stay offsets into the decoded text). A BOM
  in ``str`` input, or anywhere later, is left in the text (and rejected by the parser).
* ``str`` input is never touched here: the parser's fast path feeds it straight to the hot loop.
"""

from __future__ import annotations

import codecs
from typing import Final

__all__ = ["BOM", "InvalidUtf8", "Utf8Input"]

BOM: Final = "\ufeff"


class InvalidUtf8(Exception):
    """The bytes are not valid UTF-8 (internal: the parser turns it into a ``StreamError``).

    ``good``: the valid text before the bad byte (leading BOM already dropped, see ``bom``);
    ``reason``: the codec's reason; ``truncated``: the input ended inside a multi-byte character.
    """

    def __init__(self, good: str, bom: bool, reason: str, truncated: bool) -> None:
        super().__init__(reason)
        self.good = good
        self.bom = bom
        self.reason = reason
        self.truncated = truncated


class Utf8Input:
    """Incremental strict UTF-8 decoder that drops one leading byte order mark."""

    __slots__ = ("_at_start", "_decoder")

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")("strict")
        self._at_start = True  # no character decoded yet: a BOM here is dropped

    def decode(self, data: bytes, *, final: bool) -> tuple[str, bool]:
        """Decode the next bytes: ``(text, bom)``, ``bom`` True if a leading BOM was dropped.

        Raises :class:`InvalidUtf8` at the first invalid byte (or at a cut character if ``final``).
        """
        try:
            text = self._decoder.decode(data, final)
        except UnicodeDecodeError as exc:
            good, bom = self._strip_bom(bytes(exc.object[: exc.start]).decode("utf-8", "strict"))
            truncated = final and exc.reason == "unexpected end of data"
            raise InvalidUtf8(good, bom, exc.reason, truncated) from None
        return self._strip_bom(text)

    def _strip_bom(self, text: str) -> tuple[str, bool]:
        if not self._at_start or not text:
            return text, False
        self._at_start = False
        if text.startswith(BOM):
            return text[1:], True
        return text, False
