"""Sources: a cited document must be registered, except the reserved direct entry."""

from __future__ import annotations

import pytest

from domain import rules
from domain.commands import RegisterPartner, RegisterSource
from domain.errors import Conflict, NotFound
from domain.events import DomainEvent, PartnerRegistered
from domain.facts import Facts
from domain.rules.sources import DIRECT_ENTRY
from events.model import SourceRef


def decide(command: RegisterPartner | RegisterSource) -> list[DomainEvent]:
    plan = rules.plan(command)
    return rules.decide(Facts.from_history([], plan), command)


def test_an_unregistered_document_is_refused() -> None:
    command = RegisterPartner(key="osaka", name="Osaka", kind="city", source=SourceRef("nowhere"))
    with pytest.raises(NotFound, match="'nowhere' is not registered"):
        decide(command)


def test_a_direct_entry_needs_no_registered_document() -> None:
    command = RegisterPartner(
        key="osaka", name="Osaka", kind="city", source=SourceRef(DIRECT_ENTRY)
    )
    assert decide(command) == [PartnerRegistered(key="osaka", name="Osaka", kind="city")]


def test_no_source_may_take_the_reserved_key() -> None:
    command = RegisterSource(key=DIRECT_ENTRY, title="Mine", source=SourceRef(DIRECT_ENTRY))
    with pytest.raises(Conflict, match="reserved"):
        decide(command)
