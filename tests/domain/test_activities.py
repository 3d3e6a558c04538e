"""Activities and the commitments announced at them."""

from __future__ import annotations

from typing import Any

import pytest

from domain.commands import AnnounceCommitment, CorrectActivity, CorrectCommitment, RecordActivity
from domain.errors import Conflict, NotFound, ValidationError
from domain.events import (
    ActivityCorrected,
    ActivityRecorded,
    CommitmentAnnounced,
    DomainEvent,
)
from tests.domain.scenario import SOURCE, city, d, network, steering_committee, when

GIVEN = [city("tokyo"), city("paris"), network("c40"), steering_committee()]


def meeting(**extra: Any) -> RecordActivity:
    values: dict[str, Any] = {
        "key": "sc-2020-12",
        "name": "C40 Steering Committee meeting",
        "kind": "committee_meeting",
        "on": d("2020-12"),
        "organiser": "c40",
        "participants": ["tokyo"],
        "representatives": ["Governor of Tokyo"],
        "network": "c40",
        "body": "steering-committee",
        **extra,
    }
    return RecordActivity(source=SOURCE, **values)


def recorded() -> list[DomainEvent]:
    return [*GIVEN, *when(GIVEN, meeting())]


def test_recording_a_meeting_of_a_body() -> None:
    (event,) = when(GIVEN, meeting())
    assert isinstance(event, ActivityRecorded)
    assert (event.on, event.body, event.mode) == (d("2020-12"), "steering-committee", None)


@pytest.mark.parametrize(
    ("extra", "error", "message"),
    [
        ({"kind": "party"}, ValidationError, "kind 'party' is not known"),
        ({"mode": "by post"}, ValidationError, "mode 'by post' is not known"),
        ({"participants": ["osaka"]}, NotFound, "partner 'osaka' is not registered"),
        ({"participants": ["tokyo", "tokyo"]}, ValidationError, "same partner twice"),
        ({"body": "board"}, NotFound, "c40 has no body 'board'"),
        ({"network": None}, ValidationError, "needs the network it belongs to"),
        ({"program": "nothing"}, NotFound, "program 'nothing' has not been launched"),
        ({"name": ""}, ValidationError, "name must not be empty"),
    ],
)
def test_malformed_activities_are_refused(
    extra: dict[str, object], error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        when(GIVEN, meeting(**extra))


def test_an_activity_is_recorded_once() -> None:
    with pytest.raises(Conflict, match="activity 'sc-2020-12' is already recorded"):
        when(recorded(), meeting())


def test_correcting_an_activity_adds_a_participant() -> None:
    command = CorrectActivity(
        source=SOURCE,
        reason="the photo shows Paris",
        key="sc-2020-12",
        participants=["tokyo", "paris"],
    )
    (fixed,) = when(recorded(), command)
    assert isinstance(fixed, ActivityCorrected)
    assert (fixed.participants, fixed.corrected_fields) == (["tokyo", "paris"], ["participants"])
    with pytest.raises(ValidationError, match="give both network and body"):
        when(recorded(), CorrectActivity(source=SOURCE, key="sc-2020-12", body="board"))


def announce(**extra: Any) -> AnnounceCommitment:
    values: dict[str, Any] = {
        "key": "climate-movement",
        "by": "tokyo",
        "by_title": "Governor of Tokyo",
        "on": d("2020-12"),
        "activity": "sc-2020-12",
        "statement": "Act against the climate crisis as a worldwide movement.",
        "focus_areas": ["sustainable buildings", "green hydrogen"],
        **extra,
    }
    return AnnounceCommitment(source=SOURCE, **values)


def test_a_commitment_at_a_meeting_with_its_focus_areas() -> None:
    assert when(recorded(), announce()) == [
        CommitmentAnnounced(
            key="climate-movement",
            by="tokyo",
            by_title="Governor of Tokyo",
            on=d("2020-12"),
            activity="sc-2020-12",
            statement="Act against the climate crisis as a worldwide movement.",
            focus_areas=["sustainable buildings", "green hydrogen"],
            collaborators=[],
        )
    ]


def test_a_commitment_must_fit_its_activity() -> None:
    with pytest.raises(ValidationError, match="announced on 2019, but activity 'sc-2020-12'"):
        when(recorded(), announce(on=d("2019")))
    assert len(when(recorded(), announce(on=d("2020")))) == 1
    with pytest.raises(NotFound, match="activity 'sc-2020-12' is not recorded"):
        when(GIVEN, announce())


def test_correcting_a_commitment() -> None:
    history = [*recorded(), *when(recorded(), announce())]
    command = CorrectCommitment(source=SOURCE, key="climate-movement", clear=["by_title"])
    (fixed,) = when(history, command)
    assert fixed.by_title is None  # type: ignore[attr-defined]
    with pytest.raises(NotFound, match="commitment 'other' is not recorded"):
        when(history, CorrectCommitment(source=SOURCE, key="other", by_title="Mayor"))
