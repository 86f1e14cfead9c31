import { Agent, request } from 'node:http'
import { startRedisServer } from '@cuekit/scripts/lib/redis-server'
import { createTenant, startServerProcess } from '@cuekit/scripts/lib/server-process'

const redis = await startRedisServer()
const server = await startServerProcess({
  redisUrl: redis.url,
  env: { LOG_LEVEL: 'warn', CUEKIT_RATE_LIMIT: '0' },
  nodeArgs: ['--heapsnapshot-signal=SIGUSR2', '--diagnostic-dir=/tmp/heap'],
})
const { api_key } = await createTenant(server.url, server.adminKey)
await fetch(`${server.url}/v1/executions/claim`, {
  method: 'POST',
  headers: { authorization: `Bearer ${api_key}` },
  body: JSON.stringify({ worker_id: 'w', task: 'idle' }),
})
server.process.kill('SIGUSR2')
await new Promise((r) => setTimeout(r, 4000))
const agent = new Agent({ keepAlive: true, maxSockets: Infinity })
const body = JSON.stringify({ worker_id: 'idle', task: 'idle', wait_seconds: 30 })
for (let i = 0; i < 2000; i++) {
  const req = request(
    `${server.url}/v1/executions/claim`,
    {
      method: 'POST',
      agent,
      headers: { authorization: `Bearer ${api_key}`, 'content-type': 'application/json' },
    },
    (res) => res.resume(),
  )
  req.on('error', () => {})
  req.end(body)
  if (i % 500 === 499) await new Promise((r) => setTimeout(r, 200))
}
await new Promise((r) => setTimeout(r, 2000))
server.process.kill('SIGUSR2')
await new Promise((r) => setTimeout(r, 8000))
await server.kill()
await redis.stop()
process.exit(0)
