"""The record browser: read-only pages at /, each a GraphQL question to the API's schema,
and the drawings as standalone SVG at stable addresses."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, date, datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response
from starlette.routing import BaseRoute, Route
from strawberry.schema.base import BaseSchema

from domain.vocabulary import ObjectKind
from events.dates import PartialDate
from events.faults import database_unavailable
from schema.access import Principal
from service.auth import BadToken, principal_for
from service.browser import documents
from service.browser.graphiql import STATIC
from service.browser.keeping import Kept
from service.browser.origins import Facts, add_origins
from service.browser.reading import Moment, Reader, ReadRefused
from service.browser.templating import templates
from service.browser.timelines import Timelines
from service.services import Services
from service.settings import Settings

SVG = "image/svg+xml"
# The pages load nothing but Coop's own files, and the browser is told to hold them to it.
POLICY = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
    " form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
PAGES_KEPT = 64  # partner pages kept (one with 100 memberships is about 90 kB)
UNAVAILABLE = "The record's database cannot answer just now. Try again in a moment."
Page = Callable[[Request, Principal, Moment], Awaitable[Response]]
# The kind of object each relation of a partner's page lists.
ORIGIN_KINDS = {
    "memberships": ObjectKind.MEMBERSHIP,
    "roles": ObjectKind.ROLE,
    "members": ObjectKind.MEMBERSHIP,
    "officeholders": ObjectKind.ROLE,
    "programs": ObjectKind.PROGRAM,
    "activities": ObjectKind.ACTIVITY,
    "commitments": ObjectKind.COMMITMENT,
}


class Browser:
    """The pages and drawings of one application."""

    def __init__(
        self, settings: Settings, services: Services, schema: BaseSchema, retry_after: int = 1
    ) -> None:
        self.settings = settings
        self.retry_after = retry_after
        self.services = services
        self.reader = Reader(services, schema)
        self.timelines = Timelines(services)
        self.pages: Kept[str] = Kept(PAGES_KEPT)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self._page(self.home)),
            Route("/partners/{key}", self._page(self.partner)),
            Route("/partners/{key}/{relation}", self._page(self.relation)),
            Route("/programs/{key}", self._page(self.program)),
            Route("/activities/{key}", self._page(self.activity)),
            Route("/commitments/{key}", self._page(self.commitment)),
            Route("/timeline/{key}.svg", self._page(self.timeline_svg)),
            Route("/members/{key}.svg", self._page(self.members_svg)),
            Route("/sources", self._page(self.sources)),
            Route("/events/{position:int}", self._page(self.event)),
            Route("/favicon.ico", icon),
        ]

    def _page(self, page: Page) -> Callable[[Request], Awaitable[Response]]:
        """A page with the caller and the moment read from the request, and a refusal shown
        as a page that says what was wrong."""

        async def serve(request: Request) -> Response:
            try:
                principal = self._principal(request)
                moment = Moment.from_query(request.query_params)
                return await page(request, principal, moment)
            except ReadRefused as refused:
                return self._refusal(request, refused)
            except Exception as error:
                if not database_unavailable(error):
                    raise
                return self._refusal(request, ReadRefused(UNAVAILABLE, 503))

        return serve

    def _refusal(self, request: Request, refused: ReadRefused) -> HTMLResponse:
        return self._render(
            "error.html", request, Moment(), status=refused.status, message=refused.message
        )

    def _principal(self, request: Request) -> Principal:
        settings = self.settings
        try:
            principal = principal_for(settings, request.headers.get("authorization"))
        except BadToken as error:
            raise ReadRefused(str(error), 401) from None
        if settings.require_auth_for_reads and not principal.authenticated:
            raise ReadRefused("this service requires a bearer token for every request", 401)
        return principal

    def _html(self, template: str, request: Request, moment: Moment, **values: Any) -> str:
        return (
            templates()
            .get_template(template)
            .render(request=request, moment=moment, path=request.url.path, **values)
        )

    def _respond(self, html: str, status: int = 200) -> HTMLResponse:
        headers = {"content-security-policy": POLICY}
        if status == 401:
            headers["www-authenticate"] = "Bearer"
        if status == 503:
            headers["retry-after"] = str(self.retry_after)
        return HTMLResponse(html, status_code=status, headers=headers)

    def _render(
        self, template: str, request: Request, moment: Moment, status: int = 200, **values: Any
    ) -> HTMLResponse:
        return self._respond(self._html(template, request, moment, **values), status)

    async def _where(self, moment: Moment) -> tuple[int, int]:
        """The moment's record position (one for the whole page, its drawings included) and
        the log's head."""
        head = await self.timelines.head()
        return await self.timelines.position(moment, head), head

    async def _read(
        self, document: str, variables: dict[str, Any], principal: Principal, moment: Moment
    ) -> tuple[dict[str, Any], int, int]:
        """The answer to `document` at the moment's record position, that position and the
        log's head."""
        position, head = await self._where(moment)
        return await self._ask(document, variables, principal, moment, position), position, head

    async def _ask(
        self,
        document: str,
        variables: dict[str, Any],
        principal: Principal,
        moment: Moment,
        position: int,
    ) -> dict[str, Any]:
        given = {
            "asOf": moment.variables["asOf"],
            "atPosition": position,
            "first": self.settings.max_page_size,  # facts of one kind shown at once
            **variables,
        }
        return await self.reader.read(document, given, principal)

    async def home(self, request: Request, principal: Principal, moment: Moment) -> Response:
        search = request.query_params.get("q", "").strip() or None
        after = request.query_params.get("after") or None
        variables = {"search": search, "after": after}
        data, position, head = await self._read(documents.HOME, variables, principal, moment)
        return self._render(
            "home.html",
            request,
            moment,
            partners=data["partners"],
            programs=data["programs"],
            activities=data["activities"],
            search=search or "",
            position=position,
            head=head,
        )

    async def partner(self, request: Request, principal: Principal, moment: Moment) -> Response:
        """A partner's page, kept by the record position it was made on (with the day, for
        the timeline's "today"): until the log moves on, it is sent again as it was."""
        key = request.path_params["key"]
        position, head = await self._where(moment)
        today = _today()
        kept = (key, moment, position, head, today)
        html = self.pages.get(kept)
        if html is None:
            made = await self._partner(request, principal, moment, key, position, head, today)
            html = self.pages.put(kept, made)
        return self._respond(html)

    async def _partner(
        self,
        request: Request,
        principal: Principal,
        moment: Moment,
        key: str,
        position: int,
        head: int,
        today: date,
    ) -> str:
        partner = await self._partner_facts(principal, moment, key, position)
        timeline = await self.timelines.timeline(key, position, moment.as_of, today)
        chart = None
        if partner["members"]["totalCount"]:
            chart = await self.timelines.chart(key, position, today)
        return self._html(
            "partner.html",
            request,
            moment,
            partner=partner,
            position=position,
            head=head,
            timeline=timeline,
            chart=chart,
            relations=list(documents.RELATIONS),
        )

    async def _partner_facts(
        self, principal: Principal, moment: Moment, key: str, position: int
    ) -> dict[str, Any]:
        """What a partner's page shows: the answer to documents.PARTNER, asked in parts so
        that much of it is one compiled statement and the origins of its facts one read."""
        data = await self._ask(documents.PARTNER_PAGE, {"key": key}, principal, moment, position)
        if data["facts"] is None or data["more"] is None:
            raise ReadRefused(f"no partner {key!r} is on record at position {position}", 404)
        partner: dict[str, Any] = {**data["facts"], **data["more"]}
        groups = [Facts(ObjectKind.PARTNER, "key", [partner])]
        groups += [
            Facts(ORIGIN_KINDS[name], key_field, partner[name]["nodes"])
            for name, key_field in documents.APART.items()
        ]
        await add_origins(self.services.engine, groups, position, self.settings.max_page_size)
        return partner

    async def _relation_facts(
        self,
        principal: Principal,
        moment: Moment,
        key: str,
        name: str,
        after: str | None,
        position: int,
    ) -> dict[str, Any]:
        """The answer to documents.RELATION[name], with the origins of its facts read at once."""
        variables = {"key": key, "after": after}
        document = documents.RELATION_PAGE[name]
        partner = (await self._ask(document, variables, principal, moment, position))["partner"]
        if partner is None:
            raise ReadRefused(f"no partner {key!r} is on record at position {position}", 404)
        if name in documents.APART:
            facts = Facts(ORIGIN_KINDS[name], documents.APART[name], partner[name]["nodes"])
            await add_origins(self.services.engine, [facts], position, self.settings.max_page_size)
        return dict(partner)

    async def relation(self, request: Request, principal: Principal, moment: Moment) -> Response:
        """One kind of a partner's facts, a page at a time, for those too many for its page."""
        key, name = request.path_params["key"], request.path_params["relation"]
        if name not in documents.RELATIONS:
            raise ReadRefused(f"a partner's page has no list called {name!r}", 404)
        after = request.query_params.get("after") or None
        position, head = await self._where(moment)
        partner = await self._relation_facts(principal, moment, key, name, after, position)
        return self._render(
            "relation.html",
            request,
            moment,
            partner=partner,
            name=name,
            after=after,
            position=position,
            head=head,
        )

    async def program(self, request: Request, principal: Principal, moment: Moment) -> Response:
        return await self._one(request, principal, moment, "program", documents.PROGRAM)

    async def commitment(self, request: Request, principal: Principal, moment: Moment) -> Response:
        return await self._one(request, principal, moment, "commitment", documents.COMMITMENT)

    async def activity(self, request: Request, principal: Principal, moment: Moment) -> Response:
        """An activity, and, on a day asked, whether it had taken place by then."""
        return await self._one(request, principal, moment, "activity", documents.ACTIVITY)

    async def _one(
        self, request: Request, principal: Principal, moment: Moment, name: str, document: str
    ) -> Response:
        """The page of one program, activity or commitment. Asked for a day it did not hold,
        the page shows it as on record (its dates say when it held) and says so."""
        key = request.path_params["key"]
        data, position, head = await self._read(document, {"key": key}, principal, moment)
        found, held = data[name], True
        if found is None and moment.as_of is not None:
            on_record = await self._ask(
                document, {"key": key, "asOf": None}, principal, moment, position
            )
            found, held = on_record[name], False
        if found is None:
            raise ReadRefused(f"no {name} {key!r} is on record at position {position}", 404)
        return self._render(
            f"{name}.html",
            request,
            moment,
            item=found,
            held=held,
            taken_place=_taken_place(found.get("on"), moment.as_of),
            position=position,
            head=head,
        )

    async def timeline_svg(
        self, request: Request, principal: Principal, moment: Moment
    ) -> Response:
        position = await self.timelines.position(moment)
        key = request.path_params["key"]
        svg = await self.timelines.timeline(key, position, moment.as_of, _today())
        return Response(svg, media_type=SVG, headers=_drawing_headers(moment))

    async def members_svg(self, request: Request, principal: Principal, moment: Moment) -> Response:
        position = await self.timelines.position(moment)
        chart = await self.timelines.chart(request.path_params["key"], position, _today())
        return Response(chart.svg, media_type=SVG, headers=_drawing_headers(moment))

    async def sources(self, request: Request, principal: Principal, moment: Moment) -> Response:
        position = await self.timelines.position(moment)
        variables = {"atPosition": position, "first": self.settings.max_page_size}
        data = await self.reader.read(documents.SOURCES, variables, principal)
        return self._render(
            "sources.html", request, moment, sources=data["sources"]["nodes"], position=position
        )

    async def event(self, request: Request, principal: Principal, moment: Moment) -> Response:
        wanted = request.path_params["position"]
        data = await self.reader.read(documents.EVENT, {"after": wanted - 1}, principal)
        found = [event for event in data["events"]["nodes"] if event["position"] == wanted]
        if not found:
            raise ReadRefused(f"there is no event at log position {wanted}", 404)
        return self._render("event.html", request, moment, event=found[0])


async def icon(_request: Request) -> Response:
    """What a browser asks for beside any page, the standalone drawings included."""
    return FileResponse(STATIC / "browser" / "icon.svg", media_type=SVG)


def _taken_place(on: str | None, as_of: date | None) -> bool | None:
    """Had something dated `on` taken place by the day `as_of`? None: no day asked, or the
    dates cannot tell."""
    if as_of is None or on is None:
        return None
    return PartialDate.parse(on).on_or_before(as_of)


def _today() -> date:
    return datetime.now(UTC).date()


def _drawing_headers(moment: Moment) -> dict[str, str]:
    """A drawing at a given log position never changes (until the day moves on); one of the
    record now may."""
    cache = "public, max-age=3600" if moment.at_position is not None else "no-cache"
    return {"cache-control": cache, "content-security-policy": POLICY}
