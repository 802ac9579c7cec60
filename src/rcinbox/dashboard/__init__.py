"""The owner's web dashboard, on the service's own HTTP server (README, "Dashboard").

A layer between the service and the rooms: the service loads its credentials at start
(:func:`load_credentials`), builds it with :func:`dashboard_for` and mounts its routes; the
dashboard never imports the service: it gets what it shows (a status snapshot callable, the
activity publisher the pipeline feeds, the store's kv table).

  auth.py         signed session cookies, CSRF tokens, the sign-in rate limit
  credentials.py  the admin password's hash and the session key, kept in the kv table
  live.py         Activity and the Publisher behind ``/events`` (server-sent events)
  status.py       StatusSnapshot: the status page's one typed snapshot
  pages.py        the routes; templates/ (Jinja2) and static/ (CSS, a little JS)
  archive.py      the conversations, threads, search and opt-outs
  outofoffice.py  the Out of office editor and "Turn off now" (outofoffice_state.py,
                  outofoffice_form.py, rules_file.py: the safe write; preview.py: the preview)
  scrape.py       ``/metrics``, closed like the pages (or the admin password as Basic/bearer)
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from rcinbox.clock import SYSTEM, Clock
from rcinbox.dashboard.credentials import Credentials, KeyValue
from rcinbox.dashboard.live import Activity, Publisher
from rcinbox.passwords import PasswordHash

if TYPE_CHECKING:  # the pages (Jinja2, Starlette) load only when a service opens a dashboard
    from rcinbox.dashboard.pages import Dashboard, Snapshot

__all__ = ["Activity", "Credentials", "Publisher", "dashboard_for", "load_credentials"]


async def load_credentials(
    kv: KeyValue, configured: PasswordHash | None, announce: Callable[[str], None]
) -> Credentials:
    """The admin password's hash and the session key (see credentials.py): at start, before the
    platform login, so a generated password is shown first and no time passes between the login
    and the transport's first requests."""
    from rcinbox.dashboard.credentials import load_credentials as load

    return await load(kv, configured, announce)


def dashboard_for(
    credentials: Credentials,
    kv: KeyValue,
    extensions: Sequence[str],
    snapshot: Snapshot,
    publisher: Publisher,
    *,
    clock: Clock = SYSTEM,
) -> Dashboard:
    """The dashboard's pages, signing in with ``credentials``."""
    from rcinbox.dashboard.auth import Sessions, SignInLimiter
    from rcinbox.dashboard.pages import Dashboard

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
