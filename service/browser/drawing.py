"""SVG drawings of the record: timelines of periods, and a network's members year by year.

Pure functions from plain values to SVG text, built as strings: a network's timeline may
hold a thousand bars, and each costs a few string joins, not a tree of objects. Every
drawing carries its own text alternative (a title and description, a title per bar).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from html import escape

WIDTH = 960
LABEL_WIDTH = 230
RIGHT = 24
ROW = 24
BAR = 14
HEAD = 44  # the year labels above the first row
SECTION = 30  # a section's heading row
LEGEND = 76
DAY = timedelta(days=1)

# Colours with at least 4.5:1 contrast on white, told apart by more than hue (shapes too).
INK = "#1b1b1b"
GRID = "#d6d6d6"
MUTED = "#595959"
COLOURS = {"membership": "#1f5fa8", "role": "#8a4500", "member": "#1f5fa8", "office": "#8a4500"}
MARK = "#b3261e"


@dataclass(frozen=True)
class Period:
    """One bar: a membership or role over its valid period, as precise as the record is.

    `since_lo`/`since_hi` are the first and last day the start may be (None: no source dates
    it); `until` is None for no end on record, "unknown" for an end at an unknown date, else
    the end's text with `until_lo`/`until_hi` the days it may be. `attested` is a day the
    source says it held on, when the start is unknown."""

    kind: str  # membership | role | member | office
    label: str
    href: str
    summary: str  # the bar's text alternative
    since_lo: date | None
    since_hi: date | None
    until: str | None
    until_lo: date | None
    until_hi: date | None
    attested: date | None = None
    corrected: bool = False


@dataclass(frozen=True)
class Section:
    heading: str
    periods: Sequence[Period]


@dataclass(frozen=True)
class Axis:
    """The span of days drawn, mapped onto the plot's width."""

    first: date
    last: date

    @classmethod
    def around(cls, days: Iterable[date], today: date) -> Axis:
        years = [day.year for day in days]
        start = min(years, default=today.year - 10) - 1
        end = max([*years, today.year]) + 1
        return cls(date(start, 1, 1), date(end, 12, 31))

    def x(self, day: date) -> float:
        day = min(max(day, self.first), self.last)
        span = self.last.toordinal() - self.first.toordinal()
        plot = WIDTH - LABEL_WIDTH - RIGHT
        return LABEL_WIDTH + (day.toordinal() - self.first.toordinal()) * plot / span

    @property
    def step(self) -> int:
        """Years between grid lines: every year on a short axis, fewer on a long one."""
        years = self.last.year - self.first.year
        return next(step for step in (1, 2, 5, 10, 25, 50, 100) if years / step <= 16)


def days_of(sections: Sequence[Section]) -> list[date]:
    """The days the periods name, to fit the axis around."""
    found: list[date] = []
    for section in sections:
        for p in section.periods:
            found += [d for d in (p.since_lo, p.attested) if d is not None]
            if p.until not in (None, "unknown") and p.until_hi is not None:
                found.append(p.until_hi)
    return found


def timeline_body(sections: Sequence[Section], axis: Axis, today: date, prefix: str) -> str:
    """The bars, grid and legend of a timeline: everything but what depends on the day asked
    about (`marker`), so it may be kept and reused for one record position."""
    parts = [_gradients(prefix), _grid(axis, _height(sections))]
    y = HEAD
    for section in sections:
        parts.append(
            f'<text x="8" y="{y + 20}" font-weight="bold">{escape(section.heading)}</text>'
        )
        y += SECTION
        for period in section.periods:
            parts.append(_row(period, y, axis, today, prefix))
            y += ROW
    parts.append(_legend(y + 16, prefix))
    return "".join(parts)


def _height(sections: Sequence[Section]) -> int:
    rows = sum(len(section.periods) for section in sections)
    return HEAD + SECTION * len(sections) + ROW * rows + LEGEND


def timeline_svg(
    body: str,
    sections: Sequence[Section],
    axis: Axis,
    title: str,
    description: str,
    prefix: str,
    as_of: date | None = None,
) -> str:
    """A whole timeline document: the kept body, and the as-of line when a day is asked."""
    height = _height(sections)
    marker = _marker(axis, as_of, height) if as_of else ""
    return _document(title, description, prefix, height, body + marker)


def _document(title: str, description: str, prefix: str, height: int, content: str) -> str:
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{height}"'
        f' viewBox="0 0 {WIDTH} {height}" role="group"'
        f' aria-labelledby="{prefix}title {prefix}desc" font-family="sans-serif"'
        f' font-size="12" fill="{INK}">'
        f'<title id="{prefix}title">{escape(title)}</title>'
        f'<desc id="{prefix}desc">{escape(description)}</desc>'
        f'<rect width="{WIDTH}" height="{height}" fill="#ffffff"/>{content}</svg>'
    )


