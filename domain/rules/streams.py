"""Which stream holds which fact, and the facts a rule decides from.

One stream per thing that must stay consistent on its own: a partner, all periods of one
member in one network, all roles of one holder in one network, a body, a program, an
activity, a commitment, a source. Every event names its stream (`stream_of`), so a
history of events can be regrouped into streams without the log.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from domain import events as ev


def partner_stream(key: str) -> str:
    return f"partner:{key}"


def membership_stream(member: str, network: str) -> str:
    return f"membership:{member}@{network}"


def role_stream(holder: str, network: str) -> str:
    return f"role:{holder}@{network}"


def body_stream(network: str, body: str) -> str:
    return f"body:{network}.{body}"


def program_stream(key: str) -> str:
    return f"program:{key}"


def activity_stream(key: str) -> str:
    return f"activity:{key}"


def commitment_stream(key: str) -> str:
    return f"commitment:{key}"


def source_stream(key: str) -> str:
    return f"source:{key}"


def stream_of(event: object) -> str:
    """The stream an event of the cooperation domain belongs to."""
    match event:
        case ev.SourceRegistered(key=key):
            return source_stream(key)
        case ev.PartnerRegistered(key=key) | ev.PartnerUpdated(key=key):
            return partner_stream(key)
        case ev.PartnerCorrected(key=key):
            return partner_stream(key)
        case ev.MembershipStarted() | ev.MembershipEnded() | ev.MembershipCorrected():
            return membership_stream(event.member, event.network)
        case ev.BodyRegistered() | ev.BodySizeRecorded():
            return body_stream(event.network, event.body)
        case ev.RoleAssigned() | ev.RoleEnded() | ev.RoleCorrected():
            return role_stream(event.holder, event.network)
        case ev.ProgramLaunched(key=key) | ev.ProgramConcluded(key=key):
            return program_stream(key)
        case ev.ProgramCorrected(key=key):
            return program_stream(key)
        case ev.PartnerJoinedProgram(program=key) | ev.PartnerLeftProgram(program=key):
            return program_stream(key)
        case ev.ActivityRecorded(key=key) | ev.ActivityCorrected(key=key):
            return activity_stream(key)
        case ev.CommitmentAnnounced(key=key) | ev.CommitmentCorrected(key=key):
            return commitment_stream(key)
    raise TypeError(f"{type(event).__name__} is not a cooperation event")


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

    def __init__(self, streams: Mapping[str, Sequence[Any]]) -> None:
        self._streams = {stream: list(events) for stream, events in streams.items()}

    @classmethod
    def from_history(cls, history: Iterable[object], plan: Plan) -> Facts:
        """The facts a plan loads, taken from a history of events (for pure tests)."""
        wanted: dict[str, list[object]] = {stream: [] for stream in plan.streams()}
        for event in history:
            stream = stream_of(event)
            if stream in wanted:
                wanted[stream].append(event)
        return cls(wanted)

    def events(self, stream: str) -> list[Any]:
        try:
            return self._streams[stream]
        except KeyError:
            raise LookupError(
                f"the rule read stream {stream!r}, which its plan did not load"
            ) from None
