import { readFileSync } from 'node:fs'
import { Engine, Keys } from '@cuekit/engine'
import { startRedisServer } from '@cuekit/scripts/lib/redis-server'
import { Redis } from 'ioredis'

const server = await startRedisServer()
const redis = new Redis(server.port)
const engine = new Engine({ redis })
const t = { id: 'tn_x', partitions: 1 }
for (let i = 0; i < 10; i++)
  await engine.enqueue(
    t,
    Array.from({ length: 1000 }, () => ({ task: 'x', payload: { i } })),
  )
const k = new Keys('ck')
const lib = readFileSync('packages/engine/src/lua/_lib.lua', 'utf8')
const header = [
  'local P, TENANT, NOTIFY_CH, EVENT_CH, CLOCK = ARGV[1], ARGV[2], ARGV[3], ARGV[4], ARGV[5]',
  'local HISTORY_MAX = 50',
  'local CUE_RECENT_MAX = 10',
  k.luaKeyPrelude(),
].join('\n')
const body = readFileSync('packages/engine/src/lua/complete.lua', 'utf8')
const loop = body.slice(body.indexOf('for i = 0, n - 1 do'))
const pre = body.slice(0, body.indexOf('for i = 0, n - 1 do'))
const variants: Record<string, string> = {
  full: body,
  empty: pre + 'commit()\nreturn ret(out)',
  rawHmget:
    pre +
    "for i = 0, n - 1 do local b = 7 + i * 4\n redis.call('HMGET', k_exec(ARGV[b]), unpack(LEASE_READ)) end\nreturn ret(out)",
  wrapHmget:
    pre +
    'for i = 0, n - 1 do local b = 7 + i * 4\n hmget(k_exec(ARGV[b]), unpack(LEASE_READ)) end\nreturn ret(out)',
  check:
    pre +
    "for i = 0, n - 1 do local b = 7 + i * 4\n check_report(ARGV[b], ARGV[b+1], ARGV[b+2], 's', now) end\nreturn ret(out)",
}
const P = 'ck:{tn_x.0}:'
async function timeVariant(name: string, lua: string) {
  const sha = (await redis.script('LOAD', header + '\n' + lib + '\n' + lua)) as string
  let total = 0
  const R = 50
  for (let r = 0; r < R; r++) {
    const c = await engine.claim(t, { worker_id: 'w', task: 'x', max: 16 })
    const args: string[] = [P, 'tn_x', 'ck:notify', 'ck:events:tn_x', '', String(c.length)]
    for (const e of c) args.push(e.execution_id, e.lease.token, '', '')
    await redis.config('RESETSTAT')
    await redis.evalsha(sha, 1, P + 'seq', ...args)
    const s = await redis.info('commandstats')
    total += Number(/cmdstat_evalsha:calls=\d+,usec=(\d+)/.exec(s)![1])
  }
  console.log(name.padEnd(10), (total / R).toFixed(0), 'us per 16')
}
for (const [n, v] of Object.entries(variants)) await timeVariant(n, v)
redis.disconnect()
await server.stop()
