"""Reading and validating a send request (``POST …/sms`` and ``…/mms``) with RingCentral's error codes.

Accepted bodies: ``application/json`` (``CreateSMSMessage``) and ``multipart/form-data`` or
``multipart/mixed`` whose JSON part (``Content-Type: application/json``, or the first part) holds
``from``/``to``/``text`` and whose other parts, under any names, are the MMS attachments.

Checks, in the platform's order, with the codes of PLATFORM.md §5.3 and the spec's error table: the
path names an extension other than the caller's own → 403 CMN-419 (:func:`check_caller`: no one
sends for another user, not even a super admin, PLATFORM.md §5.1); missing ``from``/``to``/``text``
→ 400 CMN-100; a ``from`` number unknown to the account → 400 MSG-245, another extension's → 403
MSG-304, without ``SmsSender`` (``MmsSender`` for MMS) → 403 MSG-242; recipients: junk → 400
CMN-101, ``extensionNumber`` → 400 MSG-246, short codes → 400 MSG-247, duplicates → 400 CMN-406;
text over ``limits.sms_max_chars`` UTF-16 units → 400 CMN-101; attachments: more than
``limits.mms_max_attachments`` → 400 MSG-379, empty → 400 MSG-347, unsupported type → 415 MSG-348,
one over ``limits.mms_max_bytes`` → 400 MSG-337, all together over it → 400 MSG-338.
"""

from __future__ import annotations

import base64
import binascii
import mimetypes
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage, Message
from email.policy import HTTP
from typing import Any

from rcinbox.emulator import phones
from rcinbox.emulator.model import Extension
from rcinbox.emulator.rest.compose import Upload
from rcinbox.emulator.wire import ApiError, ApiRequest, mandatory
from rcinbox.emulator.world import Limits, World

MMS_TYPES = frozenset(
    {
        *(f"image/{t}" for t in ("jpeg", "png", "bmp", "gif", "tiff", "svg+xml", "webp")),
        *(
            f"video/{t}"
            for t in ("3gpp", "mp4", "mpeg", "avi", "x-flv", "x-ms-wmv", "quicktime", "webm", "ogg")
        ),
        *(f"audio/{t}" for t in ("mpeg", "mp4", "ogg", "wav", "amr", "3gpp")),
        "text/vcard",
        *(f"application/{t}" for t in ("zip", "gzip", "rtf", "pdf")),
        *(f"text/{t}" for t in ("html", "plain", "csv", "calendar")),
    }
)


@dataclass(frozen=True)
class Outgoing:
    """A validated send request."""

    from_number: str
    to_numbers: tuple[str, ...]
    text: str
    uploads: tuple[Upload, ...]


def parse_request(request: ApiRequest) -> tuple[dict[str, Any], list[Upload]]:
    """The JSON body and the attached files, whatever the accepted content type."""
    if request.content_type.startswith("multipart/"):
        return _multipart(request)
    return request.json_object(), []


def _headers(raw: bytes) -> Message:
    return message_from_bytes(raw + b"\r\n\r\n", policy=HTTP)


def _multipart(request: ApiRequest) -> tuple[dict[str, Any], list[Upload]]:
    envelope = EmailMessage(policy=HTTP)
    envelope["Content-Type"] = request.headers.get("content-type", "")
    boundary = envelope.get_boundary()
    if not boundary:
        raise ApiError(400, "CMN-104", "Cannot parse request")
    sections = (b"\r\n" + request.body).split(b"\r\n--" + boundary.encode("latin-1"))
    parts: list[tuple[Message, bytes]] = []
    for section in sections[1:]:
        if section.startswith(b"--"):
            break
        head, found, content = section.partition(b"\r\n\r\n")
        if not found:
            raise ApiError(400, "CMN-104", "Cannot parse request")
        headers = _headers(head.strip())
        if str(headers.get("content-transfer-encoding", "")).lower() == "base64":
            try:
                content = base64.b64decode(content)
            except (ValueError, binascii.Error):
                raise ApiError(400, "CMN-104", "Cannot parse request") from None
        parts.append((headers, content))
    return _split_parts(parts)


def _split_parts(parts: list[tuple[Message, bytes]]) -> tuple[dict[str, Any], list[Upload]]:
    json_index = next(
        (i for i, (h, _) in enumerate(parts) if h.get_content_type() == "application/json"),
        0 if parts and parts[0][1].lstrip().startswith(b"{") else None,
    )
    if json_index is None:
        raise mandatory("from")
    body = ApiRequest("POST", "", body=parts[json_index][1]).json_object()
    uploads = []
    for i, (headers, content) in enumerate(parts):
        if i == json_index:
            continue
        name = headers.get_filename()
        declared = headers.get_content_type() if "content-type" in headers else None
        guessed = mimetypes.guess_type(name)[0] if name else None
        kind = declared if declared not in (None, "application/octet-stream") else guessed or declared
        uploads.append(Upload((kind or "application/octet-stream").lower(), content, name))
    return body, uploads


