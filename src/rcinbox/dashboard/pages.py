"""The dashboard's routes: sign-in and sign-out, the status page, the live ``/events`` stream and
the static files. Every page but the sign-in form needs a signed-in session; every POST form
carries the session's CSRF token; every answer forbids framing and caching."""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import jinja2
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response, StreamingResponse
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles
from starlette.templating import Jinja2Templates

from rcinbox.dashboard.auth import COOKIE, Session, Sessions, SignInLimiter
from rcinbox.dashboard.credentials import KeyValue, sign_out, signed_out_now
from rcinbox.dashboard.live import Publisher, TooManySubscribers, stream
from rcinbox.dashboard.status import StatusSnapshot
from rcinbox.dashboard.views import ago, reason_words, span, when
from rcinbox.errors import RcinboxError
from rcinbox.passwords import PasswordHash

HERE = Path(__file__).parent
PRODUCT = "rcinbox"
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}
log = logging.getLogger("rcinbox.dashboard")
Snapshot = Callable[[str | None], Awaitable[StatusSnapshot]]  # the status of one extension (None: all)


@dataclass
class Dashboard:
    snapshot: Snapshot
    extensions: Sequence[str]
    sessions: Sessions
    password: PasswordHash
    publisher: Publisher
    kv: KeyValue
    limiter: SignInLimiter
    password_source: str = "environment"  # "environment", "stored" or "generated" (credentials.py)

    def __post_init__(self) -> None:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(HERE / "templates"),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
        )
        env.globals.update(product=PRODUCT, when=when, ago=ago, span=span, reason_words=reason_words)
        env.filters["codepoint"] = lambda char: f"U+{ord(char):04X}"
        self.templates = Jinja2Templates(env=env)

    async def follow_sign_outs(self, stop: asyncio.Event, every: float = 2.0) -> None:
        """Replicas: take up every ``every`` seconds the sessions other replicas signed out (a
        session signed out on one is refused by all within that time)."""
        while not await self.sessions.clock.wait(stop, at_most=every):
            try:
                await self.take_up_sign_outs()
            except RcinboxError as exc:  # the database is away: keep the list we have
                log.warning("could not read the dashboard's sign-outs: %s", exc)

    async def take_up_sign_outs(self) -> None:
        self.sessions.revoked = await signed_out_now(self.kv)  # ours are recorded there too

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/", self.status, methods=["GET"]),
            Route("/status", self.status, methods=["GET"]),
            Route("/signin", self.signin_form, methods=["GET"]),
            Route("/signin", self.signin, methods=["POST"]),
            Route("/signout", self.signout, methods=["POST"]),
            Route("/events", self.events, methods=["GET"]),
            Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
        ]

    # -- pages -----------------------------------------------------------------------------------

    async def status(self, request: Request) -> Response:
        session = self._session(request)
        if session is None or not session.signed_in:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return self._redirect(f"/signin?next={quote(target, safe='')}", request, session)
        chosen = request.query_params.get("ext")
        ext = chosen if chosen in self.extensions else None
        snap = await self.snapshot(ext)
        context: dict[str, Any] = {"snap": snap, "ext": ext, "extensions": self.extensions, "page": "status"}
        context["off"] = request.query_params.get("off")  # "Turn off now" (outofoffice.py): done or failed
        context["recent"] = [
            a for a in reversed(self.publisher.recent) if ext is None or a.extension_id == ext
        ]
        today = request.query_params.get("fragment") == "today"  # the live page's "Today" card
        return self._page(request, session, "status_today.html" if today else "status.html", context)

    async def signin_form(self, request: Request) -> Response:
        session = self._session(request)
        if session is not None and session.signed_in:
            return self._redirect(_local(request.query_params.get("next")), request, session)
        return self._page(request, session, "signin.html", {"next": _local(request.query_params.get("next"))})

    async def signin(self, request: Request) -> Response:
        session = self._session(request)
        form = await request.form()
        target = _local(form.get("next"))
        if not self.sessions.csrf_ok(session, form.get("csrf")):
            return self._forbidden(request, session)
        address = request.client.host if request.client else "unknown"
        wait = self.limiter.retry_after(address)
        if wait is not None:
            context = {"next": target, "retry": span(max(math.ceil(wait / 60) * 60, 60)), "error": None}
            response = self._page(request, session, "signin.html", context, status=429)
            response.headers["Retry-After"] = str(max(int(wait + 0.999), 1))
            return response
        password = form.get("password")
        ok = isinstance(password, str) and await asyncio.to_thread(self.password.verify, password)
        if not ok:
            self.limiter.failed(address)
            context = {"next": target, "error": "That password is not right. Try again."}
            return self._page(request, session, "signin.html", context, status=401)
        self.limiter.succeeded(address)
        return self._redirect(target, request, self.sessions.new(signed_in=True), fresh=True)

    async def signout(self, request: Request) -> Response:
        session = self._session(request)
        form = await request.form()
        if not self.sessions.csrf_ok(session, form.get("csrf")):
            return self._forbidden(request, session)
        assert session is not None
        now = self.sessions.clock.time()
        self.sessions.revoked = await sign_out(self.kv, session.sid, session.expires, now)
        return self._redirect("/signin?signed_out=1", request, self.sessions.new(signed_in=False), fresh=True)

    async def events(self, request: Request) -> Response:
        session = self._session(request)
        if session is None or not session.signed_in:
            return Response("sign in first\n", status_code=401, media_type="text/plain")
        ext = request.query_params.get("ext")
        try:
            subscriber = self.publisher.subscribe()
        except TooManySubscribers:
            return Response("too many live pages open\n", status_code=503, media_type="text/plain")

        async def body() -> Any:
            try:
                async for chunk in stream(subscriber, only=ext if ext in self.extensions else None):
                    yield chunk
            finally:
                self.publisher.unsubscribe(subscriber)

        headers = {**SECURITY_HEADERS, "X-Accel-Buffering": "no"}
        return StreamingResponse(body(), media_type="text/event-stream", headers=headers)

    # -- helpers ---------------------------------------------------------------------------------

    def _session(self, request: Request) -> Session | None:
        return self.sessions.read(request.cookies.get(COOKIE))

    def _page(
        self,
        request: Request,
        session: Session | None,
        name: str,
        context: dict[str, Any],
        status: int = 200,
    ) -> Response:
        fresh = session is None
        session = session or self.sessions.new(signed_in=False)
        context = {"csrf": self.sessions.csrf(session), "signed_in": session.signed_in, **context}
        context.setdefault("page", name.removesuffix(".html"))
        context.setdefault("error", None)
        context.setdefault("retry", None)
        context.setdefault("ext", None)
        context.setdefault("extensions", ())
        response = self.templates.TemplateResponse(request, name, context, status_code=status)
        return self._finish(response, request, session, fresh)

    def _forbidden(self, request: Request, session: Session | None) -> Response:
        return self._page(request, session, "forbidden.html", {"page": "forbidden"}, status=403)

    def _redirect(
        self, target: str, request: Request, session: Session | None, fresh: bool = False
    ) -> Response:
        response = RedirectResponse(target, status_code=303)
        if session is None:
            return self._finish(response, request, self.sessions.new(signed_in=False), True)
        return self._finish(response, request, session, fresh)

    def _finish(self, response: Response, request: Request, session: Session, fresh: bool) -> Response:
        response.headers.update(SECURITY_HEADERS)
        if fresh:
            response.set_cookie(
                COOKIE,
                self.sessions.encode(session),
                max_age=max(int(session.expires - self.sessions.clock.time()), 1),
                path="/",
                httponly=True,
                samesite="lax",
                secure=request.url.scheme == "https",
            )
        return response


def _local(target: object) -> str:
    """A redirect target on this site only (``/…``, never ``//host`` or a full URL); else ``/``."""
    if isinstance(target, str) and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/"
