"""An independent, deliberately slow reference recognizer for RFC 8259 JSON.

It shares no code with fieldstream's parser: a textbook pushdown automaton that looks at one
character at a time. It answers the question that defines fieldstream's error positions: what is
the longest prefix of a text that is still a *viable prefix* of some valid JSON text? A parser
error's ``pos`` must be exactly that length (``INCOMPLETE`` errors: the whole text is viable but
not complete). It also names the error kind, from the grammar alone: what was expected where the
text stopped being viable (:data:`SYNTAX_KINDS`; the values of ``fieldstream.ErrorKind``).

This is the one reference recognizer of the project: the fuzzer uses it here, and the test suite
imports it through ``tests/support/core.py``. It imports nothing from either.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SYNTAX_KINDS", "Recognizer", "Verdict", "recognize", "viable"]

_WS = " \t\n\r"
_DIGITS = "0123456789"
_HEX = "0123456789abcdefABCDEF"
_FINAL_NUMBER_STATES = ("zero", "int", "frac", "exp")
# number grammar: state -> list of (characters, next state)
_NUMBER: dict[str, list[tuple[str, str]]] = {
    "sign": [("0", "zero"), ("123456789", "int")],
    "zero": [(".", "dot"), ("eE", "e")],
    "int": [(_DIGITS, "int"), (".", "dot"), ("eE", "e")],
    "dot": [(_DIGITS, "frac")],
    "frac": [(_DIGITS, "frac"), ("eE", "e")],
    "e": [("+-", "esign"), (_DIGITS, "exp")],
    "esign": [(_DIGITS, "exp")],
    "exp": [(_DIGITS, "exp")],
}
_LITERALS = {"t": "true", "f": "false", "n": "null"}
_CLOSER = {"[": "]", "{": "}"}

# What the recognizer says about the character that ends the viable prefix, by where it stands:
SYNTAX_KINDS = (
    "expected_value",  # where a value must start (document start, after '[', ':' or ',' in an array)
    "expected_key",  # where an object key must start (after '{' or ',' in an object)
    "expected_colon",  # after an object key
    "expected_comma_or_close",  # after a value inside a container (a wrong closing bracket too)
    "trailing_comma",  # the container's own closing bracket right after a ','
    "trailing_data",  # anything but whitespace after the complete document
    "invalid_literal",  # a character that does not continue true / false / null
    "invalid_number",  # a character that cannot continue an unfinished number ('-', '1.', '1e')
    "invalid_escape",  # a bad character after '\\' or in a \\uXXXX escape
    "control_character",  # an unescaped U+0000..U+001F inside a string
)


@dataclass(frozen=True)
class Verdict:
    """``viable``: length of the longest viable prefix; ``complete``: the whole text is valid JSON;
    ``max_depth``: deepest nesting reached within the viable prefix; ``longest_number``: length of
    the longest number token in it; ``kind``: ``None`` for a complete text, ``"incomplete"`` when
    the whole text is viable but not complete, else one of :data:`SYNTAX_KINDS`."""

    viable: int
    complete: bool
    max_depth: int
    longest_number: int
    kind: str | None = None


class Recognizer:
    """The pushdown automaton: :meth:`step` one character at a time; after a ``False``, ``error``
    names the kind (one of :data:`SYNTAX_KINDS`)."""

    def __init__(self) -> None:
        self.stack: list[str] = []
        self.state = "value"  # value, value_or_close, key_or_close, key, colon, after, end,
        #                       string, number, literal
        self.last = ""  # the last character outside strings and whitespace (',' means: after a comma)
        self.error = ""
        self.is_key = False
        self.esc = ""  # "", "\\", "u", "uX", "uXX", "uXXX"
        self.num = ""
        self.word = ""
        self.k = 0
        self.max_depth = 0
        self.numlen = 0
        self.longest_number = 0

    def _finish_value(self) -> None:
        self.state = "after" if self.stack else "end"

    def step(self, c: str) -> bool:
        """Consume one character; False (and ``error`` set) if the text so far is no longer a viable
        prefix."""
        ok = self._step(c)
        if ok and self.state != "string" and c not in _WS:
            self.last = c
        return ok

    def _fail(self, kind: str) -> bool:
        self.error = kind
        return False

    def _step(self, c: str) -> bool:
        while True:
            st = self.state
            if st == "string":
                return self._string(c)
            if st == "number":
                for chars, nxt in _NUMBER[self.num]:
                    if c in chars:
                        self.num = nxt
                        self.numlen += 1
                        self.longest_number = max(self.longest_number, self.numlen)
                        return True
                if self.num not in _FINAL_NUMBER_STATES:
                    return self._fail("invalid_number")
                self._finish_value()
                continue  # the character belongs to what follows the number
            if st == "literal":
                if c != self.word[self.k]:
                    return self._fail("invalid_literal")
                self.k += 1
                if self.k == len(self.word):
                    self._finish_value()
                return True
            if c in _WS:
                return True
            if st in ("value", "value_or_close"):
                if c == "]" and st == "value_or_close":
                    self.stack.pop()
                    self._finish_value()
                    return True
                if self._value_start(c):
                    return True
                if self.last == "," and c == _CLOSER[self.stack[-1]]:
                    return self._fail("trailing_comma")
                return self._fail("expected_value")
            if st in ("key", "key_or_close"):
                if c == '"':
                    self.state, self.is_key, self.esc = "string", True, ""
                    return True
                if c == "}" and st == "key_or_close":
                    self.stack.pop()
                    self._finish_value()
                    return True
                return self._fail("trailing_comma" if c == "}" and self.last == "," else "expected_key")
            if st == "colon":
                if c == ":":
                    self.state = "value"
                    return True
                return self._fail("expected_colon")
            if st == "after":
                top = self.stack[-1]
                if c == ",":
                    self.state = "value" if top == "[" else "key"
                    return True
                if (c == "]" and top == "[") or (c == "}" and top == "{"):
                    self.stack.pop()
                    self._finish_value()
                    return True
                return self._fail("expected_comma_or_close")
            return self._fail("trailing_data")  # "end": only whitespace may follow

    def _value_start(self, c: str) -> bool:
        if c in "[{":
            self.stack.append(c)
            self.max_depth = max(self.max_depth, len(self.stack))
            self.state = "value_or_close" if c == "[" else "key_or_close"
            return True
        if c == '"':
            self.state, self.is_key, self.esc = "string", False, ""
            return True
        if c == "-" or c in _DIGITS:
            self.state = "number"
            self.num = "sign" if c == "-" else "zero" if c == "0" else "int"
            self.numlen = 1
            self.longest_number = max(self.longest_number, 1)
            return True
        if c in _LITERALS:
            self.state, self.word, self.k = "literal", _LITERALS[c], 1
            return True
        return False

    def _string(self, c: str) -> bool:
        esc = self.esc
        if esc == "\\":
            if c == "u":
                self.esc = "u"
                return True
            if c in '"\\/bfnrt':
                self.esc = ""
                return True
            return self._fail("invalid_escape")
        if esc:  # inside \uXXXX
            if c not in _HEX:
                return self._fail("invalid_escape")
            self.esc = "" if len(esc) == 4 else esc + c
            return True
        if c == "\\":
            self.esc = "\\"
            return True
        if c == '"':
            if self.is_key:
                self.state = "colon"
            else:
                self._finish_value()
            return True
        if c >= " ":  # control characters must be escaped; everything else is allowed
            return True
        return self._fail("control_character")

    def complete(self) -> bool:
        if self.state == "end":
            return True
        return self.state == "number" and not self.stack and self.num in _FINAL_NUMBER_STATES


def recognize(text: str) -> Verdict:
    """Run the reference recognizer over ``text`` (a ``str``; decode bytes first)."""
    m = Recognizer()
    for i, c in enumerate(text):
        if not m.step(c):
            return Verdict(i, False, m.max_depth, m.longest_number, m.error)
    complete = m.complete()
    return Verdict(len(text), complete, m.max_depth, m.longest_number, None if complete else "incomplete")


def viable(text: str) -> tuple[int, bool]:
    """(length of the longest viable prefix of ``text``, whether ``text`` is a complete JSON text)."""
    v = recognize(text)
    return v.viable, v.complete
