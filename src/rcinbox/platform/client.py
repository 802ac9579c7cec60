"""PlatformClient: the RingCentral REST API as rcinbox uses it, on one ``httpx.AsyncClient``.

Every call goes: throttling group (known up front, :func:`~rcinbox.platform.pacing.group_for`) →
pacing → bearer token from the :class:`~rcinbox.platform.auth.TokenManager` → send with retries
(:mod:`rcinbox.platform.retry`) → on 401 one session renewal and one more try → an error answer
becomes a typed :class:`~rcinbox.errors.PlatformError` carrying the platform's ``errorCode``.

Each call returns a typed record of :mod:`rcinbox.wire`, parsed here once; an answer that lacks
what rcinbox needs (a subscription without ``id``) is a ``PlatformError`` ``bad-response`` naming
the field.

The bearer token only ever goes to the configured server or its media host
(:meth:`PlatformClient.allowed_download_hosts`); any other absolute URI is refused with
:class:`~rcinbox.errors.DownloadRefused` before a byte is sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ValidationError

from rcinbox import __version__
from rcinbox.clock import SYSTEM, Clock
from rcinbox.errors import DownloadRefused, PlatformError, error_from_response, transport_errors
from rcinbox.observe import NOBODY, Observer
from rcinbox.platform.auth import Credentials, TokenManager
from rcinbox.platform.pacing import Group, Pacer, group_for
from rcinbox.platform.retry import DEFAULT_POLICY, IDEMPOTENT_METHODS, Fence, RetryPolicy, send
from rcinbox.platform.vault import SharedRows, SharedVault
from rcinbox.platform.waits import Waits
from rcinbox.wire import (
    AddressBookSync,
    ContactRecord,
    DirectoryPage,
    ExtensionInfo,
    MessageRecord,
    MessageSync,
    PhoneNumber,
    Subscription,
    WsToken,
    parse_items,
)

if TYPE_CHECKING:
    from rcinbox.settings import Settings

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
EXT = "/restapi/v1.0/account/~/extension/{ext}"
SUBSCRIPTION = "/restapi/v1.0/subscription"
ACCOUNT_NUMBERS = "/restapi/v1.0/account/~/phone-number"
DIRECTORY = "/restapi/v1.0/account/~/directory/entries"
R = TypeVar("R", bound=BaseModel)
Params = Mapping[str, Any]


def media_host(server_host: str) -> str | None:
    """RingCentral's media API host for a platform host (``platform.X.ringcentral.com`` → ``media.X…``)."""
    if server_host.startswith("platform.") and server_host.endswith("ringcentral.com"):
        return "media." + server_host.removeprefix("platform.")
    return None


