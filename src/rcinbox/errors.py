"""Every error rcinbox raises, and the one boundary where httpx's errors become ours.

::

    RcinboxError
     ├── ConfigError                 a setting is missing or malformed (the message names the variable)
     │    └── UnknownSetting         an RCINBOX_* variable that is no setting (a typo or a leftover)
     ├── RulesError(path, line, reason)   the TOML rules file is invalid
     ├── PlatformError(status, error_code, message, body)   RingCentral answered with an error
     │    ├── AuthError              the OAuth endpoint refused (invalid_client, unauthorized_client, …)
     │    │    └── InvalidGrant      refresh token or JWT expired/revoked (→ fresh JWT login)
     │    ├── Unauthorized           401 on an API call (TokenInvalid, AGW-401, expired token)
     │    ├── Forbidden              403 (missing permission, number not allowed, …)
     │    ├── NotFound               404
     │    ├── RateLimited(retry_after)   429, with the seconds to wait
     │    └── ServerError            5xx and 408
     ├── TransportError              the request never got an answer (connect/read failure, timeout)
     ├── DownloadRefused             a media URI points outside the configured platform's hosts
     ├── ListenError(host, port)     the local HTTP server cannot listen there (port taken, …)
     ├── DataDirInUse(data_dir, pid)   another rcinbox holds the data directory's lock
     ├── NotOptedOut                 an opt-out to lift that is not there (the number has not opted out)
     ├── ClaimLost                   a reply's claim may be another replica's now: its send is abandoned
     ├── ClassifierError             the intent classifier cannot be loaded (extra missing, model file absent)
     │    └── ModelChecksumError     the model (or tokenizer) file is not the one rcinbox pins
     └── StoreError                  the database failed
          ├── StoreUnavailable       no connection to the database (wrong URL, server down, refused)
          ├── StoreFull              the disk holding the database is full (nothing was written)
          └── SchemaError            the archive's schema version is not the one this rcinbox reads

:func:`error_from_response` turns a RingCentral error response (REST or OAuth shape) into the
right :class:`PlatformError`; :func:`transport_errors` is the only place an ``httpx`` transport
exception is translated (``raise TransportError(...) from exc``). Messages never contain a token,
a credential or the ``Authorization`` header: they are built from the method, the path (never the
query) and the platform's own ``errorCode``/``message``, and pass through :func:`rcinbox.logs.redact`.
"""

from __future__ import annotations

import contextlib
import errno
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rcinbox.logs import redact

if TYPE_CHECKING:  # imported where used: the CLI's light commands load no HTTP client
    import httpx

DEFAULT_RETRY_AFTER = 60.0  # RingCentral's penalty window when a 429 carries no Retry-After


class RcinboxError(Exception):
    """Base of every error rcinbox raises on purpose."""


class ConfigError(RcinboxError):
    """A setting is missing or malformed; the message names the variable and what is expected."""


class UnknownSetting(ConfigError):
    """An ``RCINBOX_*`` variable rcinbox has no setting for (a typo, or a leftover): its ``name``,
    the ``source`` file (``None``: the environment) and the closest known name, if any."""

    def __init__(self, name: str, source: Path | None, guess: str | None) -> None:
        self.name, self.source, self.guess = name, source, guess
        where = f" in {source}" if source else ""
        hint = f" (did you mean {guess}?)" if guess else ""
        super().__init__(f"unknown setting {name}{where}{hint}")


class RulesError(RcinboxError):
    """The rules file is invalid: where (``path``, ``line`` when known) and why."""

    def __init__(self, path: str | Path, line: int | None, reason: str) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = reason
        where = f"{self.path}:{line}" if line is not None else str(self.path)
        super().__init__(f"{where}: {reason}")


class StoreError(RcinboxError):
    """The database failed (connection, schema, constraint other than deduplication)."""


class SchemaError(StoreError):
    """The archive's schema version does not fit this code: newer than it knows (a newer rcinbox
    wrote it), or older for a command that only reads. The message says which versions and what to
    run; nothing was changed."""


