"""Old payloads are never rewritten: upcasters lift them on read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from uuid import uuid4

import pytest

from domain.events import cooperation_events
from events.model import RecordedEvent
from events.registry import EventTypes
from tests.store.kinds import ThingLabelled, test_events


def recorded(type_: str, version: int, data: dict[str, object]) -> RecordedEvent:
    return RecordedEvent(
        1, "thing:a", 1, uuid4(), type_, version, data, {}, datetime.now(UTC), "0" * 64, "0" * 64
    )


def test_v1_payload_is_lifted_to_the_current_version() -> None:
    old = recorded("ThingLabelled", 1, {"name": "a", "label": "x"})
    assert test_events.decode(old) == ThingLabelled("a", ["x"])
    assert test_events.decode(recorded("ThingLabelled", 1, {"name": "b", "label": None})) == (
        ThingLabelled("b", [])
    )


def test_current_payload_is_read_as_is() -> None:
    current = recorded("ThingLabelled", 2, {"name": "a", "labels": ["x", "y"]})
    assert test_events.decode(current) == ThingLabelled("a", ["x", "y"])


def test_a_version_without_its_upcaster_is_refused_at_registration() -> None:
    with pytest.raises(TypeError, match="lacks upcasters"):
        EventTypes().register(version=3, upcasters={1: dict})(ThingLabelled)


def test_a_payload_is_checked_against_its_event_at_its_own_version() -> None:
    """What an import refuses: a payload that is not its event once lifted, at the current
    version or an older one (an upcaster that fails on it too); a payload that is, passes."""
    problem = test_events.payload_problem
    assert problem("ThingLabelled", 1, '{"name": "a", "label": "x"}') is None
    assert problem("ThingLabelled", 2, '{"name": "a", "labels": ["x"]}') is None
    current = problem("ThingLabelled", 2, '{"labels": ["x"]}')
    assert current == "ThingLabelled v2 payload is invalid: Object missing required field `name`"
    lifted = problem("ThingLabelled", 1, '{"name": 3, "label": "x"}')
    assert lifted is not None
    assert lifted.startswith("ThingLabelled v1 payload is invalid: Expected `str`")
    old = problem("ThingLabelled", 1, "[1]")
    assert old == "ThingLabelled v1 payload is invalid: not an object but a list"
    assert problem("ThingGone", 1, "{}") == "ThingGone is an event type unknown to this Coop"
    array = problem("ThingLabelled", 2, "[1]")
    assert array == "ThingLabelled v2 payload is invalid: Expected `object`, got `array`"


def test_a_payload_its_upcaster_fails_on_is_a_problem_not_an_error() -> None:
    def failing(data: dict[str, object]) -> dict[str, object]:
        return {**data, "labels": [str(1 / len(str(data["label"])))]}

    types = EventTypes()
    types.register(version=2, upcasters={1: failing})(ThingLabelled)
    failed = types.payload_problem("ThingLabelled", 1, '{"name": "a", "label": ""}')
    assert failed == "ThingLabelled v1 payload is invalid: ZeroDivisionError: division by zero"


def test_a_payload_is_held_to_its_fields_and_vocabularies() -> None:
    """The check an import makes, stricter than a read: no field the event lacks (also once
    lifted), and a field with a vocabulary holds one of its values (or None where it may)."""

    class Colour(StrEnum):
        RED = "red"
        BLUE = "blue"

    @dataclass(frozen=True)
    class Painted:
        name: str
        colour: str
        trim: str | None = None

    types = EventTypes()
    types.register(choices={"colour": Colour, "trim": Colour})(Painted)
    problem = types.payload_problem
    assert problem("Painted", 1, '{"name": "a", "colour": "red"}') is None
    assert problem("Painted", 1, '{"name": "a", "colour": "red", "trim": "blue"}') is None
    wrong = problem("Painted", 1, '{"name": "a", "colour": "green"}')
    assert wrong == (
        "Painted v1 payload is invalid: Invalid enum value 'green' - at `$.colour`"
        " (one of red, blue)"
    )
    trim = problem("Painted", 1, '{"name": "a", "colour": "red", "trim": "pink"}')
    assert trim is not None
    assert trim.endswith("- at `$.trim` (one of red, blue)")
    extra = problem("Painted", 1, '{"name": "a", "colour": "red", "shade": 2}')
    assert extra == "Painted v1 payload is invalid: Object contains unknown field `shade`"
    # What a read takes all the same: the class itself holds no vocabulary.
    assert types.decode_text("Painted", 1, '{"name": "a", "colour": "green"}').colour == "green"
    lifted = test_events.payload_problem("ThingLabelled", 1, '{"name": "a", "label": "x", "y": 1}')
    assert lifted == "ThingLabelled v1 payload is invalid: Object contains unknown field `y`"


def test_a_vocabulary_on_a_field_that_is_not_text_is_refused_at_registration() -> None:
    @dataclass(frozen=True)
    class Counted:
        count: int

    class Sizes(StrEnum):
        ONE = "one"

    with pytest.raises(TypeError, match=r"Counted\.count has a vocabulary but is not text"):
        EventTypes().register(choices={"count": Sizes})(Counted)
    with pytest.raises(TypeError, match="Counted has no field 'counts' to give a vocabulary"):
        EventTypes().register(choices={"counts": Sizes})(Counted)


def test_a_payload_is_held_to_the_stream_it_was_recorded_in() -> None:
    """Where the event's class names its stream, a payload recorded in another is refused
    (the rules find a partner by its stream: one recorded elsewhere could be registered
    again); given no stream, or for a class that names none, the stream is not checked."""
    problem = cooperation_events.payload_problem
    text = '{"key": "beijing", "name": "Beijing", "kind": "city"}'
    assert problem("PartnerRegistered", 1, text, "partner:beijing") is None
    assert problem("PartnerRegistered", 1, text) is None
    elsewhere = problem("PartnerRegistered", 1, text, "partner:somewhere")
    assert elsewhere == (
        "PartnerRegistered is recorded in stream 'partner:somewhere', but its payload's stream"
        " is 'partner:beijing'"
    )
    old = '{"membership_id": "a@b#1", "member": "a", "network": "b", "since": "2006", "note": "x"}'
    assert problem("MembershipStarted", 1, old, "membership:a@b") is None
    assert problem("MembershipStarted", 1, old, "membership:a@c") is not None
    assert test_events.payload_problem("ThingNamed", 1, '{"name": "a", "tags": []}', "x") is None
