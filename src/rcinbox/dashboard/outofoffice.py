"""The dashboard's Out of office page, and the status page's "Turn off now".

``GET /out-of-office`` shows the rules file's vacation and smart replies (``?ext=``: one
extension's section, its inherited values marked) with a preview for a chosen contact. The form
posts back to ``/out-of-office`` with ``action=preview`` (the no-JavaScript preview) or
``action=save``; with JavaScript, ``/out-of-office/preview`` answers the preview's fragment as the
user types. Saving goes through :mod:`rcinbox.dashboard.rules_file` (validated by the service's
parser, refused when the file changed since the form was loaded: the hidden digest, then the
difference is shown) and then reloads the service's rules at once (``reload``: the rules watcher's
check, so the pipeline and the outbox answer the next text with the new rules). ``POST
/vacation/off`` sets ``enabled = false`` the same safe way.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from rcinbox.dashboard import rules_file
from rcinbox.dashboard.archive import ArchivePages
from rcinbox.dashboard.outofoffice_form import AUDIENCES, zone_choices
from rcinbox.dashboard.outofoffice_state import (
    INTENT_LABELS,
    REPLY,
    SMART_ENABLED,
    Editor,
    changes,
    editor_for,
    field_for,
    posted,
)
from rcinbox.dashboard.preview import Preview, preview
from rcinbox.errors import RulesError
from rcinbox.rules.config import parse_rules
from rcinbox.rules.model import Rules
from rcinbox.rules.smart_config import REPLY_INTENTS

log = logging.getLogger("rcinbox.dashboard")
SAMPLE = ("Sam", "Taylor")  # the preview's contact until one is chosen
CONTACTS = 50  # the latest conversations offered as the preview's contact


@dataclass(frozen=True)
class Contact:
    number: str  # "" for the sample
    first: str | None
    last: str | None
    label: str


@dataclass
class OutOfOfficePages:
    archive: ArchivePages
    path: Path  # the rules file
    rules: Callable[[], Rules]  # the service's rules now (the watcher's)
    reload: Callable[[], object]  # look at the file now and install it (RulesWatcher.check)

    def routes(self) -> list[BaseRoute]:
        return [
            Route("/out-of-office", self.page, methods=["GET"]),
            Route("/out-of-office", self.submit, methods=["POST"]),
            Route("/out-of-office/preview", self.live_preview, methods=["POST"]),
            Route("/vacation/off", self.turn_off, methods=["POST"]),
        ]

    async def page(self, request: Request) -> Response:
        if (denied := self.archive._denied(request)) is not None:
            return denied
        ext = self.archive._ext(request)
        loaded = rules_file.load(self.path)
        editor = self._editor(loaded.text, ext)
        saved = request.query_params.get("saved") == "1"
        return await self._render(request, editor, editor.shown, loaded.digest, saved=saved)

    async def submit(self, request: Request) -> Response:
        form = await self._form(request)
        if isinstance(form, Response):
            return form
        ext = self._ext_of(form)
        loaded = rules_file.load(self.path)
        editor = self._editor(loaded.text, ext)
        values = posted(form)
        digest = str(form.get("digest") or "")
        if form.get("action") != "save":
            return await self._render(request, editor, values, digest, form=form)
        found = changes(editor, values)
        if found.errors:
            return await self._render(request, editor, values, digest, form=form, errors=found.errors)
        new_text = found.apply(loaded.text, ext)
        try:
            rules_file.save(self.path, digest, new_text)
        except RulesError as exc:
            errors = {field_for(exc): exc.reason}
            return await self._render(request, editor, values, digest, form=form, errors=errors)
        except rules_file.RulesFileChanged as exc:
            return await self._render(request, editor, values, digest, form=form, conflict=exc.diff)
        self.reload()
        log.info("rules file saved from the dashboard", extra={"action": "dashboard.rules_saved"})
        target = "/out-of-office?saved=1" + (f"&ext={quote(ext, safe='')}" if ext else "")
        return self.archive.site._redirect(target, request, self.archive.site._session(request))

    async def live_preview(self, request: Request) -> Response:
        form = await self._form(request)
        if isinstance(form, Response):
            return form
        ext = self._ext_of(form)
        editor = self._editor(rules_file.load(self.path).text, ext)
        context = await self._preview_context(editor, posted(form), form)
        return self.archive._show(request, "outofoffice_preview.html", context)

    async def turn_off(self, request: Request) -> Response:
        form = await self._form(request)
        if isinstance(form, Response):
            return form
        ext = self._ext_of(form)
        loaded = rules_file.load(self.path)
        outcome = "done"
        try:
            rules_file.save(
                self.path, loaded.digest, rules_file.edit(loaded.text, "vacation", {"enabled": False}, ext)
            )
        except (RulesError, rules_file.RulesFileChanged) as exc:
            log.error("vacation not turned off: %s", exc, extra={"action": "dashboard.turn_off_failed"})
            outcome = "failed"
        else:
            self.reload()
            log.info("vacation turned off from the dashboard", extra={"action": "dashboard.turned_off"})
        target = f"/status?off={outcome}" + (f"&ext={quote(ext, safe='')}" if ext else "")
        return self.archive.site._redirect(target, request, self.archive.site._session(request))

    # -- helpers ---------------------------------------------------------------------------------

    async def _form(self, request: Request) -> FormData | Response:
        """The posted form of a signed-in session with its CSRF token, or the 403 page."""
        site = self.archive.site
        session = site._session(request)
        form = await request.form()
        if not site.sessions.csrf_ok(session, form.get("csrf")) or session is None or not session.signed_in:
            return site._forbidden(request, session)
        return form

    def _ext_of(self, form: FormData) -> str | None:
        chosen = form.get("ext")
        return chosen if isinstance(chosen, str) and chosen in self.archive.site.extensions else None

    def _editor(self, text: str, ext: str | None) -> Editor:
        try:
            file_rules = parse_rules(text, self.path)
        except RulesError:  # edited by hand into an invalid state: show the rules in effect
            file_rules = self.rules()
        return editor_for(file_rules, ext)

    async def _contacts(self, ext: str | None) -> list[Contact]:
        rows = await self.archive.store.conversations(extension_id=ext, size=CONTACTS)
        found = [Contact("", *SAMPLE, f"Sample contact: {' '.join(SAMPLE)}")]
        for row in rows.items:
            if row.name:
                first, _, last = row.name.partition(" ")
                found.append(Contact(row.counterpart, first, last or None, f"{row.name} ({row.counterpart})"))
        return found

    async def _preview_context(
        self, editor: Editor, values: dict[str, str], form: FormData | None
    ) -> dict[str, Any]:
        contacts = await self._contacts(editor.ext)
        chosen = str(form.get("contact") or "") if form is not None else ""
        contact = next((c for c in contacts if c.number == chosen), contacts[0])
        asked = form.get("preview_of") if form is not None else None
        intent = next((i for i in REPLY_INTENTS if i == asked), None)  # None: the vacation message
        rules, problem = self._rules_after(editor, values)
        template = rules.vacation.message
        if intent is not None:
            template = rules.smart.replies.get(intent) or template  # no reply set: the vacation message
        shown: Preview = preview(rules, template, contact.first, contact.last)
        return {
            "preview": shown,
            "problem": problem,
            "contacts": contacts,
            "contact": contact,
            "preview_of": intent or "message",
            "intent_labels": INTENT_LABELS,
        }

    def _rules_after(self, editor: Editor, values: dict[str, str]) -> tuple[Rules, str | None]:
        """The rules saving ``values`` would give the extension (or the rules in effect, and why)."""
        found = changes(editor, values)
        if found.errors:
            return editor.rules, "Fix the fields marked below to see the preview with them."
        try:
            text = found.apply(rules_file.load(self.path).text, editor.ext)
            after = parse_rules(text, self.path)
        except RulesError as exc:
            return editor.rules, exc.reason
        return (after.for_extension(editor.ext) if editor.ext else after), None

    async def _render(
        self,
        request: Request,
        editor: Editor,
        values: dict[str, str],
        digest: str,
        *,
        form: FormData | None = None,
        errors: dict[str, str] | None = None,
        conflict: str | None = None,
        saved: bool = False,
    ) -> Response:
        context = {
            "editor": editor,
            "values": values,
            "digest": digest,
            "errors": errors or {},
            "conflict": conflict,
            "saved": saved,
            "ext": editor.ext,
            "zones": zone_choices(values.get("timezone") or editor.defaults["timezone"]),
            "audiences": AUDIENCES,
            "intents": REPLY_INTENTS,
            "reply_prefix": REPLY,
            "smart_enabled": SMART_ENABLED,
            "path": self.path.name,
            "page": "outofoffice",
            **await self._preview_context(editor, values, form),
        }
        status = 409 if conflict else 400 if errors else 200
        return self.archive._show(request, "outofoffice.html", context, status)
