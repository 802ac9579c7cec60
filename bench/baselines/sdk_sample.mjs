// Receive texts and answer each one, written the way RingCentral's developer guide does it
// ("Receiving SMS and MMS messages"), on the official JavaScript SDK (@ringcentral/sdk +
// @ringcentral/subscriptions): log in with a JWT, open one WebSocket subscription to the instant
// SMS event, and for every notification send a reply from the number the text was sent to, to its
// sender. Like the guide's sample, the reply is fire-and-forget: the handler does not wait for it.
//
// A baseline for the benchmarks (bench/scenarios/reply_path.py). Nothing here archives,
// deduplicates, checks consent or paces: that is the point of comparison. The SDK is the one
// tests/sdk/js installs (`make sdk-deps`).
//
// Env: RC_SERVER, RC_CLIENT_ID, RC_CLIENT_SECRET, RC_JWT, SAMPLE_REPLY (the reply's text).
import { createRequire } from "node:module";

const require = createRequire(new URL("../../tests/sdk/js/package.json", import.meta.url));
const { SDK } = require("@ringcentral/sdk");
const { Subscriptions } = require("@ringcentral/subscriptions");

const rcsdk = new SDK({
  server: process.env.RC_SERVER,
  clientId: process.env.RC_CLIENT_ID,
  clientSecret: process.env.RC_CLIENT_SECRET,
});
const platform = rcsdk.platform();

await platform.login({ jwt: process.env.RC_JWT });
const subscriptions = new Subscriptions({ sdk: rcsdk });
const subscription = subscriptions.createSubscription();
subscription.on(subscription.events.notification, (event) => {
  const message = event.body;
  platform
    .post("/restapi/v1.0/account/~/extension/~/sms", {
      from: { phoneNumber: message.to[0].phoneNumber },
      to: [{ phoneNumber: message.from.phoneNumber }],
      text: process.env.SAMPLE_REPLY,
    })
    .then(() => console.log(`replied to ${message.from.phoneNumber}`))
    .catch((error) => console.error(`reply to ${message.from.phoneNumber} failed: ${error.message}`));
});
await subscription.setEventFilters(["/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS"]).register();
console.log("subscribed");
