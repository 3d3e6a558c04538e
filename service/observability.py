"""Metrics for Prometheus, a request id on every log line, and logs as JSON."""

from __future__ import annotations

import contextvars
import logging
import time
import uuid
from typing import TYPE_CHECKING, Any, TextIO

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from pythonjsonlogger.json import JsonFormatter
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from service.redaction import redacted

if TYPE_CHECKING:
    from service.fanout import Fanout

request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)


class Metrics:
    """One registry per application, so several apps in one process never share counts."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.requests = Counter(
            "coop_http_requests", "HTTP requests answered", ["method", "path", "status"], registry=r
        )
        self.latency = Histogram(
            "coop_http_request_seconds", "Time to answer an HTTP request", ["path"], registry=r
        )
        self.appends = Counter("coop_appended_events", "Events appended to the log", registry=r)
        self.connections = Gauge(
            "coop_websocket_connections", "Open graphql-transport-ws connections", registry=r
        )
        self.subscriptions = Gauge(
            "coop_open_subscriptions", "Subscriptions open over WebSocket", registry=r
        )
        self.delivery = Histogram(
            "coop_delivery_lag_seconds",
            "From an event's record time to its answer's sending, live (the group's answer)"
            " or catch_up (a subscriber replaying from its `after`)",
            ["phase"],
            buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30),
            registry=r,
        )
        self.database_up = Gauge(
            "coop_database_up", "1 when the database answered the last check, else 0", registry=r
        )
        self.listening = Gauge(
            "coop_feed_listening",
            "0 while the connection that hears other instances' appends is being made again",
            registry=r,
        )
        self.listen_reconnections = Gauge(
            "coop_feed_listen_reconnections",
            "Times that connection was lost and made again since start",
            registry=r,
        )
        self.moved_to_catch_up = Counter(
            "coop_subscribers_moved_to_catch_up",
            "Subscribers whose queue filled, moved to catch up from the log and rejoin",
            registry=r,
        )
        self.written_directly = Counter(
            "coop_answers_written_directly",
            "Answers a group wrote straight onto a subscriber's socket, not through its queue",
            registry=r,
        )
        self.groups = Gauge(
            "coop_subscription_groups", "Groups of subscribers sharing one execution", registry=r
        )
        self.grouped = Gauge(
            "coop_grouped_subscribers", "Subscribers taking a group's answers", registry=r
        )
        self.largest_group = Gauge(
            "coop_largest_subscription_group", "Subscribers in the largest group", registry=r
        )
        self.queued = Gauge(
            "coop_subscriber_queued_answers", "Answers queued for subscribers' sockets", registry=r
        )
        self.deepest_queue = Gauge(
            "coop_subscriber_deepest_queue", "Answers queued for the slowest socket", registry=r
        )
        self.projection_lag = Gauge(
            "coop_projection_lag_events",
            "Events a projection is behind the log head",
            ["projection"],
            registry=r,
        )

    def watch_fanout(self, fanout: Fanout) -> None:
        """Read the groups' figures from `fanout` at each scrape."""
        groups = fanout.groups.values
        self.subscriptions.set_function(lambda: len(fanout.members))
        self.groups.set_function(lambda: len(fanout.groups))
        self.grouped.set_function(lambda: sum(len(g.members) for g in groups()))
        self.largest_group.set_function(lambda: max((len(g.members) for g in groups()), default=0))
        self.queued.set_function(lambda: sum(len(m.queue) for m in fanout.members))
        self.deepest_queue.set_function(
            lambda: max((len(m.queue) for m in fanout.members), default=0)
        )


def observe_many(histogram: Any, amount: float, count: int) -> None:
    """`count` observations of `amount` at once, as `count` calls of `observe` would make
    them (prometheus_client 0.26's histogram child): a round of answers is written to
    thousands of sockets within a millisecond, and one call each would cost more than the
    writes."""
    if count <= 0:
        return
    histogram._sum.inc(amount * count)
    for i, bound in enumerate(histogram._upper_bounds):
        if amount <= bound:
            histogram._buckets[i].inc(count)
            break


SERVER_SEND = "coop.server_send"


class RequestContext:
    """ASGI middleware: a request id (taken from X-Request-ID or made), echoed in the response
    and on every log line; request counts and latencies for HTTP."""

    def __init__(self, app: ASGIApp, metrics: Metrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] not in ("http", "websocket"):
            await self.app(scope, receive, send)
            return
        given = dict(scope.get("headers", [])).get(b"x-request-id", b"").decode()[:100]
        rid = given or uuid.uuid4().hex
        token = request_id.set(rid)
        started, status = time.perf_counter(), 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        http = scope["type"] == "http"
        if not http:  # the server's own `send`, under Starlette's wrappers (service/websocket.py)
            scope[SERVER_SEND] = send
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            if http:
                path = scope["path"] if scope["path"] in KNOWN_PATHS else "other"
                self.metrics.requests.labels(scope["method"], path, str(status)).inc()
                self.metrics.latency.labels(path).observe(time.perf_counter() - started)
            request_id.reset(token)


KNOWN_PATHS = frozenset({"/graphql", "/healthz", "/readyz", "/metrics"})


class _WithRequestId(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class _RedactingJsonFormatter(JsonFormatter):
    """JSON lines with the password of any URL in them (a message, a traceback) hidden."""

    def format(self, record: logging.LogRecord) -> str:
        return redacted(super().format(record))


def configure_logging(level: int = logging.INFO, stream: TextIO | None = None) -> None:
    """JSON lines on stderr (or `stream`), each with the request id it was written under, no
    password."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(
        _RedactingJsonFormatter("%(asctime)s %(levelname)s %(name)s %(message)s %(request_id)s")
    )
    handler.addFilter(_WithRequestId())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def log_config() -> dict[str, Any]:
    """A uvicorn log_config that routes its loggers through the same JSON handler."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "loggers": {
            name: {"handlers": [], "propagate": True}
            for name in ("uvicorn", "uvicorn.access", "uvicorn.error")
        },
    }
