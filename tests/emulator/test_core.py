from __future__ import annotations

import httpx

from rcinbox.emulator.runner import Running


async def test_unknown_path_gets_ringcentral_error_shape(http: httpx.AsyncClient) -> None:
    response = await http.get("/restapi/v1.0/no-such-thing")
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("application/json")
    assert response.json() == {
        "errorCode": "CMN-120",
        "message": "Invalid URI",
        "errors": [{"errorCode": "CMN-120", "message": "Invalid URI"}],
    }
    assert response.headers["RCRequestId"]


async def test_oversized_body_is_refused_unread(http: httpx.AsyncClient, emu: Running) -> None:
    response = await http.post("/restapi/v1.0/subscription", content=b"x" * (21 * 1024 * 1024))
    assert response.status_code == 413
    assert response.json()["errorCode"] == "CMN-116"
