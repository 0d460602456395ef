"""What a client may see of a failed run: a public type name and a safe message.

The rule: an error frame never carries text that the server did not write itself. ``str(exc)`` of a
provider error can hold the endpoint URL (with credentials: ``http://user:secret@host``), the
provider's raw response body (key fragments, internal host names) or model text; none of it goes
out. The public message is a fixed sentence per exception class plus safe attributes (an HTTP
status, a call type). The full exception is logged by the encoder at error level; ``debug=True``
sends ``type(exc).__name__`` and ``str(exc)`` instead (for local development only).

Public types: ``RunTimeoutError``, ``ModelStalledError``, ``OutputTooLargeError`` (limits of the run,
with the limit's value), ``OutputValidationError``, ``ModelError``, ``AgentError``, ``ValidationError`` (the
input failed ``input_schema``), ``FieldstreamError`` (any other library error), ``InternalError``
(anything else).
"""

from __future__ import annotations

from typing import Any

from .._errors import (
    AgentError,
    FieldstreamError,
    LimitExceededError,
    ModelError,
    ModelStalledError,
    OutputTooLargeError,
    OutputValidationError,
    RunTimeoutError,
)

__all__ = ["public_error"]


def _public(exc: BaseException) -> tuple[str, str]:
    if isinstance(exc, LimitExceededError):  # the values are the server's own settings
        if isinstance(exc, RunTimeoutError):
            return "RunTimeoutError", f"the run took longer than its time limit ({exc.value:g} s)"
        if isinstance(exc, ModelStalledError):
            return "ModelStalledError", f"the model sent nothing for {exc.value:g} s; the run was stopped"
        if isinstance(exc, OutputTooLargeError):
            limit = int(exc.value)
            return "OutputTooLargeError", f"the model's output passed the limit of {limit} characters"
        return "LimitExceededError", "the run hit a limit"
    if isinstance(exc, OutputValidationError):
        call = exc.call_type if exc.call_type in ("think", "final_result") else "model"
        return "OutputValidationError", f"the {call} output did not match the schema, even after retries"
    if isinstance(exc, ModelError):
        status = exc.status if isinstance(exc.status, int) and 100 <= exc.status <= 599 else None
        return "ModelError", "the model provider failed" + (f" (HTTP {status})" if status else "")
    if isinstance(exc, AgentError):
        return "AgentError", "the agent run failed"
    if type(exc).__name__ == "ValidationError" and type(exc).__module__.startswith("pydantic"):
        return "ValidationError", "the input does not match the agent's input schema"
    if isinstance(exc, FieldstreamError):
        return "FieldstreamError", "the agent run failed"
    return "InternalError", "the agent run failed (details are in the server log)"


def public_error(exc: BaseException, *, debug: bool = False) -> dict[str, Any]:
    """``{"type", "message"}`` for a client: safe by default, the real ones with ``debug=True``."""
    if debug:
        return {"type": type(exc).__name__, "message": str(exc)}
    name, message = _public(exc)
    return {"type": name, "message": message}
