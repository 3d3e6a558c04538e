"""Payloads written by earlier versions still decode: the golden file is never rewritten."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest

from domain.events import MembershipStarted, cooperation_events
from events.dates import PartialDate
from events.model import RecordedEvent

GOLDEN = Path(__file__).parent.parent / "golden" / "events_v1.ndjson"


def golden() -> list[dict[str, Any]]:
    return [json.loads(line) for line in GOLDEN.read_text().splitlines() if line]


def recorded(line: dict[str, Any]) -> RecordedEvent:
    return RecordedEvent(
        position=1,
        stream_id="golden",
        stream_version=1,
        event_id=UUID(int=1),
        type=line["type"],
        schema_version=line["schema_version"],
        data=line["data"],
        metadata={},
        recorded_at=datetime(2021, 1, 1, tzinfo=UTC),
        prev_hash="0" * 64,
        hash="0" * 64,
    )


@pytest.mark.parametrize("line", golden(), ids=lambda line: line["type"])
def test_every_golden_payload_decodes(line: dict[str, Any]) -> None:
    event = cooperation_events.decode(recorded(line))
    assert type(event).__name__ == line["type"]
    assert isinstance(event.stream, str), f"{line['type']} does not name its stream"
    # And an import, a copy and verify take it: its fields, vocabularies and stream hold.
    text = json.dumps(line["data"])
    assert (
        cooperation_events.payload_problem(line["type"], line["schema_version"], text, event.stream)
        is None
    )


def test_the_golden_file_covers_every_event_type() -> None:
    assert {line["type"] for line in golden()} == set(cooperation_events.names())


def test_membership_started_v1_note_becomes_v2_notes() -> None:
    lifted = [
        cooperation_events.decode(recorded(line))
        for line in golden()
        if line["type"] == "MembershipStarted"
    ]
    assert lifted == [
        MembershipStarted(
            membership_id="tokyo@icap#1",
            member="tokyo",
            network="icap",
            since=PartialDate(2009, 5),
            notes=["the only single city government entity"],
        ),
        MembershipStarted(
            membership_id="tokyo@c40#1",
            member="tokyo",
            network="c40",
            since=PartialDate(2006),
            notes=[],
        ),
        MembershipStarted(
            membership_id="london@c40#1",
            member="london",
            network="c40",
            since=PartialDate(),
            notes=[],
        ),
    ]


def test_membership_started_is_at_version_2() -> None:
    assert cooperation_events.get("MembershipStarted").version == 2
