"""A stateful local Trustly for tests, demos and your own test suite.

```python
from trustly.testing import Simulator, SimulatorServer

sim = Simulator(notification_url="http://127.0.0.1:8000/trustly/notifications")
with SimulatorServer(sim) as server:                      # or tls=True for HTTPS
    client = TrustlyClient(base_url=server.base_url, access_id=sim.access_id, access_key=...)
```

Needs the `testing` extra (`pip install "trustly-api-client[testing]"`) for pyyaml, jsonschema and
trustme; the client itself does not depend on them. Run `python -m trustly.testing` to serve one
by hand.
"""

from ._faults import Fault, FaultPlan
from ._realism import Realism
from ._server import SimulatorServer
from ._simulator import Reply, Simulator
from ._transport import AsyncSimulatorTransport, SimulatorTransport

__all__ = [
    "AsyncSimulatorTransport",
    "Fault",
    "FaultPlan",
    "Realism",
    "Reply",
    "Simulator",
    "SimulatorServer",
    "SimulatorTransport",
]