def _number(value: Any, parameter: str) -> phones.Parsed:
    raw = value.get("phoneNumber") if isinstance(value, dict) else None
    if raw is None or raw == "":
        raise mandatory(parameter)
    parsed = phones.parse(raw) if isinstance(raw, str) else None
    if parsed is None:
        raise ApiError(
            400, "CMN-101", f"Parameter [{parameter}] value is invalid.", parameter=parameter, value=str(raw)
        )
    return parsed


def check_caller(caller_extension_id: int, ext: Extension) -> None:
    """Sending is only for the session's own extension: a super admin may read another extension's
    message store but not send for it (DOCS:docs/messaging/sms/sending-sms.md; the platform answers
    CMN-419 naming the OutboundSMS permission, community.ringcentral.com topic 9547)."""
    if caller_extension_id != ext.id:
        raise ApiError(
            403,
            "CMN-419",
            "In order to call this API endpoint for another extension, one of the following "
            "permissions [OutboundSMS] have to be granted with extended scope to the authorized user.",
        )


def check_sender(world: World, ext: Extension, body: dict[str, Any], mms: bool) -> str:
    """The ``from`` number, after the ownership and feature checks."""
    if "from" not in body:
        raise mandatory("from")
    number = _number(body["from"], "from.phoneNumber").number
    owned = next((pn for pn in ext.phone_numbers if pn.phone_number == number), None)
    if owned is None:
        if world.mailbox.owner(number) is not None or number in world.company_numbers:
            raise ApiError(403, "MSG-304", "Phone number doesn't belong to extension")
        raise ApiError(
            400,
            "MSG-245",
            f"Parameter [from] value [{number}] is invalid "
            "[Cannot find the phone number which belongs to user]",
            parameter="from",
            value=number,
        )
    if "SmsSender" not in owned.features or (mms and "MmsSender" not in owned.features):
        raise ApiError(403, "MSG-242", "Sending SMS is not available from the number specified.")
    return number


def check_recipients(body: dict[str, Any]) -> tuple[str, ...]:
    to = body.get("to")
    if not to:
        raise mandatory("to")
    if not isinstance(to, list):
        raise ApiError(400, "CMN-101", "Parameter [to] value is invalid.", parameter="to")
    numbers: list[str] = []
    for item in to:
        if isinstance(item, dict) and item.get("extensionNumber"):
            raise ApiError(400, "MSG-246", "Sending SMS from/to extension numbers is not available")
        parsed = _number(item, "to.phoneNumber")
        if parsed.short:
            raise ApiError(400, "MSG-247", "Sending SMS to short numbers is not available")
        if parsed.number in numbers:
            raise ApiError(
                400,
                "CMN-406",
                f"Duplicate value for parameter to: {parsed.number} found in request",
                parameter="to",
                value=parsed.number,
            )
        numbers.append(parsed.number)
    return tuple(numbers)


def check_text(body: dict[str, Any], limits: Limits, required: bool) -> str:
    text = body.get("text")
    if text is None or (required and text == ""):
        if required:
            raise mandatory("text")
        return ""
    if not isinstance(text, str) or len(text.encode("utf-16-le")) // 2 > limits.sms_max_chars:
        raise ApiError(400, "CMN-101", "Parameter [text] value is invalid.", parameter="text")
    return text


def check_uploads(uploads: list[Upload], limits: Limits) -> tuple[Upload, ...]:
    if len(uploads) > limits.mms_max_attachments:
        raise ApiError(400, "MSG-379", "Too many attachments")
    total = 0
    for index, upload in enumerate(uploads, start=1):
        label = upload.file_name or ""
        if not upload.content:
            raise ApiError(400, "MSG-347", f"Attachment [{label or index}] body is empty")
        if upload.content_type not in MMS_TYPES:
            raise ApiError(
                415, "MSG-348", f"Unsupported attachment media type, attachment [{index}]: [{label}]"
            )
        if len(upload.content) > limits.mms_max_bytes:
            raise ApiError(400, "MSG-337", "Attachment size limit exceeded")
        total += len(upload.content)
    if total > limits.mms_max_bytes:
        raise ApiError(400, "MSG-338", "Message size limit exceeded")
    return tuple(uploads)


def read_outgoing(world: World, ext: Extension, request: ApiRequest, mms_endpoint: bool) -> Outgoing:
    body, uploads = parse_request(request)
    mms = mms_endpoint or bool(uploads)
    if "from" not in body:
        raise mandatory("from")
    if not body.get("to"):
        raise mandatory("to")
    if mms_endpoint and not uploads:
        raise mandatory("attachments")
    text = check_text(body, world.limits, required=not mms)
    sender = check_sender(world, ext, body, mms)
    return Outgoing(sender, check_recipients(body), text, check_uploads(uploads, world.limits))
