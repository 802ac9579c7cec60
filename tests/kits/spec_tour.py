"""A scripted tour of every endpoint the emulator serves, successes and typical errors.

Each step talks to a served emulator like a client would (REST through an httpx client whose
:class:`~openapi_spec.Recorder` hook keeps every answer, WebSocket ``ClientRequest`` frames,
a real WebHook receiver) and notes where a status differs from what RingCentral would answer
(``surprises``). The test then validates every recorded answer and every notification against
the official spec. Statuses named here follow PLATFORM.md.
"""

from __future__ import annotations

import base64
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson
from openapi_spec import Recorder
from tour_io import GatewayClient, gateway, hook_receiver

from rcinbox.emulator.runner import Running

TOKEN = "/restapi/oauth/token"
JWT_GRANT = "urn:ietf:params:oauth:grant-type:jwt-bearer"
ME = "/restapi/v1.0/account/~/extension/~"
SUBSCRIPTION = "/restapi/v1.0/subscription"
INSTANT = ME + "/message-store/instant?type=SMS"
STORE_EVENTS = ME + "/message-store"
REMINDER = "/restapi/v1.0/subscription/~?threshold=60&interval=30"  # quiet: far from expiry here
STRANGER = "+14155550123"
PNG = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8DwHwAFBQIAX8jx0gAAAABJRU5ErkJggg=="
)


