"""Drives a RingCentral server (the rcinbox emulator in tests) with RingCentral's official Python SDK.

Runs in its own virtual environment (``.venv-sdk``: ``ringcentral==0.9.2`` pins websockets 15),
never imported by the test suite. Env: RC_SERVER, RC_CLIENT_ID, RC_CLIENT_SECRET, RC_JWT, RC_FROM
(a number of the JWT's extension), RC_TO, RC_TEXT.

Prints one JSON object per line on stdout:
  {"step": "login", "ownerId", "expiresIn"}
  {"step": "sms", "status", "body"}                 POST .../sms (JSON)
  {"step": "mms", "status", "body"}                 POST .../mms (the SDK's MultipartBuilder)
  {"step": "store", "records"}                      GET .../message-store?direction=Outbound
  {"step": "message", "body"}                       GET .../message-store/{mms id}
  {"step": "content", "contentType", "bytes"}       the MMS attachment, downloaded from its uri
  {"step": "refresh", "tokenChanged"}
  {"step": "logout", "status"}
then exits 0; on failure {"step": "error", "message"} and exit code 1.
"""

from __future__ import annotations

import json
import os
import re
import sys
from typing import Any

from ringcentral import SDK

PIXEL = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d4944415478da63f8cfc0f01f0005000201a0f1f3f20000000049454e44ae426082"
)
EXTENSION = "/restapi/v1.0/account/~/extension/~"


def emit(**line: Any) -> None:
    print(json.dumps(line), flush=True)


def main() -> None:
    env = os.environ
    sdk = SDK(env["RC_CLIENT_ID"], env["RC_CLIENT_SECRET"], env["RC_SERVER"])
    platform = sdk.platform()

    login = platform.login(jwt=env["RC_JWT"]).json_dict()
    emit(step="login", ownerId=login["owner_id"], expiresIn=login["expires_in"])

    message = {
        "from": {"phoneNumber": env["RC_FROM"]},
        "to": [{"phoneNumber": env["RC_TO"]}],
        "text": env["RC_TEXT"],
    }
    sms = platform.post(EXTENSION + "/sms", message)
    emit(step="sms", status=sms.response().status_code, body=sms.json_dict())

    builder = sdk.create_multipart_builder()
    builder.set_body({**message, "text": env["RC_TEXT"] + " (with a picture)"})
    builder.add(("pixel.png", PIXEL, "image/png"))
    mms = platform.send_request(builder.request(EXTENSION + "/mms"))
    mms_body = mms.json_dict()
    emit(step="mms", status=mms.response().status_code, body=mms_body)

    store = platform.get(EXTENSION + "/message-store", {"direction": "Outbound", "messageType": "SMS"})
    emit(step="store", records=store.json_dict()["records"])

    read = platform.get(f"{EXTENSION}/message-store/{mms_body['id']}")
    emit(step="message", body=read.json_dict())

    picture = next(a for a in mms_body["attachments"] if a["type"] == "MmsAttachment")
    content = platform.get(picture["uri"])
    emit(
        step="content",
        contentType=content.response().headers.get("Content-Type"),
        bytes=content.body().hex(),
    )

    before = platform.auth().access_token()
    platform.refresh()
    emit(step="refresh", tokenChanged=platform.auth().access_token() != before)

    logout = platform.logout()
    emit(step="logout", status=logout.response().status_code)


if __name__ == "__main__":
    try:
        main()
    except Exception as exc:  # report to the harness, never a token (ApiException prints headers)
        emit(step="error", message=re.sub(r"(?i)(bearer|basic)\s+[\w.~+/=-]+", r"\1 ***", repr(exc)))
        sys.exit(1)
