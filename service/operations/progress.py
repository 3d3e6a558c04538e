"""How a long verb tells its caller how far it has come."""

from __future__ import annotations

from collections.abc import Callable

# Called with (done, total) as work advances; `total` is what the verb expects to do.
Progress = Callable[[int, int], None]


def silent(_done: int, _total: int) -> None:
    """Progress nobody watches."""
