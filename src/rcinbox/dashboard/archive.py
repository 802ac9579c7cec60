"""The dashboard's pages of the archive: the conversations, one thread (with its MMS files), the
search and the opt-outs (with the owner's way to lift one). Signed-in only, as every page; they
read the store's dashboard reads (:mod:`rcinbox.store.reads`) and share the
:class:`~rcinbox.dashboard.pages.Dashboard`'s sessions, templates and headers.

A thread's attachment is served only when the archive records it (its message and attachment id,
downloaded, with a path inside the data directory or its bytes in the database's
``attachment_bodies``, by its SHA-256): never a path from the request. A file is served by the
replica whose data directory holds it; a database body by every replica.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import FileResponse, Response
from starlette.routing import BaseRoute, Route

from rcinbox.dashboard.pages import Dashboard
from rcinbox.errors import NotOptedOut
from rcinbox.media import suffix_for
from rcinbox.store import AttachmentRecord, Store
from rcinbox.store.explain import explain
from rcinbox.store.views import timeline

ADMIN = "admin"  # who lifts an opt-out: the dashboard has one account
INLINE = ("image/png", "image/jpeg", "image/gif", "image/webp")  # shown in the thread (others: a download)


@dataclass
class ArchivePages:
    site: Dashboard
    store: Store
    data_dir: Path
    timezone: Callable[[], tzinfo]  # the rules' time zone (hot-reloaded)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/conversations", self.conversations, methods=["GET"]),
            Route("/conversations/{number}", self.thread, methods=["GET"]),
            Route("/attachments/{pk:int}/{attachment}", self.attachment, methods=["GET"]),
            Route("/search", self.search, methods=["GET"]),
            Route("/opt-outs", self.opt_outs, methods=["GET"]),
            Route("/opt-outs/lift", self.lift, methods=["POST"]),
        ]

    async def conversations(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        ext = self._ext(request)
        page = await self.store.conversations(extension_id=ext, page=_number(request))
        name = (
            "conversation_rows.html" if request.query_params.get("fragment") == "1" else "conversations.html"
        )
        return self._show(request, name, {"rows": page, "ext": ext, "page": "conversations"})

    async def thread(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        ext = self._ext(request)
        number = request.path_params["number"]
        page = await self.store.thread(number, extension_id=ext, page=_number(request))
        now = self.site.sessions.clock.now()
        said = {e.message.pk: explain(e.decision, now) for e in page.items if e.decision is not None}
        context = {
            "number": number,
            "entries": page,
            "events": timeline(page.items),
            "said": said,
            "inline": INLINE,
            "ext": ext,
            "page": "thread",
        }
        name = "thread_items.html" if request.query_params.get("fragment") == "1" else "thread.html"
        return self._show(request, name, context)

    async def attachment(self, request: Request) -> Response:
        if self._denied(request) is not None:
            return Response("sign in first\n", status_code=401, media_type="text/plain")
        files = await self.store.attachments(request.path_params["pk"])
        record = files.get(request.path_params["attachment"])
        if record is not None and record.storage == "database" and record.sha256:
            body = await self.store.bodies.get(record.sha256)
            if body is not None:
                media, disposition, name = _shown_as(record, f".{suffix_for(record.content_type)}")
                quoted = quote(name)
                named = f"filename*=utf-8''{quoted}" if quoted != name else f'filename="{name}"'
                headers = {"Content-Disposition": f"{disposition}; {named}"}  # as FileResponse says it
                return _guarded(Response(body, media_type=media, headers=headers))
        root = self.data_dir.resolve()
        path = (root / record.path).resolve() if record is not None and record.path else None
        if record is None or path is None or not path.is_relative_to(root) or not path.is_file():
            return Response("no such file\n", status_code=404, media_type="text/plain")
        media, disposition, name = _shown_as(record, path.suffix)
        response = FileResponse(path, media_type=media, filename=name, content_disposition_type=disposition)
        return _guarded(response)

    async def search(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        ext = self._ext(request)
        query = request.query_params.get("q", "")[:200]
        results = await self.store.search(query, extension_id=ext, page=_number(request)) if query else None
        return self._show(request, "search.html", {"q": query, "results": results, "ext": ext})

    async def opt_outs(self, request: Request) -> Response:
        if (denied := self._denied(request)) is not None:
            return denied
        return await self._opt_outs(request, {})

    async def lift(self, request: Request) -> Response:
        session = self.site._session(request)
        form = await request.form()
        if (
            not self.site.sessions.csrf_ok(session, form.get("csrf"))
            or session is None
            or not session.signed_in
        ):
            return self.site._forbidden(request, session)
        number = str(form.get("number") or "")
        reason = str(form.get("reason") or "").strip()
        if not reason:
            error = {"number": number, "message": "Say why the opt-out is lifted: the reason is required."}
            return await self._opt_outs(request, {"error": error}, status=400)
        try:
            await self.store.lift_opt_out(number, by=ADMIN, reason=reason)
        except NotOptedOut:
            error = {"number": number, "message": f"{number} is not opted out: nothing was lifted."}
            return await self._opt_outs(request, {"error": error}, status=409)
        return self.site._redirect(f"/opt-outs?lifted={quote(number, safe='')}", request, session)

    # -- helpers ---------------------------------------------------------------------------------

    async def _opt_outs(self, request: Request, extra: dict[str, Any], status: int = 200) -> Response:
        current = await self.store.opt_outs(page=_number(request))
        lifts = await self.store.opt_out_lifts(size=20)
        context = {"current": current, "lifts": lifts, "lifted": request.query_params.get("lifted")}
        return self._show(request, "optouts.html", {**context, **extra}, status)

    def _denied(self, request: Request) -> Response | None:
        session = self.site._session(request)
        if session is not None and session.signed_in:
            return None
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return self.site._redirect(f"/signin?next={quote(target, safe='')}", request, session)

    def _ext(self, request: Request) -> str | None:
        chosen = request.query_params.get("ext")
        return chosen if chosen in self.site.extensions else None

    def _show(self, request: Request, name: str, context: dict[str, Any], status: int = 200) -> Response:
        context = {"tz": self.timezone(), "now": self.site.sessions.clock.now(), **context}
        context.setdefault("extensions", self.site.extensions)
        context.setdefault("page", name.removesuffix(".html"))
        return self.site._page(request, self.site._session(request), name, context, status)


def _shown_as(record: AttachmentRecord, suffix: str) -> tuple[str, str, str]:
    """Media type, disposition and name an attachment is served with: shown inline only for the
    pictures of :data:`INLINE`, else a download; named ``<attachment id><suffix>``."""
    inline = record.content_type in INLINE
    media = record.content_type if inline else "application/octet-stream"
    return media, "inline" if inline else "attachment", f"{record.attachment_id}{suffix}"


def _guarded(response: Response) -> Response:
    """Never sniffed, cached, or run (a sandbox with nothing allowed)."""
    response.headers.update({"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"})
    response.headers["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def _number(request: Request) -> int:
    value = request.query_params.get("page", "1")
    return max(int(value), 1) if value.isdigit() and len(value) < 7 else 1
