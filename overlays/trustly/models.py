"""Every model and enum of the API, e.g. `from trustly.models import Transaction, TransactionStatus`.

Names resolve on first use (the generated package loads each model module lazily), so importing
this module is cheap; type checkers see the real classes, and only those.
"""

from typing import TYPE_CHECKING, Any

import trustly_api_client.models as _models

if TYPE_CHECKING:
    from trustly_api_client.models import *  # noqa: F403

__all__ = list(_models.__all__)


if not TYPE_CHECKING:
    # Type checkers see the star import above, so a misspelt model name is an error for them.

    def __getattr__(name: str) -> Any:
        return getattr(_models, name)


def __dir__() -> list[str]:
    return __all__