def _gradients(prefix: str) -> str:
    stops = []
    for kind, colour in COLOURS.items():
        for name, (a, b) in (("in", (0, 1)), ("out", (1, 0))):
            stops.append(
                f'<linearGradient id="{prefix}{name}-{kind}">'
                f'<stop offset="0" stop-color="{colour}" stop-opacity="{a}"/>'
                f'<stop offset="1" stop-color="{colour}" stop-opacity="{b}"/>'
                "</linearGradient>"
            )
    return f"<defs>{''.join(stops)}</defs>"


def _grid(axis: Axis, height: int) -> str:
    parts = []
    step = axis.step
    for year in range(axis.first.year + 1, axis.last.year + 1):
        if year % step:
            continue
        x = axis.x(date(year, 1, 1))
        parts.append(
            f'<line x1="{x:.1f}" y1="{HEAD - 8}" x2="{x:.1f}" y2="{height - LEGEND}"'
            f' stroke="{GRID}"/><text x="{x:.1f}" y="{HEAD - 14}" text-anchor="middle"'
            f' fill="{MUTED}">{year}</text>'
        )
    return "".join(parts)


def _row(p: Period, y: int, axis: Axis, today: date, prefix: str) -> str:
    top = y + (ROW - BAR) / 2
    label = p.label if len(p.label) <= 34 else p.label[:33] + "…"
    shapes = _bar(p, top, axis, today, prefix)
    return (
        f'<a href="{escape(p.href)}" class="period {p.kind}"><title>{escape(p.summary)}</title>'
        f'<text x="8" y="{y + 16}">{escape(label)}</text>{shapes}</a>'
    )


def _rect(a: float, b: float, top: float, fill: str, extra: str = "") -> str:
    return (
        f'<rect x="{a:.1f}" y="{top:.1f}" width="{max(b - a, 0.0):.1f}" height="{BAR}"'
        f' fill="{fill}"{extra}/>'
    )


def _bar(p: Period, top: float, axis: Axis, today: date, prefix: str) -> str:
    colour = COLOURS[p.kind]
    fade_in, fade_out = f"url(#{prefix}in-{p.kind})", f"url(#{prefix}out-{p.kind})"
    parts = []
    if p.since_lo is not None and p.since_hi is not None:
        a, start = axis.x(p.since_lo), axis.x(p.since_hi + DAY)
        if start - a > 1.5:  # a start known to a year or a month: spread over it
            parts.append(_rect(a, start, top, fade_in))
        else:
            start = a
    elif p.attested is not None:  # no start on record, but held on this day
        start = axis.x(p.attested)
        parts.append(_rect(axis.x(axis.first), start, top, fade_in, ' opacity="0.45"'))
    else:  # no day on record at all: a faint band across the whole axis
        start = axis.x(axis.first)
        parts.append(_rect(start, axis.x(today), top, colour, f' opacity="0.18" stroke="{colour}"'))
        return "".join(parts)
    now = axis.x(today)
    if p.until is None:  # no end on record: it runs to today, and on
        parts.append(_rect(start, now, top, colour) + _arrow(now, top, colour))
    elif p.until == "unknown" or p.until_lo is None or p.until_hi is None:
        parts.append(_rect(start, max(now, start + 24), top, fade_out))  # ended, day unknown
    else:
        end_lo, end = axis.x(p.until_lo), axis.x(p.until_hi + DAY)
        parts.append(_rect(start, end_lo, top, colour))
        if end - end_lo > 1.5:
            parts.append(_rect(end_lo, end, top, fade_out))
        parts.append(_end_cap(end, top))  # the end, closed
    if p.attested is not None:
        parts.append(_diamond(axis.x(p.attested), top + BAR / 2, INK, "#ffffff"))
    if p.corrected:
        parts.append(_diamond(start, top - 2, MARK, MARK, size=5))
    return "".join(parts)


def _diamond(x: float, y: float, stroke: str, fill: str, size: float = 4) -> str:
    return (
        f'<path d="M{x:.1f} {y - size:.1f}l{size} {size}l-{size} {size}l-{size} -{size}z"'
        f' fill="{fill}" stroke="{stroke}"/>'
    )


def _legend(y: int, prefix: str) -> str:
    colour = COLOURS["membership"]
    x = 8
    items = [
        (_rect(x, x + 30, y, f"url(#{prefix}in-membership)"), "start known to a year or month"),
        (_rect(x, x + 30, y, colour) + _end_cap(x + 30, y), "ended"),
        (_rect(x, x + 30, y, f"url(#{prefix}out-membership)"), "ended, date unknown"),
        (_rect(x, x + 30, y, colour) + _arrow(x + 30, y, colour), "no end on record"),
        (_diamond(x + 15, y + BAR / 2, INK, "#ffffff"), "held on this day"),
        (_diamond(x + 15, y + BAR / 2, MARK, MARK, size=5), "corrected"),
    ]
    parts = ['<g class="legend" aria-hidden="true">']
    for index, (shape, text) in enumerate(items):
        column, line = index % 3, index // 3
        parts.append(
            f'<g transform="translate({column * 300} {line * 22})">{shape}'
            f'<text x="{x + 44}" y="{y + 11}" fill="{MUTED}">{escape(text)}</text></g>'
        )
    parts.append("</g>")
    return "".join(parts)


