"""``/metrics`` of a running service, scraped over HTTP and read with Prometheus's own text parser:
a text and its reply move the counters (received by transport, the decision's reason, the reply
sent, the WebHook's answer time), the transport is up and the outbox empty; it is closed without
a sign-in or the admin password (and open with ``RCINBOX_METRICS_PUBLIC=true``); it shows no
secret."""

from __future__ import annotations

import base64
import re

import httpx
import pytest
from e2e_kit import ALEX, CHARLIE, Harness, TransportName
from prometheus_client.parser import text_string_to_metric_families

PASSWORD = "metrics-admin-pw-9"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def basic(password: str, user: str = "prometheus") -> dict[str, str]:
    return {"Authorization": "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()}


def parse(text: str) -> Samples:
    """Every sample of the exposition, keyed by its name and labels."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


async def scrape(port: int, **headers: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=10) as http:
        return await http.get("/metrics", headers=headers)


async def test_a_text_and_its_reply_move_the_counters(e2e: Harness, transport: TransportName) -> None:
    async with e2e.running(RCINBOX_ADMIN_PASSWORD=PASSWORD) as live:
        first = await scrape(e2e.port, **basic(PASSWORD))
        assert first.status_code == 200, first.text
        assert first.headers["content-type"].startswith("text/plain; version=0.0.4")
        before = parse(first.text)
        outcome = await live.outcome(await live.text("Are you in today?", sender=CHARLIE, to=ALEX))
        assert (outcome.action, outcome.reason) == ("reply", "replied")
        after_response = await scrape(e2e.port, **basic(PASSWORD))
        after = parse(after_response.text)
        world = live.emu.world
        secrets = [
            PASSWORD,
            world.app.client_secret,
            world.extensions[0].jwt,
            *(s.access_token for s in world.sessions.values()),
            *(s.refresh_token for s in world.sessions.values()),
        ]

    def moved(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    assert moved("rcinbox_messages_received_total", transport=transport) == 1
    assert moved("rcinbox_messages_received_total", transport="sync") == 0
    assert moved("rcinbox_decisions_total", action="reply", reason="replied") == 1
    assert moved("rcinbox_replies_total", kind="reply", outcome="sent", cause="sent") == 1
    assert moved("rcinbox_replies_total", kind="reply", outcome="failed", cause="refused") == 0
    assert not [key for key in after if key[0].endswith("_created")]  # no series beside each counter
    answers = moved("rcinbox_webhook_answer_seconds_count", code="200")
    assert answers == (1 if transport == "webhook" else 0)
    assert value(after, "rcinbox_transport_up", transport=transport) == 1
    assert value(after, "rcinbox_outbox_depth", kind="reply") == 0
    assert value(after, "rcinbox_outbox_oldest_age_seconds", kind="reply") == 0
    assert value(after, "rcinbox_token_renewals_total", how="login", outcome="ok") == 1
    assert sum(v for (name, _), v in after.items() if name == "rcinbox_catchup_runs_total") >= 1
    assert value(after, "rcinbox_info", version=_version()) == 1
    assert [s for s in secrets if s in after_response.text] == []


@pytest.mark.parametrize("transport", ["websocket"])
async def test_metrics_are_closed_to_strangers_and_open_to_the_owner(e2e: Harness) -> None:
    async with e2e.running(RCINBOX_ADMIN_PASSWORD=PASSWORD):
        stranger = await scrape(e2e.port)
        assert stranger.status_code == 401
        assert stranger.headers["www-authenticate"].startswith("Basic ")
        assert "rcinbox_" not in stranger.text
        assert (await scrape(e2e.port, **basic("not-the-password"))).status_code == 401
        assert (await scrape(e2e.port, Authorization="Bearer not-the-password")).status_code == 401
        assert (await scrape(e2e.port, Authorization=f"Bearer {PASSWORD}")).status_code == 200
        assert (await scrape(e2e.port, **basic(PASSWORD, user="admin"))).status_code == 200
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{e2e.port}", timeout=10) as http:
            form = await http.get("/signin")
            csrf = re.search(r'name="csrf" value="([^"]+)"', form.text)
            assert csrf is not None
            signed_in = await http.post("/signin", data={"csrf": csrf.group(1), "password": PASSWORD})
            assert signed_in.status_code == 303
            page = await http.get("/metrics")  # the dashboard's session cookie
            assert page.status_code == 200
            assert "rcinbox_messages_received_total" in page.text


@pytest.mark.parametrize("transport", ["websocket"])
async def test_wrong_passwords_at_metrics_count_against_the_sign_in_limit(e2e: Harness) -> None:
    async with e2e.running(RCINBOX_ADMIN_PASSWORD=PASSWORD):
        answers = [(await scrape(e2e.port, **basic(f"guess-{n}"))).status_code for n in range(6)]
        right = await scrape(e2e.port, **basic(PASSWORD))
    assert answers == [401] * 5 + [429]
    assert right.status_code == 429  # paused for the address, whatever the password
    assert int(right.headers["retry-after"]) > 0


@pytest.mark.parametrize("transport", ["websocket"])
async def test_metrics_public_serves_them_without_a_sign_in(e2e: Harness) -> None:
    async with e2e.running(RCINBOX_ADMIN_PASSWORD=PASSWORD, RCINBOX_METRICS_PUBLIC="true"):
        response = await scrape(e2e.port)
    assert response.status_code == 200
    samples = parse(response.text)
    assert value(samples, "rcinbox_transport_up", transport="websocket") == 1
    assert PASSWORD not in response.text


def _version() -> str:
    from rcinbox import __version__

    return __version__
