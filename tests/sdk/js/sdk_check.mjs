// Drives a RingCentral server (the rcinbox emulator in tests) with RingCentral's official
// JavaScript SDK (@ringcentral/sdk + @ringcentral/subscriptions), exactly as a developer would.
//
// Env: RC_SERVER, RC_CLIENT_ID, RC_CLIENT_SECRET, RC_JWT, RC_FROM (a number of the JWT's
// extension), RC_TO (any recipient), RC_TEXT (the SMS text), RC_TIMEOUT_MS (default 20000).
//
// Prints one JSON object per line on stdout, in this order:
//   {"step":"login", "ownerId", "expiresIn"}
//   {"step":"numbers", "status", "mmsEnabled"}         the SDK README's MMS-enabled number lookup
//   {"step":"sms", "status", "body"}                    the SMS the SDK sent
//   {"step":"refresh", "tokenChanged", "refreshTokenChanged"}
//   {"step":"ready", "subscription"}                    WebSocket subscription is live
//   {"step":"notification", "event"}                    the first notification received
// then exits 0. On any failure: {"step":"error", "message"} and exit code 1.
import { SDK } from "@ringcentral/sdk";
import { Subscriptions } from "@ringcentral/subscriptions";

import { INSTANT_SMS, emit, env, fail, within } from "./script_io.mjs";

async function main() {
  const timeoutMs = Number(process.env.RC_TIMEOUT_MS || 20000);
  const sdk = new SDK({
    server: env("RC_SERVER"),
    clientId: env("RC_CLIENT_ID"),
    clientSecret: env("RC_CLIENT_SECRET"),
  });
  const platform = sdk.platform();

  const login = await (await platform.login({ jwt: env("RC_JWT") })).json();
  emit({ step: "login", ownerId: login.owner_id, expiresIn: login.expires_in });

  // As the SDK's README finds MMS-enabled numbers: the same call, perPage 'max' included.
  const numbers = await platform.get("/restapi/v1.0/account/~/extension/~/phone-number", { perPage: "max" });
  const mmsEnabled = (await numbers.json()).records
    .filter((number) => number.features.indexOf("MmsSender") !== -1)
    .map((number) => number.phoneNumber);
  emit({ step: "numbers", status: numbers.status, mmsEnabled });

  const sms = await platform.post("/restapi/v1.0/account/~/extension/~/sms", {
    from: { phoneNumber: env("RC_FROM") },
    to: [{ phoneNumber: env("RC_TO") }],
    text: env("RC_TEXT"),
  });
  emit({ step: "sms", status: sms.status, body: await sms.json() });

  const before = await platform.auth().data();
  await platform.refresh();
  const after = await platform.auth().data();
  emit({
    step: "refresh",
    tokenChanged: before.access_token !== after.access_token,
    refreshTokenChanged: before.refresh_token !== after.refresh_token,
  });

  const subscriptions = new Subscriptions({ sdk });
  const subscription = subscriptions.createSubscription();
  const notified = new Promise((resolve) => {
    subscription.on(subscription.events.notification, resolve);
  });
  const registered = await within(
    timeoutMs,
    subscription.setEventFilters([INSTANT_SMS]).register(),
    "the WebSocket subscription",
  );
  emit({ step: "ready", subscription: registered.subscriptionInfo });

  const event = await within(timeoutMs, notified, "the inbound SMS notification");
  emit({ step: "notification", event });
  process.exit(0);
}

main().catch((error) => {
  const detail = error?.response ? ` (HTTP ${error.response.status})` : "";
  fail(`${error?.stack || error}${detail}`);
});