class StoreUnavailable(StoreError):
    """No connection to the database: a wrong URL, a server down or unreachable, credentials or a
    database name refused. The message names the database (its URL without the password) and the
    driver's reason, in one line."""


class NotOptedOut(RcinboxError):
    """An opt-out to lift that is not there: the number has not opted out (or it was lifted already)."""


class ClaimLost(RcinboxError):
    """A replica's claim on a reply ended while it waited (frozen longer than the heartbeat's
    ``within``: another replica took the reply over), or it cannot tell: the send is abandoned
    before a byte of it is written, and the row is left to whoever holds it now
    (:meth:`rcinbox.service.membership.Membership.fence`)."""


class StoreFull(StoreError):
    """The disk holding the database is full (SQLite ``SQLITE_FULL``, PostgreSQL ``53100``): nothing
    was written. A condition of the store, not of the message being handled: the loops back off and
    retry, and the work resumes by itself once there is space again."""


class TransportError(RcinboxError):
    """No HTTP answer: connect/read/write failure or timeout. ``sent`` is False when the request
    surely never reached the server (so even a non-idempotent request may be retried)."""

    def __init__(self, message: str, *, timeout: bool = False, sent: bool = True) -> None:
        super().__init__(message)
        self.timeout = timeout
        self.sent = sent


class DownloadRefused(RcinboxError):
    """A download URI is not on the configured platform's API or media hosts (the bearer token
    would be sent to a stranger)."""


class ListenError(RcinboxError):
    """The local HTTP server cannot listen on ``host:port``; the message names the address, the
    reason and the settings to change (``RCINBOX_PORT``/``--port``, ``RCINBOX_HOST``/``--host``)."""

    def __init__(self, host: str, port: int, exc: OSError) -> None:
        self.host = host
        self.port = port
        shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
        if exc.errno == errno.EADDRINUSE:
            what = "the port is already in use (another rcinbox?)"
            fix = "stop what uses it, or choose a free port with RCINBOX_PORT or --port"
        elif exc.errno == errno.EACCES:
            what = "permission denied (ports below 1024 need privileges)"
            fix = "choose a port above 1023 with RCINBOX_PORT or --port"
        else:
            what = exc.strerror or str(exc)
            fix = "check RCINBOX_HOST / --host (an address of this machine) and RCINBOX_PORT / --port"
        super().__init__(f"cannot listen on {shown}: {what}; {fix}")


class DataDirInUse(RcinboxError):
    """Another process holds the data directory's lock (:mod:`rcinbox.datalock`); ``pid`` is the
    one it wrote into the lock file, when it could be read."""

    def __init__(self, data_dir: Path, pid: int | None) -> None:
        self.data_dir = data_dir
        self.pid = pid
        who = f"another rcinbox (pid {pid})" if pid else "another rcinbox"
        super().__init__(
            f"{who} is already running with the data directory {data_dir}: stop it first, "
            "or give this one a data directory of its own (--data-dir, RCINBOX_DATA_DIR)"
        )


class ClassifierError(RcinboxError):
    """The intent classifier cannot be loaded: the ``embeddings`` extra is not installed, or a model
    file is missing or unreadable. The message says what to install or fix."""


class ModelChecksumError(ClassifierError):
    """A model or tokenizer file's SHA-256 is not the one rcinbox pins: it is refused, never run."""


class PlatformError(RcinboxError):
    """RingCentral answered with an error. ``error_code`` is the platform's code (``CMN-102``,
    ``OAU-213``, ``MSG-304``, or the OAuth ``error`` when no code is given); key on it, not on
    ``message``."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        body: Any = None,
        *,
        request: str = "",
    ) -> None:
        self.status = status
        self.error_code = error_code
        self.message = message
        self.body = body
        self.request = request  # "METHOD /path" (no query), for the message
        where = f" ({request})" if request else ""
        super().__init__(redact(f"HTTP {status} {error_code}: {message}{where}"))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status={self.status}, error_code={self.error_code!r})"


class AuthError(PlatformError):
    """The OAuth token endpoint refused. ``oauth_error`` is RFC 6749's ``error`` field."""

    def __init__(
        self, status: int, error_code: str, message: str, body: Any = None, *, request: str = ""
    ) -> None:
        super().__init__(status, error_code, message, body, request=request)
        self.oauth_error = str(body.get("error", "")) if isinstance(body, Mapping) else ""


