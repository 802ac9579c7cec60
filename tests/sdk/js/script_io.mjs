// What both SDK scripts share: one JSON object per line on stdout, a failure as
// {"step":"error", "message"} with exit code 1, required environment variables, and timeouts.

export const INSTANT_SMS = "/restapi/v1.0/account/~/extension/~/message-store/instant?type=SMS";

export function emit(line) {
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

export function fail(message) {
  emit({ step: "error", message: String(message) });
  process.exit(1);
}

export function env(name) {
  const value = process.env[name];
  if (!value) fail(`environment variable ${name} is not set`);
  return value;
}

// `what` is a text, or a function giving it when the time is up (to say how far things got).
export function within(ms, promise, what) {
  let timer;
  const timeout = new Promise((_, reject) => {
    const waitingFor = () => (typeof what === "function" ? what() : what);
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${waitingFor()}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
