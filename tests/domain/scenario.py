"""Given events, when a command: the pure rules, with no database."""

from __future__ import annotations

from collections.abc import Sequence

from domain import rules
from domain.commands import Command
from domain.events import (
    BodyRegistered,
    DomainEvent,
    MembershipEnded,
    MembershipStarted,
    PartnerRegistered,
    SourceRegistered,
)
from domain.facts import Facts
from events.dates import PartialDate
from events.model import SourceRef

SOURCE = SourceRef("doc", "Cooperation with C40")
DOCUMENT = SourceRegistered(key="doc", title="A document", sections=["Cooperation with C40"])


def when(given: Sequence[DomainEvent], command: Command) -> list[DomainEvent]:
    """The events `command` decides after the history `given` (the source is registered),
    each in the stream the command writes (as the handler holds them to)."""
    plan = rules.plan(command)
    decided = rules.decide(Facts.from_history([DOCUMENT, *given], plan), command)
    assert [event.stream for event in decided] == [plan.target] * len(decided), command
    return decided


def d(text: str) -> PartialDate:
    return PartialDate.parse(text)


def city(key: str) -> PartnerRegistered:
    return PartnerRegistered(key=key, name=key.title(), kind="city")


def network(key: str) -> PartnerRegistered:
    return PartnerRegistered(key=key, name=key.upper(), kind="network")


def joined(member: str, net: str, since: str, number: int = 1) -> MembershipStarted:
    return MembershipStarted(
        membership_id=f"{member}@{net}#{number}",
        member=member,
        network=net,
        since=d(since),
        notes=[],
    )


def left(member: str, net: str, until: str, number: int = 1) -> MembershipEnded:
    return MembershipEnded(
        membership_id=f"{member}@{net}#{number}", member=member, network=net, until=d(until)
    )


def steering_committee() -> BodyRegistered:
    return BodyRegistered(network="c40", body="steering-committee", name="Steering Committee")


TOKYO_IN_C40 = [city("tokyo"), network("c40")]
