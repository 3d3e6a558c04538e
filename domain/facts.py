"""What a rule reads: the plan naming its streams, and the facts (their events) it decides from."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from domain.events import DomainEvent


@dataclass(frozen=True)
class Plan:
    """The stream a command writes to and the other streams its rule reads."""

    target: str
    reads: tuple[str, ...] = ()

    def streams(self) -> tuple[str, ...]:
        others = tuple(dict.fromkeys(s for s in self.reads if s != self.target))
        return (self.target, *others)


class Facts:
    """The events of the streams a rule may read, by stream id, oldest first.

    Asking for a stream the plan did not load is a bug in the rule's plan, not an empty
    stream, so it raises instead of answering "nothing".
    """

    def __init__(self, streams: Mapping[str, Sequence[DomainEvent]]) -> None:
        self._streams = {stream: list(events) for stream, events in streams.items()}

    @classmethod
    def from_history(cls, history: Iterable[DomainEvent], plan: Plan) -> Facts:
        """The facts a plan loads, taken from a history of events (for pure tests)."""
        wanted: dict[str, list[DomainEvent]] = {stream: [] for stream in plan.streams()}
        for event in history:
            if event.stream in wanted:
                wanted[event.stream].append(event)
        return cls(wanted)

    def events(self, stream: str) -> list[DomainEvent]:
        try:
            return self._streams[stream]
        except KeyError:
            raise LookupError(
                f"the rule read stream {stream!r}, which its plan did not load"
            ) from None