class PlatformClient:
    def __init__(
        self,
        http: httpx.AsyncClient,
        auth: TokenManager,
        server_url: str,
        *,
        pacer: Pacer | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
    ) -> None:
        self.http = http
        self.auth = auth
        self.server_url = server_url.rstrip("/")
        self.pacer = pacer or Pacer()
        self.policy = policy
        self._origins = self._allowed_origins()

    def __repr__(self) -> str:
        return f"PlatformClient({self.server_url!r})"

    @classmethod
    @contextlib.asynccontextmanager
    async def open(
        cls,
        credentials: Credentials,
        *,
        token_file: Path | None = None,
        sessions: SharedRows | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        timeouts: httpx.Timeout = DEFAULT_TIMEOUT,
        upkeep: bool = True,
        waits: Waits | None = None,
        clock: Clock = SYSTEM,
        observer: Observer = NOBODY,
    ) -> AsyncIterator[PlatformClient]:
        """Open the HTTP client, log in (or reuse the saved session), and close it all on exit.
        ``waits``: where this client's waits for RingCentral's budget are shown (shared by a
        process's clients); ``clock``: the session's and the pacer's time (:mod:`rcinbox.clock`);
        ``observer``: told about the pacer's waits, 429s and the session's renewals (the metrics);
        ``sessions``: the shared database's rows, where replicas keep the session (instead of
        ``token_file``: :mod:`rcinbox.platform.vault`)."""
        async with httpx.AsyncClient(
            timeout=timeouts,
            transport=transport,
            trust_env=False,  # the environment is read in one place: rcinbox.settings
            follow_redirects=False,
            headers={"User-Agent": f"rcinbox/{__version__}"},
        ) as http:
            pacer = Pacer(clock, waits=waits, observer=observer)
            vault = SharedVault(sessions, credentials.fingerprint) if sessions is not None else None
            auth = TokenManager(
                http,
                credentials,
                token_file=token_file,
                vault=vault,
                pacer=pacer,
                policy=policy,
                clock=clock,
                observer=observer,
            )
            try:
                await auth.start(background=upkeep)
                yield cls(http, auth, credentials.server_url, pacer=pacer, policy=policy)
            finally:
                await auth.aclose()

    @classmethod
    def from_settings(
        cls, settings: Settings, **options: Any
    ) -> contextlib.AbstractAsyncContextManager[PlatformClient]:
        credentials = Credentials(
            settings.server_url, settings.client_id, settings.client_secret, settings.jwt
        )
        return cls.open(credentials, token_file=settings.token_file, **options)

    # ---- hosts ----

    def _allowed_origins(self) -> frozenset[tuple[str, str, int | None]]:
        server = urlsplit(self.server_url)
        host = server.hostname or ""
        origins = {(server.scheme, host, server.port)}
        media = media_host(host)
        if media:
            origins.add(("https", media, None))
        return frozenset(origins)

    def allowed_download_hosts(self) -> frozenset[str]:
        """Host names attachments may be fetched from: the server's, plus RingCentral's media host."""
        return frozenset(host for _, host, _ in self._origins)

    def is_allowed_url(self, uri: str) -> bool:
        """True when ``uri`` is on the configured server or its media host (scheme, host and port)."""
        parts = urlsplit(uri)
        port = parts.port
        if port is not None and port == {"http": 80, "https": 443}.get(parts.scheme):
            port = None
        return (parts.scheme, parts.hostname or "", port) in self._origins

    def _url(self, path: str) -> str:
        if path.startswith("/"):
            return self.server_url + path
        if not self.is_allowed_url(path):
            raise DownloadRefused(
                f"refusing to send credentials to {urlsplit(path).hostname!r}: not a platform host"
            )
        return path

    # ---- core ----

    async def request(
        self,
        method: str,
        path: str,
        *,
        json: Any = None,
        params: Params | None = None,
        group_hint: Group | None = None,
        idempotent: bool | None = None,
        share: float = 1.0,
        fence: Fence | None = None,
    ) -> httpx.Response:
        """One authenticated call; returns the successful response or raises a PlatformError.
        ``share``: the part of its throttling group's budget it may use (below 1: background work,
        which lets replies go first; :meth:`~rcinbox.platform.pacing.Pacer.acquire`); ``fence``:
        awaited before each try is written, after the pacer's wait (:func:`~rcinbox.platform.retry.send`)."""
        response = await self._authorized(
            method, path, json, params, group_hint, idempotent, stream=False, share=share, fence=fence
        )
        if response.is_error:
            raise error_from_response(response)
        return response

    async def get_json(self, path: str, params: Params | None = None) -> Any:
        return (await self.request("GET", path, params=params)).json()

    @contextlib.asynccontextmanager
    async def stream(
        self, uri: str, params: Params | None = None, share: float = 1.0
    ) -> AsyncIterator[httpx.Response]:
        """Authenticated streaming download (attachments): iterate ``response.aiter_bytes()``.
        ``share`` as for :meth:`request` (e.g. :data:`~rcinbox.platform.pacing.BACKGROUND_SHARE`)."""
        response = await self._authorized("GET", uri, None, params, None, True, stream=True, share=share)
        try:
            if response.is_error:
                with transport_errors("GET", response.request.url):
                    await response.aread()
                raise error_from_response(response)
            with transport_errors("GET", response.request.url):
                yield response
        finally:
            await response.aclose()

    async def _authorized(
        self,
        method: str,
        path: str,
        json: Any,
        params: Params | None,
        group_hint: Group | None,
        idempotent: bool | None,
        *,
        stream: bool,
        share: float = 1.0,
        fence: Fence | None = None,
    ) -> httpx.Response:
        url = self._url(path)
        group = group_hint or group_for(method, url)
        safe = method.upper() in IDEMPOTENT_METHODS if idempotent is None else idempotent
        used: list[str] = []

        async def build() -> httpx.Request:
            token = await self.auth.access_token()
            used.append(token)
            headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
            return self.http.build_request(method, url, json=json, params=params, headers=headers)

        for attempt in (1, 2):
            response = await send(
                self.http,
                build,
                group=group,
                pacer=self.pacer,
                policy=self.policy,
                idempotent=safe,
                stream=stream,
                request=f"{method.upper()} {urlsplit(url).path}",
                share=share,
                fence=fence,
            )
            if response.status_code != 401 or attempt == 2:
                break
            if stream:
                await response.aclose()
            await self.auth.recover(used[-1])
        return response

    async def _pages(self, path: str, params: Params, per_page: int = 100) -> list[object]:
        """All records of a paged list (``page``/``perPage`` with ``navigation.nextPage``), as sent."""
        records: list[object] = []
        page = 1
        while True:
            body = await self.get_json(path, {**params, "page": page, "perPage": per_page})
            items = body.get("records") if isinstance(body, dict) else None
            records.extend(items if isinstance(items, list) else [])
            navigation = body.get("navigation") if isinstance(body, dict) else None
            if not (isinstance(navigation, dict) and navigation.get("nextPage")):
                return records
            page += 1

    async def _record(self, model: type[R], method: str, path: str, **options: Any) -> R:
        """One call whose answer is read as ``model``; an unreadable answer is a PlatformError."""
        response = await self.request(method, path, **options)
        return parsed(model, response.json(), response)

    # ---- account ----

    async def extension_info(self, ext: str = "~") -> ExtensionInfo:
        return await self._record(ExtensionInfo, "GET", EXT.format(ext=ext))

    async def phone_numbers(self, ext: str = "~") -> tuple[PhoneNumber, ...]:
        return parse_items(PhoneNumber, await self._pages(EXT.format(ext=ext) + "/phone-number", {}))

    async def account_numbers(self) -> tuple[PhoneNumber, ...]:
        """The account's numbers (one page of up to 1000); an admin's view (403 for a normal user)."""
        body = await self.get_json(ACCOUNT_NUMBERS, {"perPage": 1000})
        return parse_items(PhoneNumber, body.get("records") if isinstance(body, dict) else None)

    async def directory_page(self, page: int) -> DirectoryPage:
        """One page (up to 1000 entries) of the company directory."""
        body = await self.get_json(DIRECTORY, {"perPage": 1000, "page": page})
        return DirectoryPage.model_validate(body if isinstance(body, dict) else {})

    # ---- messages ----

    async def send_sms(
        self, from_number: str, to_number: str, text: str, ext: str = "~", *, fence: Fence | None = None
    ) -> MessageRecord:
        """``fence``: may the SMS still go? Awaited right before it is written (a replica's claim)."""
        body = {"from": {"phoneNumber": from_number}, "to": [{"phoneNumber": to_number}], "text": text}
        path = EXT.format(ext=ext) + "/sms"
        return await self._record(MessageRecord, "POST", path, json=body, fence=fence)

    async def list_messages(self, ext: str = "~", **filters: Any) -> tuple[MessageRecord, ...]:
        """Message-store records; ``filters`` are query parameters (lists repeat the key)."""
        params = {
            k: v.isoformat() if isinstance(v, datetime) else v for k, v in filters.items() if v is not None
        }
        return parse_items(MessageRecord, await self._pages(EXT.format(ext=ext) + "/message-store", params))

    async def message_sync(
        self, sync_token: str | None, ext: str = "~", date_from: datetime | str | None = None
    ) -> MessageSync:
        """FSync (from ``date_from``) without a token, ISync with one."""
        params: dict[str, Any] = {"syncType": "ISync" if sync_token else "FSync"}
        if sync_token:
            params["syncToken"] = sync_token
        elif date_from is not None:
            params["dateFrom"] = date_from.isoformat() if isinstance(date_from, datetime) else date_from
        return await self._record(MessageSync, "GET", EXT.format(ext=ext) + "/message-sync", params=params)

    # ---- contacts ----

    async def address_book_sync(self, sync_token: str | None, ext: str = "~") -> AddressBookSync:
        """FSync without a token, ISync with one; follows ``nextPageId`` and merges the pages."""
        params: dict[str, Any] = {"syncType": "ISync" if sync_token else "FSync", "perPage": 250}
        if sync_token:
            params["syncToken"] = sync_token
        records: list[ContactRecord] = []
        while True:
            path = EXT.format(ext=ext) + "/address-book-sync"
            page = await self._record(AddressBookSync, "GET", path, params=params)
            records.extend(page.records)
            if not page.next_page_id:
                return page.model_copy(update={"records": tuple(records)})
            params = {**params, "pageId": page.next_page_id}

    # ---- subscriptions ----

    async def create_subscription(
        self, filters: Iterable[str], delivery_mode: Mapping[str, Any], expires_in: int | None = None
    ) -> Subscription:
        body: dict[str, Any] = {"eventFilters": list(filters), "deliveryMode": dict(delivery_mode)}
        if expires_in is not None:
            body["expiresIn"] = expires_in
        return await self._record(Subscription, "POST", SUBSCRIPTION, json=body)

    async def renew_subscription(self, sub_id: str) -> Subscription:
        return await self._record(Subscription, "POST", f"{SUBSCRIPTION}/{sub_id}/renew")

    async def get_subscription(self, sub_id: str) -> Subscription:
        return await self._record(Subscription, "GET", f"{SUBSCRIPTION}/{sub_id}")

    async def list_subscriptions(self) -> tuple[Subscription, ...]:
        body = await self.get_json(SUBSCRIPTION)
        return parse_items(Subscription, body.get("records") if isinstance(body, dict) else None)

    async def update_subscription(
        self, sub_id: str, filters: Iterable[str], expires_in: int | None = None
    ) -> Subscription:
        body: dict[str, Any] = {"eventFilters": list(filters)}
        if expires_in is not None:
            body["expiresIn"] = expires_in
        return await self._record(Subscription, "PUT", f"{SUBSCRIPTION}/{sub_id}", json=body)

    async def delete_subscription(self, sub_id: str) -> None:
        await self.request("DELETE", f"{SUBSCRIPTION}/{sub_id}")

    async def ws_token(self) -> WsToken:
        """The address and token of one WebSocket connection."""
        return await self._record(WsToken, "POST", "/restapi/oauth/wstoken")


def parsed(model: type[R], body: object, response: httpx.Response) -> R:
    """``body`` read as ``model``; junk is a :class:`~rcinbox.errors.PlatformError` naming the field."""
    try:
        return model.model_validate(body)
    except ValidationError as exc:
        problem = exc.errors()[0]
        where = ".".join(str(part) for part in problem["loc"]) or "the answer"
        request = f"{response.request.method} {response.request.url.path}"
        raise PlatformError(
            response.status_code,
            "bad-response",
            f"unreadable {model.__name__}: {where}: {problem['msg']}",
            None,
            request=request,
        ) from None
