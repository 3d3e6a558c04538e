"""Operations routes: /healthz, /readyz, /metrics."""

from __future__ import annotations

import pytest

from tests.acceptance.support import Coop, Subscriber

pytestmark = pytest.mark.asyncio(loop_scope="module")


@pytest.fixture
def coop(shared: Coop) -> Coop:
    """This module only reads: its tests share one seeded service."""
    return shared


async def test_healthz_and_readyz(coop: Coop) -> None:
    health = await coop.http.get("/healthz")
    assert health.status_code == 200
    ready = await coop.http.get("/readyz")
    assert ready.status_code == 200, ready.text


async def test_metrics_in_prometheus_text(coop: Coop) -> None:
    await coop.data('{ partner(key: "tokyo") { key } }')
    async with Subscriber.connect(coop.base_url) as client:
        await client.subscribe("subscription { events { position } }")
        await client.nothing_within(0.2)
        response = await coop.http.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    text = response.text
    assert "# TYPE" in text
    assert "# HELP" in text
    names = [line.split()[2] for line in text.splitlines() if line.startswith("# TYPE")]
    lowered = " ".join(names).lower()
    for topic in ("request", "append", "lag", "subscri"):
        assert topic in lowered, (topic, names)
    # at least one latency histogram and a non-zero request counter
    assert any(
        line.split()[3] in ("histogram", "summary")
        for line in text.splitlines()
        if line.startswith("# TYPE")
    ), names
    samples = [line for line in text.splitlines() if line and not line.startswith("#")]
    assert any(
        "request" in s.split("{")[0].split()[0].lower() and float(s.split()[-1]) > 0
        for s in samples
    ), samples[:20]
