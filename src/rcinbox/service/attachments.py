"""MMS attachment download: streamed, size-capped, checksummed, host-checked, atomic.

The download worker (:mod:`rcinbox.service.downloads`) hands :meth:`AttachmentFetcher.fetch` one
queued download at a time (:class:`~rcinbox.store.PendingDownload`, after the message was decided).
Each ``MmsAttachment`` of a message is fetched with the platform client's authenticated
``stream(uri)`` and handed, chunk by chunk, to the attachment storage
(:mod:`rcinbox.service.attachment_storage`): a file
``DATA_DIR/attachments/<extension id>/<message id>/<name>.<ext>`` (``files``) or a row of the
database keyed by its SHA-256 (``database``):

- every path component is chosen by rcinbox: the extension and message ids were validated as
  plain tokens when the notification was parsed; the attachment's own id is used only when it
  is a plain token too (otherwise a digest of it), and the file extension comes from a
  content-type allowlist (anything else is ``.bin``). The payload's file names are never used;
- only URIs on the configured platform's hosts are fetched (``allowed_download_hosts()``);
  anything else is recorded as refused and never requested (the bearer token stays home);
- a declared or actual size above the cap stops the download; the attachment is recorded as
  refused (``too-large``) and the partial file is removed. A declared size out of any range
  (beyond 64 bits) is no declaration: it is recorded as unknown and the download goes ahead
  under the same cap, counted while streaming; the row's ``reason`` carries the note;
- SHA-256 and the size are computed while streaming; the storage keeps the bytes only once the
  download is complete and within the cap (a file is renamed into place, a database body is
  inserted), and discards them otherwise: a refusal or an error leaves nothing behind;
- the worker records each outcome once (the queued row changes only while ``pending``).

Permanent failures (a malformed entry, foreign host, too large, 404 and other 4xx) come back as a
``refused`` record with the reason; transient ones (network, 5xx, 429, 401) and configuration
problems (403, OAuth) propagate, so the worker retries the download later and parks it visibly
(``failed``) if it never works.
"""

from __future__ import annotations

import dataclasses
import hashlib
import logging
import re
from contextlib import AbstractAsyncContextManager
from pathlib import Path
from typing import Protocol
from urllib.parse import urlsplit

import httpx

from rcinbox.errors import (
    AuthError,
    DownloadRefused,
    Forbidden,
    PlatformError,
    RateLimited,
    ServerError,
    Unauthorized,
)
from rcinbox.media import SUFFIXES, suffix_for
from rcinbox.service.attachment_storage import FileStorage, Sink, Storage, UnsafePath
from rcinbox.store import AttachmentRecord, PendingDownload

log = logging.getLogger("rcinbox.pipeline")

DEFAULT_MAX_BYTES = 10_000_000
_TOKEN = re.compile(r"[A-Za-z0-9_-]{1,64}")
__all__ = ["SUFFIXES", "suffix_for"]  # the media types' table (rcinbox.media), as it was here


class Downloader(Protocol):
    """What attachments need from the platform client (``PlatformClient`` provides it)."""

    def allowed_download_hosts(self) -> frozenset[str]: ...

    def stream(self, uri: str) -> AbstractAsyncContextManager[httpx.Response]: ...


class Refused(Exception):
    """This attachment will not be stored; ``reason`` is recorded."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def safe_name(attachment_id: str) -> str:
    """The attachment id if it is a plain token, else a digest of it (never a path)."""
    if _TOKEN.fullmatch(attachment_id):
        return attachment_id
    return "x" + hashlib.sha256(attachment_id.encode()).hexdigest()[:32]


def host_allowed(uri: str, allowed: frozenset[str]) -> bool:
    """True when ``uri`` is plain http(s), without credentials, on one of the ``allowed`` hosts."""
    try:
        parts = urlsplit(uri)
        port = parts.port
    except ValueError:
        return False
    if parts.scheme not in ("https", "http") or parts.username or parts.password:
        return False
    host = (parts.hostname or "").lower()
    return bool(host) and (host in allowed or f"{host}:{port}" in allowed)


class AttachmentFetcher:
    def __init__(
        self,
        client: Downloader,
        data_dir: Path,
        *,
        max_bytes: int = DEFAULT_MAX_BYTES,
        storage: Storage | None = None,
    ) -> None:
        self.client = client
        self.storage = storage or FileStorage(data_dir)
        self.max_bytes = max_bytes

    async def fetch(self, item: PendingDownload) -> AttachmentRecord:
        """Download one attachment; permanent refusals come back as a ``refused`` record."""
        ref = item.ref
        relative = Path(item.extension_id, item.message_id, f"{safe_name(ref.id)}")
        base = AttachmentRecord(item.message_pk, ref.id, ref.content_type, ref.uri, "refused", size=ref.size)
        if ref.problem is not None:  # never fetched: there is nothing sound to fetch
            return dataclasses.replace(base, uri=ref.uri[:2000], reason=f"malformed: {ref.problem}")
        try:
            stored = await self._download(base, relative)
            return stored if ref.note is None else dataclasses.replace(stored, reason=f"note: {ref.note}")
        except Refused as refused:
            log.warning(
                "attachment %s of message %s refused: %s",
                ref.id[:64],
                item.message_id,
                refused.reason,
                extra={"action": "attachment.refused"},
            )
            note = "" if ref.note is None else f" (note: {ref.note})"
            return dataclasses.replace(base, reason=refused.reason + note)

    async def _download(self, base: AttachmentRecord, relative: Path) -> AttachmentRecord:
        if not host_allowed(base.uri, self.client.allowed_download_hosts()):
            raise Refused(f"foreign-host: {urlsplit(base.uri).hostname or base.uri[:80]!r}")
        if base.size is not None and base.size > self.max_bytes:
            raise Refused(f"too-large: declared {base.size} bytes > {self.max_bytes}")
        try:
            async with self.client.stream(base.uri) as response:
                _check_response(response, self.max_bytes)
                content_type = response.headers.get("content-type") or base.content_type
                try:
                    sink = await self.storage.open(relative, suffix_for(content_type))
                except UnsafePath:
                    raise Refused("unsafe-path") from None
                size, digest, path = await self._write(response, sink)
        except DownloadRefused as exc:
            raise Refused(f"foreign-host: {exc}") from exc
        except (ServerError, RateLimited, Unauthorized, Forbidden, AuthError):
            raise  # transient, or a configuration problem: the download is retried (then parked)
        except PlatformError as exc:
            raise Refused(f"http-{exc.status}: {exc.error_code}") from exc
        return AttachmentRecord(
            base.message_pk,
            base.attachment_id,
            content_type.split(";", 1)[0].strip().lower(),
            base.uri,
            "stored",
            size=size,
            sha256=digest,
            path=path,
        )

    async def _write(self, response: httpx.Response, sink: Sink) -> tuple[int, str, str | None]:
        digest, size = hashlib.sha256(), 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > self.max_bytes:
                    raise Refused(f"too-large: more than {self.max_bytes} bytes")
                digest.update(chunk)
                await sink.write(chunk)
            path = await sink.commit(digest.hexdigest())
        except BaseException:
            await sink.discard()
            raise
        return size, digest.hexdigest(), path


def _check_response(response: httpx.Response, max_bytes: int) -> None:
    if response.status_code >= 500:
        raise ServerError(response.status_code, f"HTTP-{response.status_code}", "attachment download failed")
    if response.status_code >= 300:
        raise Refused(f"http-{response.status_code}")
    declared = response.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > max_bytes:
        raise Refused(f"too-large: Content-Length {declared} > {max_bytes}")
