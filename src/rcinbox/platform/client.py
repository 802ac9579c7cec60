"""PlatformClient: the RingCentral REST API as rcinbox uses it, on one ``httpx.AsyncClient``.

Every call goes: throttling group (known up front, :func:`~rcinbox.platform.pacing.group_for`) →
pacing → bearer token from the :class:`~rcinbox.platform.auth.TokenManager` → send with retries
(:mod:`rcinbox.platform.retry`) → on 401 one session renewal and one more try → an error answer
becomes a typed :class:`~rcinbox.errors.PlatformError` carrying the platform's ``errorCode``.

The bearer token only ever goes to the configured server or its media host
(:meth:`PlatformClient.allowed_download_hosts`); any other absolute URI is refused with
:class:`~rcinbox.errors.DownloadRefused` before a byte is sent.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable, Mapping
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import httpx

from rcinbox import __version__
from rcinbox.clock import SYSTEM, Clock
from rcinbox.errors import DownloadRefused, error_from_response, transport_errors
from rcinbox.platform.auth import Credentials, TokenManager
from rcinbox.platform.pacing import Group, Pacer, group_for
from rcinbox.platform.retry import DEFAULT_POLICY, IDEMPOTENT_METHODS, RetryPolicy, send
from rcinbox.platform.waits import Waits

if TYPE_CHECKING:
    from rcinbox.settings import Settings

DEFAULT_TIMEOUT = httpx.Timeout(30.0, connect=10.0)
EXT = "/restapi/v1.0/account/~/extension/{ext}"
SUBSCRIPTION = "/restapi/v1.0/subscription"
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
        transport: httpx.AsyncBaseTransport | None = None,
        policy: RetryPolicy = DEFAULT_POLICY,
        timeouts: httpx.Timeout = DEFAULT_TIMEOUT,
        upkeep: bool = True,
        waits: Waits | None = None,
        clock: Clock = SYSTEM,
    ) -> AsyncIterator[PlatformClient]:
        """Open the HTTP client, log in (or reuse the saved session), and close it all on exit.
        ``waits``: where this client's waits for RingCentral's budget are shown (shared by a
        process's clients); ``clock``: the session's and the pacer's time (:mod:`rcinbox.clock`)."""
        async with httpx.AsyncClient(
            timeout=timeouts,
            transport=transport,
            trust_env=False,  # the environment is read in one place: rcinbox.settings
            follow_redirects=False,
            headers={"User-Agent": f"rcinbox/{__version__}"},
        ) as http:
            pacer = Pacer(clock, waits=waits)
            auth = TokenManager(
                http, credentials, token_file=token_file, pacer=pacer, policy=policy, clock=clock
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
    ) -> httpx.Response:
        """One authenticated call; returns the successful response or raises a PlatformError."""
        response = await self._authorized(method, path, json, params, group_hint, idempotent, stream=False)
        if response.is_error:
            raise error_from_response(response)
        return response

    async def get_json(self, path: str, params: Params | None = None) -> Any:
        return (await self.request("GET", path, params=params)).json()

    @contextlib.asynccontextmanager
    async def stream(self, uri: str, params: Params | None = None) -> AsyncIterator[httpx.Response]:
        """Authenticated streaming download (attachments): iterate ``response.aiter_bytes()``."""
        response = await self._authorized("GET", uri, None, params, None, True, stream=True)
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
            )
            if response.status_code != 401 or attempt == 2:
                break
            if stream:
                await response.aclose()
            await self.auth.recover(used[-1])
        return response

    async def _pages(self, path: str, params: Params, per_page: int = 100) -> list[dict[str, Any]]:
        """All records of a paged list (``page``/``perPage`` with ``navigation.nextPage``)."""
        records: list[dict[str, Any]] = []
        page = 1
        while True:
            body = await self.get_json(path, {**params, "page": page, "perPage": per_page})
            records.extend(body.get("records", []))
            if not (body.get("navigation") or {}).get("nextPage"):
                return records
            page += 1

    # ---- account ----

    async def extension_info(self, ext: str = "~") -> dict[str, Any]:
        info: dict[str, Any] = await self.get_json(EXT.format(ext=ext))
        return info

    async def phone_numbers(self, ext: str = "~") -> list[dict[str, Any]]:
        return await self._pages(EXT.format(ext=ext) + "/phone-number", {})

    # ---- messages ----

    async def send_sms(self, from_number: str, to_number: str, text: str, ext: str = "~") -> dict[str, Any]:
        body = {"from": {"phoneNumber": from_number}, "to": [{"phoneNumber": to_number}], "text": text}
        sent: dict[str, Any] = (await self.request("POST", EXT.format(ext=ext) + "/sms", json=body)).json()
        return sent

    async def list_messages(self, ext: str = "~", **filters: Any) -> list[dict[str, Any]]:
        """Message-store records; ``filters`` are query parameters (lists repeat the key)."""
        params = {
            k: v.isoformat() if isinstance(v, datetime) else v for k, v in filters.items() if v is not None
        }
        return await self._pages(EXT.format(ext=ext) + "/message-store", params)

    async def message_sync(
        self, sync_token: str | None, ext: str = "~", date_from: datetime | str | None = None
    ) -> dict[str, Any]:
        """FSync (from ``date_from``) without a token, ISync with one."""
        params: dict[str, Any] = {"syncType": "ISync" if sync_token else "FSync"}
        if sync_token:
            params["syncToken"] = sync_token
        elif date_from is not None:
            params["dateFrom"] = date_from.isoformat() if isinstance(date_from, datetime) else date_from
        result: dict[str, Any] = await self.get_json(EXT.format(ext=ext) + "/message-sync", params)
        return result

    # ---- contacts ----

    async def address_book_sync(self, sync_token: str | None, ext: str = "~") -> dict[str, Any]:
        """FSync without a token, ISync with one; follows ``nextPageId`` and merges the pages."""
        params: dict[str, Any] = {"syncType": "ISync" if sync_token else "FSync", "perPage": 250}
        if sync_token:
            params["syncToken"] = sync_token
        records: list[dict[str, Any]] = []
        while True:
            body = await self.get_json(EXT.format(ext=ext) + "/address-book-sync", params)
            records.extend(body.get("records", []))
            if not body.get("nextPageId"):
                return {**body, "records": records}
            params = {**params, "pageId": body["nextPageId"]}

    # ---- subscriptions ----

    async def create_subscription(
        self, filters: Iterable[str], delivery_mode: Mapping[str, Any], expires_in: int | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"eventFilters": list(filters), "deliveryMode": dict(delivery_mode)}
        if expires_in is not None:
            body["expiresIn"] = expires_in
        created: dict[str, Any] = (await self.request("POST", SUBSCRIPTION, json=body)).json()
        return created

    async def renew_subscription(self, sub_id: str) -> dict[str, Any]:
        renewed: dict[str, Any] = (await self.request("POST", f"{SUBSCRIPTION}/{sub_id}/renew")).json()
        return renewed

    async def get_subscription(self, sub_id: str) -> dict[str, Any]:
        found: dict[str, Any] = await self.get_json(f"{SUBSCRIPTION}/{sub_id}")
        return found

    async def list_subscriptions(self) -> list[dict[str, Any]]:
        records: list[dict[str, Any]] = (await self.get_json(SUBSCRIPTION)).get("records", [])
        return records

    async def update_subscription(
        self, sub_id: str, filters: Iterable[str], expires_in: int | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"eventFilters": list(filters)}
        if expires_in is not None:
            body["expiresIn"] = expires_in
        updated: dict[str, Any] = (await self.request("PUT", f"{SUBSCRIPTION}/{sub_id}", json=body)).json()
        return updated

    async def delete_subscription(self, sub_id: str) -> None:
        await self.request("DELETE", f"{SUBSCRIPTION}/{sub_id}")

    async def ws_token(self) -> dict[str, Any]:
        """``{"uri", "ws_access_token", "expires_in"}`` for one WebSocket connection."""
        token: dict[str, Any] = (await self.request("POST", "/restapi/oauth/wstoken")).json()
        return token