def _end_cap(x: float, top: float) -> str:
    return f'<rect x="{x - 1:.1f}" y="{top - 3:.1f}" width="3" height="{BAR + 6}" fill="{INK}"/>'


def _arrow(x: float, top: float, colour: str) -> str:
    half = BAR / 2 + 2
    return f'<path d="M{x:.1f} {top - 2:.1f}l8 {half:.1f}l-8 {half:.1f}z" fill="{colour}"/>'


def _marker(axis: Axis, as_of: date, height: int) -> str:
    x = axis.x(as_of)
    return (
        f'<g class="as-of"><line x1="{x:.1f}" y1="{HEAD - 6}" x2="{x:.1f}"'
        f' y2="{height - LEGEND}" stroke="{MARK}" stroke-width="2" stroke-dasharray="4 3"/>'
        f'<text x="{x + 4:.1f}" y="{HEAD - 2}" fill="{MARK}">as of {as_of.isoformat()}</text></g>'
    )


@dataclass(frozen=True)
class YearCount:
    """How many members a network had in a year: surely, and perhaps (dates cannot tell)."""

    year: int
    certain: int
    possible: int


def members_chart(counts: Sequence[YearCount], title: str, prefix: str) -> str:
    """Columns per year: the members the record shows surely, and above them those it
    cannot rule in or out."""
    height, top, bottom = 270, 24, 50
    if not counts:
        return _document(title, "No members on record.", prefix, 60, "")
    peak = max(count.certain + count.possible for count in counts) or 1
    plot_height = height - top - bottom
    slot = (WIDTH - 60 - RIGHT) / len(counts)
    parts = [_chart_axis(peak, plot_height, top, height - bottom)]
    colour = COLOURS["member"]
    for index, count in enumerate(counts):
        x = 60 + index * slot + slot * 0.15
        width = slot * 0.7
        sure = plot_height * count.certain / peak
        maybe = plot_height * count.possible / peak
        base = height - bottom
        label = (
            f"{count.year}: {count.certain} certainly a member at some time in the year"
            f", {count.possible} more possibly"
        )
        parts.append(
            f'<g class="year"><title>{escape(label)}</title>'
            f'<rect x="{x:.1f}" y="{base - sure:.1f}" width="{width:.1f}" height="{sure:.1f}"'
            f' fill="{colour}"/>'
            f'<rect x="{x:.1f}" y="{base - sure - maybe:.1f}" width="{width:.1f}"'
            f' height="{maybe:.1f}" fill="#ffffff" stroke="{colour}" stroke-dasharray="3 2"/>'
        )
        if len(counts) <= 30 or count.year % 5 == 0:
            parts.append(
                f'<text x="{x + width / 2:.1f}" y="{base + 16}" text-anchor="middle"'
                f' fill="{MUTED}" font-size="11">{count.year}</text>'
            )
        parts.append("</g>")
    parts.append(
        f'<g aria-hidden="true"><rect x="60" y="{height - 14}" width="12" height="10"'
        f' fill="{colour}"/><text x="78" y="{height - 5}" fill="{MUTED}">certainly members'
        f'</text><rect x="220" y="{height - 14}" width="12" height="10" fill="#ffffff"'
        f' stroke="{colour}" stroke-dasharray="3 2"/><text x="238" y="{height - 5}"'
        f' fill="{MUTED}">possibly members (their dates cannot tell)</text></g>'
    )
    total = counts[-1].certain
    description = (
        f"Members per year from {counts[0].year} to {counts[-1].year}: solid, those the"
        f" record shows were members at some time in the year; dashed above, those whose dates"
        f" cannot tell. {total} certain in {counts[-1].year}."
    )
    return _document(title, description, prefix, height, "".join(parts))


def _chart_axis(peak: int, plot_height: float, top: int, base: int) -> str:
    parts = []
    step = max(1, round(peak / 5))
    for value in range(0, peak + 1, step):
        y = base - plot_height * value / peak
        parts.append(
            f'<line x1="56" y1="{y:.1f}" x2="{WIDTH - RIGHT}" y2="{y:.1f}" stroke="{GRID}"/>'
            f'<text x="50" y="{y + 4:.1f}" text-anchor="end" fill="{MUTED}">{value}</text>'
        )
    return "".join(parts)
