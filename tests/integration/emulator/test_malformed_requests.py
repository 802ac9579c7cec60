"""Bad input gets RingCentral's own error shapes, never a stack trace: malformed JSON, wrong
content types, unknown paths and methods, oversized bodies, garbage bodies and headers."""

from __future__ import annotations

import random
from collections.abc import AsyncIterator

import httpx
import pytest
from support import login

from rcinbox.emulator.routing import Call, Routes
from rcinbox.emulator.runner import Running
from rcinbox.emulator.wire import ApiResponse, json_response

PROBE = "/restapi/v1.0/test-probe"


@pytest.fixture
def probe(emu: Running) -> None:
    """A test-only JSON endpoint, so the dispatcher's handling is tested apart from any API module."""
    routes = Routes()

    @routes.post(PROBE, group="Medium")
    async def echo(call: Call) -> ApiResponse:
        return json_response({"got": call.request.json()})

    @routes.get(PROBE, group="Light")
    async def crash(call: Call) -> ApiResponse:
        raise RuntimeError("a bug in a handler")

    emu.emulator.routes.include(routes)


def assert_rest_error(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status
    assert response.headers["content-type"] == "application/json;charset=UTF-8"
    body = response.json()
    assert body["errorCode"] == code
    assert body["errors"][0]["errorCode"] == code
    assert "Traceback" not in response.text


async def test_malformed_json_is_cmn_103(http: httpx.AsyncClient, emu: Running, probe: None) -> None:
    token = await login(http, emu)
    headers = {"Authorization": f"Bearer {token['access_token']}", "Content-Type": "application/json"}
    for body in (b'{"text": "unterminated', b"\xff\xfe\x00garbage", b"{'single': 'quotes'}"):
        answer = await http.post(PROBE, content=body, headers=headers)
        assert_rest_error(answer, 400, "CMN-103")
        assert answer.json()["message"] == "JSON can't be parsed."
    good = await http.post(PROBE, json={"a": 1}, headers={"Authorization": headers["Authorization"]})
    assert good.json() == {"got": {"a": 1}}


async def test_malformed_json_on_a_real_endpoint_is_cmn_103(http: httpx.AsyncClient, emu: Running) -> None:
    token = await login(http, emu)
    answer = await http.post(
        "/restapi/v1.0/subscription",
        content=b'{"eventFilters": [',
        headers={"Authorization": f"Bearer {token['access_token']}", "Content-Type": "application/json"},
    )
    assert_rest_error(answer, 400, "CMN-103")


@pytest.mark.parametrize(
    "content_type", ["text/plain", "application/x-www-form-urlencoded", "application/xml"]
)
async def test_a_body_that_is_not_json_is_415(
    http: httpx.AsyncClient, emu: Running, probe: None, content_type: str
) -> None:
    token = await login(http, emu)
    answer = await http.post(
        PROBE,
        content=b'{"a": 1}',
        headers={"Authorization": f"Bearer {token['access_token']}", "Content-Type": content_type},
    )
    assert_rest_error(answer, 415, "CMN-415")
    assert answer.json()["message"] == "Unsupported content-type. Accept: application/json"
    assert answer.headers["X-Rate-Limit-Group"] == "medium"


async def test_vendor_json_and_missing_content_type_are_read_as_json(
    http: httpx.AsyncClient, emu: Running, probe: None
) -> None:
    token = await login(http, emu)
    auth = f"Bearer {token['access_token']}"
    vendor = await http.post(
        PROBE, content=b"[1]", headers={"Authorization": auth, "Content-Type": "application/vnd.x+json"}
    )
    assert vendor.json() == {"got": [1]}
    bare = await http.post(PROBE, content=b"[2]", headers={"Authorization": auth})
    assert bare.json() == {"got": [2]}


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/restapi/v1.0/no-such-thing"),
        ("GET", "/"),
        ("POST", "/restapi/oauth/authorize-nothing"),
        ("GET", "/restapi/v1.0/account/%ZZ/extension/~/\u00e9"),
        ("GET", "/_emulator/no-such-control"),
    ],
)
async def test_unknown_paths_and_methods_are_cmn_120(http: httpx.AsyncClient, method: str, path: str) -> None:
    answer = await http.request(method, path)
    assert_rest_error(answer, 404, "CMN-120")
    assert answer.json() == {
        "errorCode": "CMN-120",
        "message": "Invalid URI",
        "errors": [{"errorCode": "CMN-120", "message": "Invalid URI"}],
    }
    assert answer.headers["RCRequestId"]


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/restapi/oauth/token", "POST"),
        ("TRACE", "/restapi/v1.0/account/~/extension/~", "GET"),
        ("PATCH", "/restapi/v1.0/subscription", "GET, POST"),
        ("PUT", "/_emulator/inbound", "POST"),
        ("POST", "/_emulator/state", "GET"),
        ("PUT", "/_emulator/faults", "DELETE, GET, POST"),
    ],
)
async def test_a_wrong_method_on_a_known_path_is_405(
    http: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    answer = await http.request(method, path)
    assert_rest_error(answer, 405, "CMN-120")
    assert answer.json()["message"] == "Invalid URI"
    assert answer.headers["Allow"] == allow
    assert answer.headers["RCRequestId"]


async def test_an_exotic_method_gets_a_ringcentral_shaped_405(http: httpx.AsyncClient) -> None:
    answer = await http.request("PROPFIND", "/restapi/v1.0/account/~/extension/~")
    assert_rest_error(answer, 405, "CMN-120")


async def test_oversized_bodies_are_413_with_or_without_content_length(http: httpx.AsyncClient) -> None:
    declared = await http.post("/restapi/v1.0/subscription", content=b"x" * (21 * 1024 * 1024))
    assert_rest_error(declared, 413, "CMN-116")
    assert declared.headers["RCRequestId"]
    for control in ("/_emulator/inbound", "/_emulator/faults"):
        assert_rest_error(await http.post(control, content=b"x" * (21 * 1024 * 1024)), 413, "CMN-116")

    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(22):
            yield b"y" * (1024 * 1024)

    streamed = await http.post("/restapi/oauth/token", content=chunks())
    assert_rest_error(streamed, 413, "CMN-116")


async def test_a_handler_bug_is_a_500_cmn_201_without_a_stack_trace(
    http: httpx.AsyncClient, emu: Running, probe: None
) -> None:
    token = await login(http, emu)
    answer = await http.get(PROBE, headers={"Authorization": f"Bearer {token['access_token']}"})
    assert_rest_error(answer, 500, "CMN-201")
    assert answer.json()["message"] == "Service Temporary Unavailable"
    assert "a bug in a handler" not in answer.text


@pytest.mark.parametrize(
    "authorization",
    [b"Bearer", b"Basic Zm9vOmJhcg==", b"Token abc", b"Bearer a b c", "Bearer \u00e9t\u00e9".encode()],
)
async def test_garbage_authorization_headers_are_401(http: httpx.AsyncClient, authorization: bytes) -> None:
    answer = await http.get("/restapi/v1.0/account/~/extension/~", headers={"Authorization": authorization})
    assert answer.status_code == 401
    assert answer.json()["errorCode"] in ("AGW-401", "TokenInvalid")


async def test_random_garbage_never_crashes_the_emulator(http: httpx.AsyncClient, emu: Running) -> None:
    """Seeded garbage bodies and content types against every writing endpoint: always a shaped 4xx."""
    token = await login(http, emu)
    emu.emulator.ratelimiter.configure(enabled=False)
    rng = random.Random(20260)
    targets = [
        ("POST", "/restapi/oauth/token", {}),
        ("POST", "/restapi/oauth/revoke", {}),
        ("POST", "/restapi/oauth/wstoken", {"Authorization": f"Bearer {token['access_token']}"}),
        ("POST", "/restapi/v1.0/subscription", {"Authorization": f"Bearer {token['access_token']}"}),
        (
            "POST",
            "/restapi/v1.0/account/~/extension/~/sms",
            {"Authorization": f"Bearer {token['access_token']}"},
        ),
        ("POST", "/_emulator/faults", {}),
    ]
    content_types = [
        "application/json",
        "application/x-www-form-urlencoded",
        "text/plain",
        "multipart/form-data",
    ]
    for _ in range(12):
        body = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
        for method, path, headers in targets:
            sent = {**headers, "Content-Type": rng.choice(content_types)}
            answer = await http.request(method, path, content=body, headers=sent)
            assert answer.status_code < 500, (path, answer.status_code, answer.text)
            if path == "/restapi/oauth/wstoken":
                continue  # ignores its body (the Python SDK posts one), so garbage is fine
            assert answer.status_code >= 400, (path, answer.status_code, answer.text)
            error = answer.json()
            assert "errorCode" in error or "error" in error