class InvalidGrant(AuthError):
    """``invalid_grant``: the refresh token (or the JWT) is expired, revoked or superseded."""


class Unauthorized(PlatformError):
    """401 on an API call: the access token is missing, unknown, revoked or expired."""


class Forbidden(PlatformError):
    """403: a permission is missing or the resource belongs to someone else."""


class NotFound(PlatformError):
    """404: the resource does not exist (``CMN-102``) or the URI is invalid (``CMN-120``)."""


class RateLimited(PlatformError):
    """429: too many requests in the group; wait ``retry_after`` seconds (the penalty window)."""

    def __init__(
        self,
        status: int,
        error_code: str,
        message: str,
        body: Any = None,
        *,
        request: str = "",
        retry_after: float = DEFAULT_RETRY_AFTER,
    ) -> None:
        super().__init__(status, error_code, message, body, request=request)
        self.retry_after = retry_after


class ServerError(PlatformError):
    """5xx or 408: the platform failed or timed out; retrying later may succeed."""


def retry_after_seconds(headers: Mapping[str, str], now: datetime | None = None) -> float:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); the penalty window if absent."""
    value = headers.get("retry-after", "").strip()
    if not value:
        return DEFAULT_RETRY_AFTER
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return DEFAULT_RETRY_AFTER
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    if now is None:
        from rcinbox.clock import SYSTEM

        now = SYSTEM.now()
    return max(0.0, (when - now).total_seconds())


def _parse_body(response: httpx.Response) -> Any:
    try:
        return response.json()
    except ValueError:
        return None


def _code_and_message(status: int, body: Any, reason: str) -> tuple[str, str, bool]:
    """(errorCode, message, is_oauth_shape) from a REST or OAuth error body."""
    if not isinstance(body, Mapping):
        return f"HTTP-{status}", reason, False
    errors = body.get("errors")
    first: Mapping[str, Any] = errors[0] if isinstance(errors, list) and errors else {}
    first = first if isinstance(first, Mapping) else {}
    if "error" in body and isinstance(body["error"], str):  # OAuth: error, error_description, errors[]
        code = str(first.get("errorCode") or body["error"])
        message = str(body.get("error_description") or first.get("message") or body["error"])
        return code, message, True
    code = str(body.get("errorCode") or first.get("errorCode") or f"HTTP-{status}")
    message = str(body.get("message") or first.get("message") or reason)
    return code, message, False


def error_from_response(response: httpx.Response) -> PlatformError:
    """Translate a RingCentral error response into the matching :class:`PlatformError`."""
    status = response.status_code
    body = _parse_body(response)
    code, message, oauth = _code_and_message(status, body, response.reason_phrase or "error")
    request = f"{response.request.method} {response.request.url.path}"
    if status == 429:
        wait = retry_after_seconds(response.headers)
        return RateLimited(status, code, message, body, request=request, retry_after=wait)
    if oauth:
        grant = isinstance(body, Mapping) and body.get("error") == "invalid_grant"
        return (InvalidGrant if grant else AuthError)(status, code, message, body, request=request)
    kinds: dict[int, type[PlatformError]] = {
        401: Unauthorized,
        403: Forbidden,
        404: NotFound,
        408: ServerError,
    }
    kind = kinds.get(status, ServerError if status >= 500 else PlatformError)
    return kind(status, code, message, body, request=request)


@contextlib.contextmanager
def transport_errors(method: str, url: httpx.URL | str) -> Iterator[None]:
    """Translate httpx transport failures inside the block into :class:`TransportError`."""
    import httpx

    try:
        yield
    except httpx.TransportError as exc:
        path = httpx.URL(url).path if isinstance(url, str) else url.path
        detail = redact(str(exc)) or type(exc).__name__
        not_sent = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
        raise TransportError(
            f"{method} {path}: {type(exc).__name__}: {detail}",
            timeout=isinstance(exc, httpx.TimeoutException),
            sent=not isinstance(exc, not_sent),
        ) from exc
