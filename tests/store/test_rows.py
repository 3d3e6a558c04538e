"""An id and a time spelled from what SQLite keeps for them, as from their values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from uuid import UUID

import pytest

from events.chain import timestamp_text
from events.rows import id_text, moment_text, sqlite_id, sqlite_moment

MOMENTS = [
    datetime(2021, 1, 1, 0, 0, 20, tzinfo=UTC),
    datetime(2021, 1, 1, 0, 0, 20, 123456, tzinfo=UTC),
    datetime(1999, 12, 31, 23, 59, 59, 1, tzinfo=timezone(timedelta(hours=-5))),
]


@pytest.mark.parametrize("moment", MOMENTS)
def test_a_time_is_spelled_the_same_from_its_value_and_from_sqlites_text(
    moment: datetime,
) -> None:
    assert moment_text(sqlite_moment(moment)) == moment_text(moment) == timestamp_text(moment)


@pytest.mark.parametrize(
    ("kept", "spelled"),
    [
        # Text SQLAlchemy does not write is parsed, as reading it into a value would.
        ("2021-01-01 00:00:20,123456", "2021-01-01T00:00:20.123456+00:00"),
        ("2021-01-01 00:00:20.1+0100", "2020-12-31T23:00:20.100000+00:00"),
        ("2021-01-01T00:00:20", "2021-01-01T00:00:20.000000+00:00"),
    ],
)
def test_a_time_in_another_spelling_is_read_as_its_value(kept: str, spelled: str) -> None:
    assert moment_text(kept) == spelled


def test_an_id_is_spelled_as_str_spells_it_from_any_of_its_texts() -> None:
    value = UUID("0123456789abcdef0123456789abcdef")
    for kept in (sqlite_id(value), value.hex.upper(), str(value), value):
        assert id_text(kept) == str(value)
    with pytest.raises(ValueError, match="badly formed"):
        id_text("not an id at all, thirty-two ch.")
