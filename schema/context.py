"""What every resolver can reach for one request: the services and who is asking."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import strawberry

from service.services import Services


@dataclass
class Context:
    services: Services
    request: Any
    response: Any = None
    actor: str | None = None
    role: str | None = None
    extensions: dict[str, Any] = field(default_factory=dict)


Info = strawberry.Info[Context, None]
