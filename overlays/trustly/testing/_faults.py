"""Faults a test can inject into the simulator, per operation.

```python
sim.faults.add("transactions_capture", Fault.drop_after_applying())
sim.faults.add("transactions_refund", Fault.status(503, retry_after=1), times=2)
sim.faults.add("transactions_refund", Fault.answer(500, b'{"errors": [{"code": 1' + b"0" * 5000 + b"}]}"))
```

Faults that answer (`corrupt_encoding`, the drips, the stall, `answer`) apply the request first:
they model the worst case for a client, money moved and the answer unusable. The pacing faults
(`drip`, `drip_status_line`, `drip_headers`, `stall_after_headers`) keep every single read
within a client's read timeout, so only a deadline on the whole call ends them.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Fault", "FaultPlan"]

_PACED = ("drip", "drip_status_line", "drip_headers", "stall_after_headers")


@dataclass(frozen=True)
class Fault:
    """What to do to the next matching request instead of answering it normally."""

    kind: str  # "drop_before", "drop_after", "delay", "status", "corrupt_encoding", "answer" or one of _PACED
    seconds: float = 0.0
    status_code: int = 0
    retry_after: float | None = None
    body: bytes | None = None
    headers: tuple[tuple[str, str], ...] = ()

    @property
    def applies_request(self) -> bool:
        """Whether the simulator carries the request out before the fault hits."""
        return self.kind in ("drop_after", "delay", "corrupt_encoding", "answer", *_PACED)

    @property
    def paced(self) -> bool:
        """Whether the front end writes the answer in timed pieces (`pieces`) and then closes."""
        return self.kind in _PACED

    @classmethod
    def drop_before_applying(cls) -> Fault:
        """Close the connection without applying the request or answering."""
        return cls("drop_before")

    @classmethod
    def drop_after_applying(cls) -> Fault:
        """Apply the request, then close the connection without answering."""
        return cls("drop_after")

    @classmethod
    def delay(cls, seconds: float) -> Fault:
        """Apply the request, then answer after `seconds` (longer than the client's timeout: a read timeout)."""
        return cls("delay", seconds=seconds)

    @classmethod
    def status(cls, status_code: int, *, retry_after: float | None = None) -> Fault:
        """Answer with this error status (500, 503 ...) without applying the request."""
        return cls("status", status_code=status_code, retry_after=retry_after)

    @classmethod
    def corrupt_encoding(cls) -> Fault:
        """Apply the request, then answer its status with `Content-Encoding: gzip` over a body that is not gzip."""
        return cls("corrupt_encoding")

    @classmethod
    def drip(cls, seconds_per_byte: float) -> Fault:
        """Apply the request, then send the answer one byte at a time, `seconds_per_byte` apart (HTTP only)."""
        return cls("drip", seconds=seconds_per_byte)

    @classmethod
    def drip_status_line(cls, seconds_per_byte: float) -> Fault:
        """Apply the request, then send the whole answer, status line first, one byte at a time (HTTP only)."""
        return cls("drip_status_line", seconds=seconds_per_byte)

    @classmethod
    def drip_headers(cls, seconds_per_byte: float) -> Fault:
        """Apply the request, send the status line, then the headers one byte at a time, then the body (HTTP only)."""
        return cls("drip_headers", seconds=seconds_per_byte)

    @classmethod
    def stall_after_headers(cls, seconds: float) -> Fault:
        """Apply the request, send the status line and headers, then nothing for `seconds`, then the body."""
        return cls("stall_after_headers", seconds=seconds)

    @classmethod
    def answer(cls, status_code: int, body: bytes, headers: dict[str, str] | None = None) -> Fault:
        """Apply the request, then answer with this status and raw body instead (a deep JSON body, a huge code)."""
        extra = tuple((headers or {"Content-Type": "application/json"}).items())
        return cls("answer", status_code=status_code, body=body, headers=extra)

    def disguise(self, status: int, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str], bytes]:
        """The status, headers and body a front end sends for an answering fault."""
        if self.kind == "corrupt_encoding":
            return status, {**headers, "Content-Encoding": "gzip"}, b"\x1f\x8b\x08\x00 not gzip at all " + body[:32]
        if self.kind == "answer" and self.body is not None:
            return self.status_code, dict(self.headers), self.body
        return status, headers, body

    def pieces(self, answer: bytes, head_length: int) -> Iterator[tuple[bytes, float]]:
        """For a paced fault: the pieces of `answer` to write, each with the seconds to wait after it.

        `head_length` is the length of the status line and headers at the start of `answer`.
        """
        if self.kind == "stall_after_headers":
            yield answer[:head_length], self.seconds
            yield answer[head_length:], 0.0
            return
        start = {"drip": head_length, "drip_status_line": 0, "drip_headers": answer.index(b"\r\n") + 2}[self.kind]
        if start:
            yield answer[:start], 0.0
        end = head_length if self.kind == "drip_headers" else len(answer)
        for index in range(start, end):
            yield answer[index : index + 1], self.seconds
        if end < len(answer):
            yield answer[end:], 0.0


class FaultPlan:
    """Faults queued per operation id; each is used `times` times, then the operation behaves."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queued: dict[str, list[Fault]] = {}

    def add(self, operation_id: str, fault: Fault, *, times: int = 1) -> None:
        """Make the next `times` calls of `operation_id` (e.g. "transactions_capture") meet `fault`."""
        with self._lock:
            self._queued.setdefault(operation_id, []).extend([fault] * times)

    def take(self, operation_id: str) -> Fault | None:
        """The fault for this call of `operation_id`, used up by taking it; None when none is queued."""
        with self._lock:
            queue = self._queued.get(operation_id)
            return queue.pop(0) if queue else None

    def clear(self) -> None:
        """Drop every queued fault."""
        with self._lock:
            self._queued.clear()
