"""The write path against a real store: versions, retries, idempotency, who and why."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest

from domain.commands import RegisterPartner, RegisterSource, StartMembership, UpdatePartner
from domain.errors import Conflict, NotFound
from domain.events import PartnerRegistered
from domain.handling import Commands
from events.dates import PartialDate
from events.model import SourceRef
from service.migrate import upgrade
from service.services import build_services
from service.settings import Settings

SOURCE = SourceRef("memo")
UNKNOWN = PartialDate.parse("unknown")


@pytest.fixture
async def commands(database_url: str) -> AsyncIterator[Commands]:
    services = build_services(Settings(database_url=database_url))
    await upgrade(services.engine)
    commands = Commands(services.store)
    await commands.execute(RegisterSource(source=SOURCE, key="memo", title="Memo"), "editor")
    try:
        yield commands
    finally:
        await services.close()


def tokyo(**extra: Any) -> RegisterPartner:
    return RegisterPartner(source=SOURCE, key="tokyo", name="Tokyo", kind="city", **extra)


async def test_an_outcome_tells_what_was_written_by_whom_and_why(commands: Commands) -> None:
    outcome = await commands.execute(tokyo(reason="first entry"), "editor-1")
    assert (outcome.stream_id, outcome.stream_version, outcome.replayed) == (
        "partner:tokyo",
        1,
        False,
    )
    (event,) = outcome.events
    assert event.metadata["actor"] == "editor-1"
    assert event.metadata["reason"] == "first entry"
    assert event.metadata["source"] == {"document": "memo", "section": None}


async def test_a_retried_command_writes_nothing_and_returns_the_first_result(
    commands: Commands,
) -> None:
    first = await commands.execute(tokyo(idempotency_key="k-1"), "editor")
    again = await commands.execute(tokyo(idempotency_key="k-1"), "editor")
    assert again.replayed
    assert again.events == first.events
    with pytest.raises(Conflict, match="is already registered"):
        await commands.execute(tokyo(idempotency_key="k-2"), "editor")


async def test_a_key_reused_for_another_request_is_a_conflict(commands: Commands) -> None:
    await commands.execute(tokyo(idempotency_key="k-1"), "editor")
    other = RegisterPartner(
        source=SOURCE, key="paris", name="Paris", kind="city", idempotency_key="k-1"
    )
    with pytest.raises(Conflict, match="idempotency key 'k-1' was already used"):
        await commands.execute(other, "editor")


async def test_an_expected_version_that_does_not_match_is_a_conflict(commands: Commands) -> None:
    await commands.execute(tokyo(expected_version=0), "editor")
    rename = UpdatePartner(
        source=SOURCE,
        key="tokyo",
        name="Tokyo Metropolis",
        effective=PartialDate.parse("1943"),
        expected_version=0,
    )
    with pytest.raises(
        Conflict, match="'partner:tokyo' was expected at no stream yet, but it is at version 1"
    ):
        await commands.execute(rename, "editor")
    outcome = await commands.execute(
        UpdatePartner(**{**rename.__dict__, "expected_version": 1}), "editor"
    )
    assert outcome.stream_version == 2


async def test_domain_errors_keep_their_codes(commands: Commands) -> None:
    command = StartMembership(source=SOURCE, member="tokyo", network="c40")
    with pytest.raises(NotFound, match="partner 'tokyo' is not registered") as error:
        await commands.execute(command, "editor")
    assert error.value.code == "NOT_FOUND"


async def test_concurrent_writers_to_related_streams_all_land(commands: Commands) -> None:
    await commands.execute(tokyo(), "editor")
    renames = [
        UpdatePartner(source=SOURCE, key="tokyo", description=f"take {n}", effective=UNKNOWN)
        for n in range(5)
    ]
    outcomes = await asyncio.gather(*(commands.execute(r, "editor") for r in renames))
    assert sorted(o.stream_version for o in outcomes) == [2, 3, 4, 5, 6]


async def test_an_event_a_rule_decides_outside_the_commands_stream_is_not_written(
    commands: Commands, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A rule's bug: an event whose payload names another stream than the one the command
    writes would be refused by every import, copy and verify of the log ever after; the
    handler refuses it before anything is written."""
    stray = PartnerRegistered(key="osaka", name="Osaka", kind="city")
    monkeypatch.setattr("domain.handling.rules.decide", lambda *_: [stray])
    head = await commands.store.head()
    with pytest.raises(RuntimeError, match="decided PartnerRegistered outside its stream"):
        await commands.execute(tokyo(), "editor")
    assert await commands.store.head() == head
