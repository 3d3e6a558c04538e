"""The drawings, from plain values: how each kind of date is drawn and said."""

from __future__ import annotations

import re
from datetime import date

from events.dates import PartialDate
from service.browser import drawing
from service.browser.timelines import dates_phrase, year_counts

TODAY = date(2026, 6, 1)
AXIS = drawing.Axis(date(2000, 1, 1), date(2027, 12, 31))


def period(since: str | None, until: str | None, **extra: object) -> drawing.Period:
    start = PartialDate.parse(since) if since else None
    end = PartialDate.parse(until) if until and until != "unknown" else None
    values: dict[str, object] = {
        "kind": "membership",
        "label": "C40",
        "href": "/partners/c40",
        "summary": "Tokyo in C40",
        "since_lo": start.earliest if start else None,
        "since_hi": start.latest if start else None,
        "until": until,
        "until_lo": end.earliest if end else None,
        "until_hi": end.latest if end else None,
        **extra,
    }
    return drawing.Period(**values)  # type: ignore[arg-type]


def body(*periods: drawing.Period) -> str:
    sections = [drawing.Section("Networks", periods)]
    return drawing.timeline_body(sections, AXIS, TODAY, "t-").split('<g class="legend"')[0]


def rects(svg: str, fill: str) -> list[tuple[float, float]]:
    pattern = (
        rf'<rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)" height="\d+" fill="{re.escape(fill)}"'
    )
    return [(float(x), float(width)) for x, width in re.findall(pattern, svg)]


def test_a_start_known_to_a_year_is_spread_over_that_year() -> None:
    (ramp,) = rects(body(period("2006", None)), "url(#t-in-membership)")
    assert ramp[0] == round(AXIS.x(date(2006, 1, 1)), 1)
    assert abs(ramp[1] - (AXIS.x(date(2007, 1, 1)) - AXIS.x(date(2006, 1, 1)))) < 0.2


def test_a_start_known_to_a_month_is_spread_over_the_month_and_a_day_not_at_all() -> None:
    (ramp,) = rects(body(period("2009-05", None)), "url(#t-in-membership)")
    assert ramp[1] < 3
    assert rects(body(period("2009-05-12", None)), "url(#t-in-membership)") == []


def test_an_open_end_runs_to_today_with_an_arrow_and_an_ended_one_is_closed() -> None:
    svg = body(period("2006", None))
    (solid,) = rects(svg, drawing.COLOURS["membership"])
    assert abs(solid[0] + solid[1] - AXIS.x(TODAY)) < 0.2
    assert "<path" in svg
    ended = body(period("2006", "2015-03-31"))
    assert re.search(r'width="3" height="\d+" fill="#1b1b1b"', ended)  # the end, closed
    assert rects(ended, "url(#t-out-membership)") == []


def test_an_end_at_an_unknown_date_fades_out_and_is_not_closed() -> None:
    svg = body(period("2006", "unknown"))
    assert len(rects(svg, "url(#t-out-membership)")) == 1
    assert 'width="3"' not in svg


def test_no_dates_at_all_is_a_faint_band_and_an_attested_day_a_mark() -> None:
    assert 'opacity="0.18"' in body(period(None, None))
    attested = body(period(None, None, attested=date(2020, 11, 1)))
    assert 'opacity="0.45"' in attested  # the unknown start fades in up to the attested day
    assert 'fill="#ffffff" stroke="#1b1b1b"' in attested


def test_a_corrected_period_is_marked_and_every_bar_says_itself() -> None:
    svg = body(period("2006", None, corrected=True))
    assert f'fill="{drawing.MARK}" stroke="{drawing.MARK}"' in svg
    assert '<a href="/partners/c40" class="period membership"><title>Tokyo in C40</title>' in svg


def test_the_as_of_line_is_added_to_a_kept_body() -> None:
    sections = [drawing.Section("Networks", [period("2006", None)])]
    kept = drawing.timeline_body(sections, AXIS, TODAY, "t-")
    svg = drawing.timeline_svg(kept, sections, AXIS, "T", "D", "t-", date(2008, 1, 1))
    assert kept in svg
    assert "as of 2008-01-01" in svg
    assert "as of" not in drawing.timeline_svg(kept, sections, AXIS, "T", "D", "t-")


def test_dates_in_words() -> None:
    assert dates_phrase("2006", None, None) == (
        "since 2006 (a day in that year the source does not give); no end on record"
    )
    assert dates_phrase(None, "unknown", PartialDate.parse("2020-11")) == (
        "no source dates its start, but it held in 2020-11;"
        " ended on a date the source does not give"
    )
    assert dates_phrase("2009-05-12", "2024", None) == "since 2009-05-12; until 2024"


def test_year_counts_tell_certain_from_possible() -> None:
    rows = [
        {
            "valid_from": "2006",
            "valid_from_lo": date(2006, 1, 1),
            "valid_from_hi": date(2006, 12, 31),
            "valid_to_lo": date.max,
            "valid_to_hi": date.max,
        },
        {
            "valid_from": None,
            "valid_from_lo": date.min,
            "valid_from_hi": date.max,
            "valid_to_lo": date.max,
            "valid_to_hi": date.max,
        },
    ]
    counts = year_counts(rows, date(2008, 6, 1))
    assert [(c.year, c.certain, c.possible) for c in counts] == [
        (2006, 1, 1),
        (2007, 1, 1),
        (2008, 1, 1),
    ]
    assert year_counts([], TODAY) == []
