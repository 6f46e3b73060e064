"""A stateful local Trustly for tests, demos and your own test suite.

```python
from trustly.testing import Simulator, SimulatorServer

sim = Simulator(notification_url="http://127.0.0.1:8000/trustly/notifications")
with SimulatorServer(sim) as server:                      # or tls=True for HTTPS
    client = TrustlyClient(base_url=server.base_url, access_id=sim.access_id, access_key=...)
    ...
    sim.authorize(transaction_id)                         # the customer, or a browser at the
    token = sim.split_token(transaction_id)               # Lightbox URL establish returns
    sim.advance(days=3)                                   # simulated time: settlement, expiries
```

Its own endpoints live under `/_simulator/`: the Lightbox pages, a stand-in for Trustly's
`trustly.js` at `/_simulator/start/scripts/trustly.js`, and an HTTP twin of each test helper.

The lifecycle it follows is one table (`_lifecycle.TRANSITIONS`); `LifecycleOptions` adjusts the
timings and account settings Trustly does not publish.

Needs the `testing` extra (`pip install "trustly-api-client[testing]"`) for pyyaml, jsonschema and
trustme; the client itself does not depend on them. `trustly simulator` (or
`python -m trustly.testing`) serves one by hand; `trustly.testing.pytest_plugin` holds the pytest
fixtures.

Names load on first use, so that the pytest plugin inside this package can be imported (by every
pytest run in an environment with this package) without the `testing` extra's dependencies.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._faults import Fault, FaultPlan
    from ._lifecycle import LifecycleOptions
    from ._realism import Realism
    from ._server import SimulatorServer
    from ._simulator import Reply, Simulator
    from ._transport import AsyncSimulatorTransport, SimulatorTransport

__all__ = [
    "AsyncSimulatorTransport",
    "Fault",
    "FaultPlan",
    "LifecycleOptions",
    "Realism",
    "Reply",
    "Simulator",
    "SimulatorServer",
    "SimulatorTransport",
]

_MODULES = {
    "AsyncSimulatorTransport": "._transport",
    "Fault": "._faults",
    "FaultPlan": "._faults",
    "LifecycleOptions": "._lifecycle",
    "Realism": "._realism",
    "Reply": "._simulator",
    "Simulator": "._simulator",
    "SimulatorServer": "._server",
    "SimulatorTransport": "._transport",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *__all__])
