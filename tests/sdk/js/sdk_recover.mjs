// A live WebSocket subscription of RingCentral's official JavaScript SDK (@ringcentral/sdk +
// @ringcentral/subscriptions) that loses its connection: the SDK's own auto-recovery reconnects
// (reusing its cached ws token and the session's wsc, as @rc-ex/ws does) and gets the
// notifications it missed. The script only watches; it never reconnects by itself.
// @ringcentral/subscriptions creates @rc-ex/ws with its defaults (no options can be passed): it
// checks the connection every 2 s, and after each failed attempt waits 2 s longer (8 s at most),
// so a recovery takes about 2 s.
//
// Env: RC_SERVER, RC_CLIENT_ID, RC_CLIENT_SECRET, RC_JWT, RC_TIMEOUT_MS (default 20000),
// RC_DEBUG (any value: @rc-ex/ws prints its WebSocket traffic, as plain lines).
//
// Prints one JSON object per line on stdout, in this order:
//   {"step":"ready", "subscription"}                   WebSocket subscription is live
//   {"step":"dropped", "code"}                         the server closed the WebSocket
//   {"step":"recovered", "recoveryState", "recoveryErrorCode", "sameWsToken", "failedAttempts",
//    "afterMs"}
//                                                      the SDK reconnected by itself
//   {"step":"notification", "event"}                   the first notification received
// then exits 0. On any failure: {"step":"error", "message"} and exit code 1.
import { SDK } from "@ringcentral/sdk";
import { Subscriptions } from "@ringcentral/subscriptions";

import { INSTANT_SMS, emit, env, fail, within } from "./script_io.mjs";

// The auto-recovery events of @rc-ex/ws (its `Events` enum), which @ringcentral/subscriptions embeds.
const RECOVERED = ["autoRecoverSuccess", "autoRecoverFailed"];
const RECOVER_ERROR = "autoRecoverError";

function closed(ws) {
  return new Promise((resolve) => ws.addEventListener("close", (event) => resolve(event.code)));
}

async function main() {
  const timeoutMs = Number(process.env.RC_TIMEOUT_MS || 20000);
  const sdk = new SDK({
    server: env("RC_SERVER"),
    clientId: env("RC_CLIENT_ID"),
    clientSecret: env("RC_CLIENT_SECRET"),
  });
  await sdk.platform().login({ jwt: env("RC_JWT") });

  const subscription = new Subscriptions({ sdk }).createSubscription();
  const notified = new Promise((resolve) => {
    subscription.on(subscription.events.notification, resolve);
  });
  const registered = await within(
    timeoutMs,
    subscription.setEventFilters([INSTANT_SMS]).register(),
    "the WebSocket subscription",
  );
  const ws = registered.wse; // the @rc-ex/ws extension that owns the connection
  if (process.env.RC_DEBUG) ws.options.debugMode = true;
  const firstToken = ws.wsToken.ws_access_token;
  const drop = closed(ws.ws);
  const recovered = new Promise((resolve) => {
    for (const name of RECOVERED) ws.eventEmitter.once(name, resolve);
  });
  const failures = []; // the SDK's failed recovery attempts
  ws.eventEmitter.on(RECOVER_ERROR, (error) => failures.push(String(error)));
  emit({ step: "ready", subscription: registered.subscriptionInfo });

  const code = await within(timeoutMs, drop, "the WebSocket to drop");
  const droppedAt = Date.now();
  emit({ step: "dropped", code });

  await within(
    timeoutMs,
    recovered,
    () => `the SDK to recover (${failures.length} failed attempt(s): ${failures.join("; ")})`,
  );
  emit({
    step: "recovered",
    recoveryState: ws.connectionDetails.recoveryState,
    recoveryErrorCode: ws.connectionDetails.recoveryErrorCode ?? null,
    sameWsToken: ws.wsToken.ws_access_token === firstToken,
    failedAttempts: failures.length,
    afterMs: Date.now() - droppedAt,
  });

  const event = await within(timeoutMs, notified, "the missed notification");
  emit({ step: "notification", event });
  process.exit(0);
}

main().catch((error) => {
  const detail = error?.response ? ` (HTTP ${error.response.status})` : "";
  fail(`${error?.stack || error}${detail}`);
});
