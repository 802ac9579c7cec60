"""Who may send SMS for which extension: the platform lets only an extension's own user send from
its numbers (PLATFORM.md §5.1 — not even a super admin may send for someone else).

A super admin's JWT can *receive* for several extensions (``RCINBOX_EXTENSIONS``), but a reply for
another user's extension must go out under that user's own session. :func:`open_senders` opens,
for every configured extension other than the JWT user's own that has a credential in
``RCINBOX_SENDER_JWTS``, a second :class:`~rcinbox.platform.client.PlatformClient` (its own
session, saved to ``DATA_DIR/tokens-<extension id>.json``, mode 0600) and checks at start that the
JWT logs in as that very extension. Extensions without one are named once in a warning: their
messages are still archived and decided, and a reply is recorded as suppressed with the reason
``no-sender-credential`` (the pipeline asks :meth:`Senders.can_send`).

The result, :class:`Senders`, maps extension id → client; the outbox sends each reply with the
client of the row's extension.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import AsyncIterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from rcinbox.errors import AuthError, ConfigError
from rcinbox.platform import Credentials, PlatformClient
from rcinbox.platform.retry import Fence
from rcinbox.settings import Settings
from rcinbox.wire import MessageRecord

log = logging.getLogger("rcinbox.service")

NO_SENDER = "no-sender-credential"


class SenderClient(Protocol):
    """What sending a reply needs from :class:`~rcinbox.platform.client.PlatformClient`."""

    async def send_sms(
        self, from_number: str, to_number: str, text: str, ext: str = "~", *, fence: Fence | None = None
    ) -> MessageRecord: ...

    async def list_messages(self, ext: str = "~", **filters: Any) -> Sequence[MessageRecord]: ...


@dataclass(frozen=True, eq=False)
class Senders:
    """The clients allowed to send: ``own`` is the JWT user's extension (sent for by the main
    client), ``others`` the extensions with their own sender credential."""

    own: str
    others: Mapping[str, SenderClient] = field(default_factory=dict)

    def can_send(self, extension_id: str) -> bool:
        return extension_id == self.own or extension_id in self.others

    def __repr__(self) -> str:
        return f"Senders(own={self.own!r}, others={sorted(self.others)!r})"


@contextlib.asynccontextmanager
async def open_senders(
    settings: Settings, main: PlatformClient, extensions: Sequence[str], **options: Any
) -> AsyncIterator[Senders]:
    """Log in each configured sender credential (closed on exit); warn about the extensions that
    have none. ``options`` go to :meth:`PlatformClient.open` (tests)."""
    own = main.auth.owner_id or (await main.extension_info()).id
    async with contextlib.AsyncExitStack() as stack:
        others: dict[str, SenderClient] = {}
        for ext in extensions:
            jwt = settings.sender_jwts.get(ext)
            if ext in (own, "~"):
                if jwt is not None:
                    log.warning(
                        "RCINBOX_SENDER_JWTS has an entry for extension %s, the RC_USER_JWT user "
                        "itself; it is not needed and not used",
                        ext,
                        extra={"action": "senders.redundant"},
                    )
            elif jwt is None:
                log.warning(
                    "replies for extension %s need RCINBOX_SENDER_JWTS (an %s=JWT entry with that "
                    "user's own JWT): the platform lets no one else send from its numbers; its "
                    "messages are archived and decided, replies recorded as %s",
                    ext,
                    ext,
                    NO_SENDER,
                    extra={"action": "senders.missing"},
                )
            else:
                others[ext] = await stack.enter_async_context(_sender(settings, ext, jwt, options))
        if others:
            log.info(
                "sending replies for extension(s) %s with their own credentials",
                ", ".join(others),
                extra={"action": "senders.ready"},
            )
        yield Senders(own, others)


@contextlib.asynccontextmanager
async def _sender(
    settings: Settings, ext: str, jwt: str, options: Mapping[str, Any]
) -> AsyncIterator[PlatformClient]:
    """A client logged in with ``ext``'s sender JWT, refused unless its session is ``ext``'s."""
    credentials = Credentials(settings.server_url, settings.client_id, settings.client_secret, jwt)
    async with contextlib.AsyncExitStack() as stack:
        try:
            client = await stack.enter_async_context(
                PlatformClient.open(credentials, token_file=settings.sender_token_file(ext), **options)
            )
        except AuthError as exc:
            raise ConfigError(
                f"RCINBOX_SENDER_JWTS: the JWT for extension {ext} was refused by the platform "
                f"({exc.error_code}: {exc.message}); give that user's own, valid JWT"
            ) from exc
        owner = client.auth.owner_id
        if owner != ext:
            raise ConfigError(
                f"RCINBOX_SENDER_JWTS: the JWT given for extension {ext} logs in as extension "
                f"{owner or '(unknown)'}; give the JWT of extension {ext}'s own user"
            )
        yield client
