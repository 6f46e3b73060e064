"""The `trustly` command: look up transactions and payments, verify notifications, sign Establish
Data and serve the local simulator, from a terminal.

Installed with the `cli` extra (`pip install "trustly-api-client[cli]"`). The command reads the
same variables as the client (`TRUSTLY_ENVIRONMENT`, `TRUSTLY_ACCESS_ID`, `TRUSTLY_ACCESS_KEY`).
click and rich are imported only when the command runs, so `import trustly` never pays for them.
"""

from __future__ import annotations

import sys

from ._exit import ExitCode

__all__ = ["ExitCode", "main"]


def main(argv: list[str] | None = None) -> int:
    """Run the `trustly` command with `argv` (default: the process arguments); return its exit code."""
    try:
        from ._app import run
    except ImportError as error:
        missing = error.name or "a dependency"
        print(
            f"trustly: the command needs the `cli` extra ({missing} is not installed): "
            'pip install "trustly-api-client[cli]"',
            file=sys.stderr,
        )
        return ExitCode.CONFIGURATION
    return run(sys.argv[1:] if argv is None else argv)
