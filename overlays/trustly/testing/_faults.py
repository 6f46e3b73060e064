"""Faults a test can inject into the simulator, per operation.

```python
sim.faults.add("transactions_capture", Fault.drop_after_applying())
sim.faults.add("transactions_refund", Fault.status(503, retry_after=1), times=2)
```
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

__all__ = ["Fault", "FaultPlan"]


@dataclass(frozen=True)
class Fault:
    """What to do to the next matching request instead of answering it normally."""

    kind: str  # "drop_before", "drop_after", "delay", "status"
    seconds: float = 0.0
    status_code: int = 0
    retry_after: float | None = None

    @property
    def applies_request(self) -> bool:
        """Whether the simulator carries the request out before the fault hits."""
        return self.kind in ("drop_after", "delay")

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
