import { Agent, request } from 'node:http'
import { startRedisServer } from '@cuekit/scripts/lib/redis-server'
import { createTenant, startServerProcess } from '@cuekit/scripts/lib/server-process'

const redis = await startRedisServer()
const server = await startServerProcess({ redisUrl: redis.url, env: { LOG_LEVEL: 'warn' } })
const { api_key } = await createTenant(server.url, server.adminKey)
const h = { authorization: `Bearer ${api_key}`, 'content-type': 'application/json' }
async function time(label: string, fn: () => Promise<unknown>, n = 300) {
  for (let i = 0; i < 20; i++) await fn()
  const t = performance.now()
  for (let i = 0; i < n; i++) await fn()
  console.log(label.padEnd(28), ((performance.now() - t) / n).toFixed(3), 'ms')
}
await time('fetch /health', () => fetch(`${server.url}/health`).then((r) => r.text()))
const agent = new Agent({ keepAlive: true })
await time(
  'http.request /health',
  () =>
    new Promise((res) =>
      request(`${server.url}/health`, { agent }, (r) => {
        r.resume()
        r.on('end', res)
      }).end(),
    ),
)
await time('fetch GET /v1/queues', () =>
  fetch(`${server.url}/v1/queues`, { headers: h }).then((r) => r.text()),
)
await time('fetch claim (empty)', () =>
  fetch(`${server.url}/v1/executions/claim`, {
    method: 'POST',
    headers: h,
    body: JSON.stringify({ worker_id: 'w', task: 'none' }),
  }).then((r) => r.text()),
)
const m = await (await fetch(`${server.url}/metrics`)).text()
console.log(
  m
    .split('\n')
    .filter((l) => /http_request_duration_seconds_(sum|count)/.test(l))
    .join('\n'),
)
await server.stop()
await redis.stop()