@dataclass
class Tour:
    emu: Running
    rest: httpx.AsyncClient
    recorder: Recorder
    surprises: list[str] = field(default_factory=list)
    notifications: list[tuple[str, Any]] = field(default_factory=list)  # (transport, envelope)
    tokens: dict[str, str] = field(default_factory=dict)  # who -> access token

    def expect(self, response: httpx.Response, *statuses: int) -> httpx.Response:
        if response.status_code not in statuses:
            request = response.request
            self.surprises.append(
                f"{request.method} {request.url.path}: expected {statuses}, got {response.status_code} "
                f"{response.text[:300]}"
            )
        return response

    def bearer(self, who: str = "alex") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[who]}"}

    @property
    def basic(self) -> tuple[str, str]:
        app = self.emu.world.app
        return app.client_id, app.client_secret

    async def login(self, index: int) -> dict[str, Any]:
        jwt = self.emu.world.extensions[index].jwt
        response = await self.rest.post(
            TOKEN, data={"grant_type": JWT_GRANT, "assertion": jwt}, auth=self.basic
        )
        self.expect(response, 200)
        token: dict[str, Any] = response.json()
        return token

    def json_of(self, response: httpx.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return {}


async def run(tour: Tour) -> None:
    # The tour makes more token and Heavy calls than the Auth group's 5 and the Heavy group's 10 per
    # minute allow; the 429 itself is exercised separately (rate_limit below), with RingCentral's
    # default numbers.
    roomy = {"rateLimits": {"Auth": 100, "Heavy": 100}}
    tour.expect(await tour.rest.post("/_emulator/faults", json=roomy), 200)
    for step in (oauth, accounts, messaging, subscriptions):
        await guarded(tour, step)
    tour.expect(await tour.rest.delete("/_emulator/faults"), 200)  # default limits, counters reset
    await guarded(tour, rate_limit)
    await guarded(tour, faults)


async def guarded(tour: Tour, step: Callable[[Tour], Awaitable[None]]) -> None:
    """Run one step; a crash (an endpoint missing, a frame never answered) becomes a surprise."""
    try:
        await step(tour)
    except Exception as exc:  # the tour goes on, so one broken endpoint hides no other finding
        tour.surprises.append(f"step {step.__name__} stopped: {exc!r}")


async def oauth(t: Tour) -> None:
    alex_jwt = t.emu.world.extensions[0].jwt
    jwt_form = {"grant_type": JWT_GRANT, "assertion": alex_jwt}
    t.expect(await t.rest.post(TOKEN, data=jwt_form), 400, 401)  # no client authentication
    t.expect(await t.rest.post(TOKEN, data=jwt_form, auth=("nobody", "wrong")), 400, 401)
    t.expect(await t.rest.post(TOKEN, json=jwt_form, auth=t.basic), 415)
    bad_jwt = {"grant_type": JWT_GRANT, "assertion": "not-a-credential-of-this-account"}
    t.expect(await t.rest.post(TOKEN, data=bad_jwt, auth=t.basic), 400)
    t.expect(await t.rest.post(TOKEN, data={"grant_type": "password"}, auth=t.basic), 400)

    first = await t.login(0)
    refreshed = t.expect(
        await t.rest.post(
            TOKEN,
            data={"grant_type": "refresh_token", "refresh_token": str(first.get("refresh_token"))},
            auth=t.basic,
        ),
        200,
    )
    t.tokens["alex"] = str(t.json_of(refreshed).get("access_token", first.get("access_token")))
    garbage = {"grant_type": "refresh_token", "refresh_token": "U1BCMDFUMDRKV1MwMXunknown"}
    t.expect(await t.rest.post(TOKEN, data=garbage, auth=t.basic), 400)
    t.tokens["blair"] = str((await t.login(1)).get("access_token"))

    doomed = await t.login(0)
    form = {"token": str(doomed.get("access_token"))}
    t.expect(await t.rest.post("/restapi/oauth/revoke", data=form, auth=t.basic), 200)
    revoked = {"Authorization": f"Bearer {doomed.get('access_token')}"}
    t.expect(await t.rest.get(ME, headers=revoked), 401)
    t.expect(await t.rest.post("/restapi/oauth/revoke", data=form), 400, 401)
    t.expect(await t.rest.post("/restapi/oauth/wstoken", headers=t.bearer()), 200)
    t.expect(await t.rest.post("/restapi/oauth/wstoken"), 401)


async def accounts(t: Tour) -> None:
    world = t.emu.world
    alex, blair = world.extensions[0], world.extensions[1]
    t.expect(await t.rest.get(ME, headers=t.bearer()), 200)
    t.expect(await t.rest.get(ME), 401)
    t.expect(await t.rest.get(ME, headers={"Authorization": "Bearer garbage"}), 401)
    other = f"/restapi/v1.0/account/{world.account_id}/extension/{blair.id}"
    t.expect(await t.rest.get(other, headers=t.bearer()), 200)  # a super admin may read others
    alex_path = f"/restapi/v1.0/account/~/extension/{alex.id}"
    t.expect(await t.rest.get(alex_path, headers=t.bearer("blair")), 403)
    t.expect(await t.rest.get("/restapi/v1.0/account/~/extension/1234", headers=t.bearer()), 404)
    t.expect(await t.rest.get(ME + "/phone-number", headers=t.bearer()), 200)
    t.expect(await t.rest.get(ME + "/phone-number", params={"perPage": "max"}, headers=t.bearer()), 200)
    numbers = "/restapi/v1.0/account/~/phone-number"
    t.expect(await t.rest.get(numbers, params={"perPage": 2, "page": 2}, headers=t.bearer()), 200)
    t.expect(await t.rest.get(numbers, params={"perPage": 5000}, headers=t.bearer()), 200)
    t.expect(await t.rest.get(numbers, params={"usageType": "Nope"}, headers=t.bearer()), 400)
    t.expect(await t.rest.get(numbers, headers=t.bearer("blair")), 403)  # ReadCompanyPhoneNumbers
    directory = "/restapi/v1.0/account/~/directory/entries"
    t.expect(await t.rest.get(directory, headers=t.bearer("blair")), 200)  # any user may read it
    t.expect(await t.rest.get(directory, params={"perPage": 1, "page": 2}, headers=t.bearer()), 200)
    t.expect(await t.rest.get(directory, params={"showFederated": "false"}, headers=t.bearer()), 200)

    book = ME + "/address-book/contact"
    listed = t.expect(await t.rest.get(book, headers=t.bearer()), 200)
    t.expect(await t.rest.get(book, params={"perPage": 0}, headers=t.bearer()), 200)  # counts only
    t.expect(await t.rest.get(book, params={"perPage": 1001}, headers=t.bearer()), 200)  # 1000 applied
    query = {"phoneNumber": "+14155550100"}
    t.expect(await t.rest.get(book, params=query, headers=t.bearer()), 200)
    records = t.json_of(listed).get("records") or [{"id": 0}]
    t.expect(await t.rest.get(f"{book}/{records[0]['id']}", headers=t.bearer()), 200)
    t.expect(await t.rest.get(f"{book}/999999", headers=t.bearer()), 404)

    sync = ME + "/address-book-sync"
    full = t.expect(await t.rest.get(sync, params={"syncType": "FSync"}, headers=t.bearer()), 200)
    token = (t.json_of(full).get("syncInfo") or {}).get("syncToken", "")
    t.expect(await t.rest.delete(f"{book}/{records[-1]['id']}", headers=t.bearer()), 204)
    t.expect(await t.rest.delete(f"{book}/999999", headers=t.bearer()), 404)
    incremental = {"syncType": "ISync", "syncToken": token}
    t.expect(await t.rest.get(sync, params=incremental, headers=t.bearer()), 200)  # the deletion
    t.expect(await t.rest.get(sync, params={"syncType": "ISync"}, headers=t.bearer()), 400)


async def messaging(t: Tour) -> None:
    world = t.emu.world
    own = world.extensions[0].phone_numbers[0].phone_number
    blairs = world.extensions[1].phone_numbers[0].phone_number
    sms = {"from": {"phoneNumber": own}, "to": [{"phoneNumber": STRANGER}], "text": "Tour SMS"}
    sent = t.json_of(t.expect(await t.rest.post(ME + "/sms", json=sms, headers=t.bearer()), 200))
    not_mine = {**sms, "from": {"phoneNumber": blairs}}
    t.expect(await t.rest.post(ME + "/sms", json=not_mine, headers=t.bearer()), 400, 403)
    for_blair = f"/restapi/v1.0/account/~/extension/{world.extensions[1].id}/sms"
    t.expect(await t.rest.post(for_blair, json=not_mine, headers=t.bearer()), 403)  # not even an admin
    too_long = {**sms, "text": "x" * 1001}
    t.expect(await t.rest.post(ME + "/sms", json=too_long, headers=t.bearer()), 400)
    t.expect(await t.rest.post(ME + "/sms", json={"text": "no recipients"}, headers=t.bearer()), 400)
    broken = {**t.bearer(), "Content-Type": "application/json"}
    t.expect(await t.rest.post(ME + "/sms", content=b'{"from": ', headers=broken), 400)

    files = [
        ("json", ("request.json", orjson.dumps({**sms, "text": "Tour MMS"}), "application/json")),
        ("attachment", ("pixel.png", PNG, "image/png")),
    ]
    mms = t.json_of(t.expect(await t.rest.post(ME + "/mms", files=files, headers=t.bearer()), 200))

    store = ME + "/message-store"
    t.expect(await t.rest.get(store, headers=t.bearer()), 200)
    t.expect(await t.rest.get(store, params={"direction": "Outbound"}, headers=t.bearer()), 200)
    t.expect(await t.rest.get(store, params={"perPage": 1, "page": 2}, headers=t.bearer()), 200)  # navigation
    t.expect(await t.rest.get(store, params={"perPage": 0}, headers=t.bearer()), 200)  # counts only
    t.expect(await t.rest.get(store, params={"perPage": "MAX"}, headers=t.bearer()), 200)
    t.expect(await t.rest.get(store, params={"direction": "Sideways"}, headers=t.bearer()), 400)
    t.expect(await t.rest.get(f"{store}/{sent.get('id')}", headers=t.bearer()), 200)
    t.expect(await t.rest.get(f"{store}/999", headers=t.bearer()), 404)
    read = {"readStatus": "Read"}
    t.expect(await t.rest.put(f"{store}/{sent.get('id')}", json=read, headers=t.bearer()), 200)
    for attachment in mms.get("attachments", []):
        t.expect(await t.rest.get(attachment["uri"], headers=t.bearer()), 200)
    missing = f"{store}/{mms.get('id')}/content/999"
    t.expect(await t.rest.get(missing, headers=t.bearer()), 404)

    sync = ME + "/message-sync"
    full = t.expect(await t.rest.get(sync, params={"syncType": "FSync"}, headers=t.bearer()), 200)
    token = (t.json_of(full).get("syncInfo") or {}).get("syncToken", "")
    capped = {"syncType": "FSync", "recordCount": 1}  # olderRecordsExist
    t.expect(await t.rest.get(sync, params=capped, headers=t.bearer()), 200)
    t.expect(await t.rest.delete(f"{store}/{sent.get('id')}", headers=t.bearer()), 204)
    t.expect(await t.rest.delete(f"{store}/999", headers=t.bearer()), 404)
    incremental = {"syncType": "ISync", "syncToken": token}
    t.expect(await t.rest.get(sync, params=incremental, headers=t.bearer()), 200)
    bad = {"syncType": "ISync", "syncToken": "not-a-token"}
    t.expect(await t.rest.get(sync, params=bad, headers=t.bearer()), 400)


async def subscriptions(t: Tour) -> None:
    async with hook_receiver() as hooks:
        hook = {"transportType": "WebHook", "address": hooks.url, "verificationToken": "tour-secret"}
        filters = [INSTANT, STORE_EVENTS, REMINDER]
        create = {"eventFilters": filters, "deliveryMode": hook, "expiresIn": 3600}
        made = t.json_of(t.expect(await t.rest.post(SUBSCRIPTION, json=create, headers=t.bearer()), 200))
        sub = f"{SUBSCRIPTION}/{made.get('id')}"
        bad_filter = {**create, "eventFilters": ["/restapi/v1.0/no-such-event"]}
        t.expect(await t.rest.post(SUBSCRIPTION, json=bad_filter, headers=t.bearer()), 400)
        for failure in ("without", "big"):  # SUB-520, SUB-525
            hooks.handshake = failure
            t.expect(await t.rest.post(SUBSCRIPTION, json=create, headers=t.bearer()), 400)
        hooks.handshake = "echo"
        alex = t.emu.world.extensions[0]
        foreign = {**create, "eventFilters": [INSTANT.replace("extension/~", f"extension/{alex.id}")]}
        t.expect(await t.rest.post(SUBSCRIPTION, json=foreign, headers=t.bearer("blair")), 403)
        t.expect(await t.rest.get(SUBSCRIPTION, headers=t.bearer()), 200)
        t.expect(await t.rest.get(sub, headers=t.bearer()), 200)
        t.expect(await t.rest.get(f"{SUBSCRIPTION}/no-such-id", headers=t.bearer()), 404)
        update = {"eventFilters": [INSTANT, STORE_EVENTS], "expiresIn": 7200}
        t.expect(await t.rest.put(sub, json=update, headers=t.bearer()), 200)
        t.expect(await t.rest.post(f"{sub}/renew", headers=t.bearer()), 200)

        token = t.json_of(t.expect(await t.rest.post("/restapi/oauth/wstoken", headers=t.bearer()), 200))
        async with gateway(str(token.get("uri")), str(token.get("ws_access_token"))) as ws:
            ws_create = {
                "eventFilters": [INSTANT, STORE_EVENTS],
                "deliveryMode": {"transportType": "WebSocket"},
            }
            created = await ws_call(t, ws, "POST", SUBSCRIPTION, ws_create)
            ws_sub = f"{SUBSCRIPTION}/{(created or {}).get('id')}"
            await ws_call(t, ws, "PUT", ws_sub, ws_create)
            await ws_call(t, ws, "GET", ws_sub)
            await ws_call(t, ws, "GET", ME)
            await ws_call(t, ws, "GET", f"{SUBSCRIPTION}/no-such-id", expected=404)
            await inbound(t, hooks.next, ws.next)
        blacklisted = {"blacklistWebhooks": True}
        t.expect(await t.rest.post("/_emulator/faults", json=blacklisted), 200)
        t.expect(await t.rest.get(sub, headers=t.bearer()), 200)  # status Blacklisted, blacklistedData
        t.expect(await t.rest.delete(sub, headers=t.bearer()), 204)
        t.expect(await t.rest.delete(sub, headers=t.bearer()), 404)


async def ws_call(
    t: Tour, ws: GatewayClient, method: str, path: str, body: Any = None, expected: int = 200
) -> Any:
    status, answer = await ws.request(method, path, body)
    t.recorder.add_ws(method, path, status, answer)
    if status != expected:
        t.surprises.append(f"WS {method} {path}: expected {expected}, got {status} {answer}")
    return answer


async def inbound(t: Tour, *sources: Any) -> None:
    """Inject an inbound MMS; wait for the instant and the message-store event on every transport."""
    own = t.emu.world.extensions[0].phone_numbers[0].phone_number
    picture = {"contentType": "image/png", "contentBase64": base64.b64encode(PNG).decode()}
    injected = {"from": STRANGER, "to": own, "text": "Tour inbound", "attachments": [picture]}
    t.expect(await t.rest.post("/_emulator/inbound", json=injected), 200)
    for transport, next_one in zip(("webhook", "websocket"), sources, strict=True):
        kinds: set[str] = set()
        while kinds != {"instant", "store"}:
            try:
                got = await next_one()
            except TimeoutError:
                t.surprises.append(f"{transport}: no { ({'instant', 'store'} - kinds) } event within 5 s")
                break
            envelope = got.body if transport == "webhook" else got
            t.notifications.append((transport, envelope))
            kinds.add("instant" if "/instant" in str(envelope.get("event")) else "store")


async def rate_limit(t: Tour) -> None:
    """Hammer one Light endpoint as one user until the default limit answers 429."""
    for _ in range(60):
        response = await t.rest.get(ME + "/phone-number", headers=t.bearer("blair"))
        if response.status_code == 429:
            return
    t.surprises.append("60 Light requests in a row were never throttled with 429")


async def faults(t: Tour) -> None:
    """Injected failures answer in RingCentral's shapes too (run last: tokens die here)."""
    injected = {"http": [{"method": "GET", "path": SUBSCRIPTION, "status": 503}]}
    t.expect(await t.rest.post("/_emulator/faults", json=injected), 200)
    t.expect(await t.rest.get(SUBSCRIPTION, headers=t.bearer()), 503)
    t.expect(await t.rest.post("/_emulator/faults", json={"expireTokens": True}), 200)
    t.expect(await t.rest.get(ME, headers=t.bearer()), 401)  # OAU-128, expired
    t.expect(await t.rest.delete("/_emulator/faults"), 200)
