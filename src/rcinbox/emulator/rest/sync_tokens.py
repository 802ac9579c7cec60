"""FSync and ISync as message-sync and address-book-sync share them: the ``syncType`` parameter
and the opaque sync tokens, which name their kind, the extension they belong to and where the
sync stands (a change number, a time)."""

from __future__ import annotations

from rcinbox.emulator.wire import ApiRequest, decode_token, encode_token, invalid_parameter


def sync_type(request: ApiRequest) -> str:
    """``syncType``: ``FSync`` (the default) or ``ISync``; anything else is CMN-101."""
    raw = request.arg("syncType") or "FSync"
    if raw not in ("FSync", "ISync"):
        raise invalid_parameter("syncType", raw)
    return raw


def make(kind: str, extension_id: int, position: str) -> str:
    return encode_token(f"{kind}.{extension_id}.{position}".encode())


def position(kind: str, extension_id: int, token: str) -> str | None:
    """Where a token of this kind and extension says the sync stands; ``None`` for any other."""
    try:
        found, owner, at = decode_token(token).decode().split(".", 2)
    except ValueError:  # not base64, not UTF-8, not three parts
        return None
    return at if (found, owner) == (kind, str(extension_id)) else None
