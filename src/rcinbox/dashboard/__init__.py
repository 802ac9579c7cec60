"""The owner's web dashboard, on the service's own HTTP server (README, "Dashboard").

A layer between the service and the rooms: the service builds it with :func:`open_dashboard` and
mounts :meth:`Dashboard.routes`; the dashboard never imports the service: it gets what it shows
(a status snapshot callable, the activity publisher the pipeline feeds, the store's kv table).

  auth.py         signed session cookies, CSRF tokens, the sign-in rate limit
  credentials.py  the admin password's hash and the session key, kept in the kv table
  live.py         Activity and the Publisher behind ``/events`` (server-sent events)
  status.py       StatusSnapshot: the status page's one typed snapshot
  pages.py        the routes; templates/ (Jinja2) and static/ (CSS, a little JS)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rcinbox.clock import SYSTEM, Clock
from rcinbox.dashboard.credentials import KeyValue
from rcinbox.dashboard.live import Activity, Publisher
from rcinbox.passwords import PasswordHash

if TYPE_CHECKING:  # the pages (Jinja2, Starlette) load only when a service opens a dashboard
    from rcinbox.dashboard.pages import Dashboard, Snapshot

__all__ = ["Activity", "Publisher", "open_dashboard"]


async def open_dashboard(
    kv: KeyValue,
    configured: PasswordHash | None,
    extensions: Sequence[str],
    snapshot: Snapshot,
    publisher: Publisher,
    *,
    announce: Callable[[str], None],
    clock: Clock = SYSTEM,
) -> Dashboard:
    """The dashboard, its password and session key loaded (or created: see credentials.py)."""
    from rcinbox.dashboard.auth import Sessions, SignInLimiter
    from rcinbox.dashboard.credentials import load_credentials
    from rcinbox.dashboard.pages import Dashboard

    credentials = await load_credentials(kv, configured, announce)
    sessions = Sessions(credentials.session_key, credentials.password, clock, credentials.signed_out)
    limiter = SignInLimiter(clock)
    return Dashboard(
        snapshot,
        tuple(extensions),
        sessions,
        credentials.password,
        publisher,
        kv,
        limiter,
        credentials.source,
    )
