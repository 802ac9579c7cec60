// The load generator of the benchmarks: autocannon, driven from Python (bench/loadgen.py).
//
//   node bench/js/ingest.mjs '<json>'
//
// json: {url, connections, seconds, headers: {...}, body: "<template>", first: <int>}
// Each request's body is the template with every "__N__" replaced by a number unique to that
// request (first, first + 1, ...), so each POST carries its own message id and event uuid, and
// every "__K__" by four digits cycling with it (1000 + N % 9000: the sender's number).
// Without "body" every request is a GET (or POSTs the same "fixedBody").
// Prints one JSON line: {sent, ok, non2xx, statuses, errors, timeouts, seconds, rps, p50, p90, p99, max}
// (latencies in ms; sent = requests answered; rps = answered / seconds).
import autocannon from 'autocannon'

const cfg = JSON.parse(process.argv[2])
const parts = cfg.body === undefined ? null : cfg.body.split(/(__N__|__K__)/)
let next = cfg.first ?? 1

function setupRequest (req) {
  if (parts !== null) {
    const n = next++
    const values = { __N__: String(n), __K__: String(1000 + (n % 9000)) }
    let body = ''
    for (let i = 0; i < parts.length; i++) body += i % 2 ? values[parts[i]] : parts[i]
    req.body = body
  }
  return req
}

const instance = autocannon({
  url: cfg.url,
  connections: cfg.connections,
  duration: cfg.seconds,
  method: cfg.method ?? 'POST',
  headers: cfg.headers ?? {},
  body: cfg.fixedBody,
  requests: [{ setupRequest }],
  timeout: 10,
  excludeErrorStats: false
}, (err, result) => {
  if (err) {
    console.error(String(err))
    process.exit(1)
  }
  const statuses = {}
  for (const [code, stat] of Object.entries(result.statusCodeStats ?? {})) statuses[code] = stat.count
  const answered = Object.values(statuses).reduce((a, b) => a + b, 0)
  const ok = statuses['200'] ?? 0
  console.log(JSON.stringify({
    sent: answered,
    ok,
    non2xx: result.non2xx,
    statuses,
    errors: result.errors,
    timeouts: result.timeouts,
    seconds: result.duration,
    rps: answered / result.duration,
    p50: result.latency.p50,
    p90: result.latency.p90,
    p99: result.latency.p99,
    max: result.latency.max,
    generated: next - (cfg.first ?? 1)
  }))
})
autocannon.track(instance, { renderProgressBar: false, renderResultsTable: false, renderLatencyTable: false })
