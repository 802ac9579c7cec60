"""Saving the Out of office page on a running service: the next text is answered with the new
message at once (the save reloads the rules the pipeline and the outbox read, even when the
watcher's own look at the file is an hour away), and "Turn off now" stops the replies."""

from __future__ import annotations

import dataclasses
import re

import httpx
from e2e_kit import ALEX, CHARLIE, DANA, Harness, replies, rules_toml

PASSWORD = "an admin password"
NEW = "Auto-reply: Hi {first_name}, I'm at a conference until {return_date}."


def field(page: str, name: str) -> str:
    found = re.search(rf'name="{name}" value="([^"]*)"', page)
    assert found, page
    return found.group(1)


async def sign_in(http: httpx.AsyncClient) -> None:
    form = await http.get("/signin")
    answer = await http.post("/signin", data={"csrf": field(form.text, "csrf"), "password": PASSWORD})
    assert answer.status_code == 303, answer.text


async def test_a_saved_message_answers_the_next_text_without_waiting_for_the_watcher(e2e: Harness) -> None:
    e2e.tuning = dataclasses.replace(e2e.tuning, rules_check_interval=3600.0)  # the watcher sleeps
    async with (
        e2e.running(rules_toml(), RCINBOX_ADMIN_PASSWORD=PASSWORD) as live,
        httpx.AsyncClient(base_url=live.service.http.url, timeout=10) as http,
    ):
        await sign_in(http)
        page = (await http.get("/out-of-office")).text
        form = {"csrf": field(page, "csrf"), "digest": field(page, "digest"), "action": "save"}
        form |= {"enabled": "on", "start": "2026-12-20T00:00", "end": "2027-01-04T08:00"}
        form |= {"timezone": "America/New_York", "message": NEW, "audience": "contacts", "repeat_after": "7d"}
        saved = await http.post("/out-of-office", data=form)
        assert (saved.status_code, saved.headers["location"]) == (303, "/out-of-office?saved=1")
        assert live.service.pipeline.rules().vacation.message == NEW  # what decide reads
        assert live.service.outbox.rules is not None and live.service.outbox.rules().vacation.message == NEW
        outcome = await live.outcome(await live.text("Are you in?", sender=CHARLIE))
        assert outcome.reason == "replied"
        assert await replies(e2e.http, CHARLIE) == [
            (ALEX, "Auto-reply: Hi Charlie, I'm at a conference until Monday, January 4.")
        ]
        status = (await http.get("/status")).text
        off = await http.post("/vacation/off", data={"csrf": field(status, "csrf")})
        assert off.headers["location"] == "/status?off=done"
        assert "Vacation reply is OFF" in (await http.get("/status?off=done")).text
        later = await live.outcome(await live.text("Hello?", sender=DANA))
    assert later.reason == "vacation-off"
    assert await replies(e2e.http, DANA) == []
