import { startRedisServer } from '@cuekit/scripts/lib/redis-server'
import { Redis } from 'ioredis'

const server = await startRedisServer()
const r = new Redis(server.port, { enableAutoPipelining: true })
const lua = 'return 1'
r.defineCommand('t1', { numberOfKeys: 1, lua })
const sha = (await r.script('LOAD', lua)) as string
const args = Array.from({ length: 20 }, (_, i) => `arg${i}xxxxxxxxxxxxxxxxxxxx`)
async function time(label: string, fn: () => Promise<unknown>, n = 20000) {
  for (let i = 0; i < 2000; i++) await fn()
  const c0 = process.cpuUsage()
  const t = performance.now()
  const batch = 16
  for (let i = 0; i < n; i += batch) await Promise.all(Array.from({ length: batch }, fn))
  const c = process.cpuUsage(c0)
  console.log(
    label.padEnd(20),
    ((c.user + c.system) / n).toFixed(1),
    'us cpu/call',
    (((performance.now() - t) * 1000) / n).toFixed(1),
    'us wall/call',
  )
}
await time('defineCommand', () => (r as any).t1('k', ...args))
await time('evalsha direct', () => r.evalsha(sha, 1, 'k', ...args))
await time('call evalsha', () => r.call('evalsha', sha, '1', 'k', ...args))
await time('ping', () => r.ping())
r.disconnect()
await server.stop()
