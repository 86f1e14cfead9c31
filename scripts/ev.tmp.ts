import { startRedisServer } from '@cuekit/scripts/lib/redis-server'
import { createTenant, startServerProcess } from '@cuekit/scripts/lib/server-process'
import { Redis } from 'ioredis'
import { api, bulkEnqueue } from './bench/http.ts'

const redis = await startRedisServer()
const server = await startServerProcess({
  redisUrl: redis.url,
  env: { LOG_LEVEL: 'warn', CUEKIT_RATE_LIMIT: '0' },
})
const { api_key } = await createTenant(server.url, server.adminKey)
const call = api(server.url, api_key)
await bulkEnqueue(call, 2000, 'b')
const r = new Redis(redis.port)
await r.config('RESETSTAT')
for (let i = 0; i < 100; i++) {
  const c = await call('POST', '/v1/executions/claim', { worker_id: 'w', task: 'b', max: 8 })
  await call('POST', '/v1/executions/outcomes', {
    outcomes: c.executions.map((e: any) => ({
      execution_id: e.execution_id,
      lease_token: e.lease.token,
      success: true,
    })),
  })
}
console.log(
  (await r.info('commandstats'))
    .split('\n')
    .filter((l) => /eval|wake/.test(l))
    .join('\n'),
)
console.log(
  (await r.info('stats'))
    .split('\n')
    .filter((l) => /net_input|net_output|total_commands/.test(l))
    .join('\n'),
)
r.disconnect()
await server.stop()
await redis.stop()
