"""The cooperation domain's events. Each is a frozen dataclass named in the past tense."""

from __future__ import annotations

from events.registry import EventTypes

cooperation_events = EventTypes()
