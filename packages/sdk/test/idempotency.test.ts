import {
  DuplicateInProgressError,
  type IdempotencyStore,
  insertOnceSql,
  MemoryIdempotencyStore,
  once,
  RedisIdempotencyStore,
} from '@cuekit/sdk'
import { Redis } from 'ioredis'
import { afterAll, describe, expect, inject, it } from 'vitest'

const redis = new Redis(inject('redisUrl'))
afterAll(() => redis.disconnect())
let n = 0

const stores: [string, () => IdempotencyStore][] = [
  ['memory', () => new MemoryIdempotencyStore()],
  ['redis', () => new RedisIdempotencyStore(redis, { prefix: `idem-test:${process.pid}:${++n}:` })],
]

describe.each(stores)('%s store with once()', (_name, make) => {
  it('runs the work once per key and hands later deliveries the first value', async () => {
    const store = make()
    let runs = 0
    const work = async () => ({ charged: ++runs })
    expect(await once(store, 'exec_1', work)).toEqual({ status: 'executed', value: { charged: 1 } })
    expect(await once(store, 'exec_1', work)).toEqual({ status: 'skipped', value: { charged: 1 } })
    expect(await once(store, 'exec_2', work)).toEqual({ status: 'executed', value: { charged: 2 } })
    expect(runs).toBe(2)
  })

  it('a failed run frees the key so the retry runs again', async () => {
    const store = make()
    await expect(
      once(store, 'exec_f', async () => {
        throw new Error('downstream said no')
      }),
    ).rejects.toThrow('downstream said no')
    expect(await store.get('exec_f')).toBeNull()
    expect(await once(store, 'exec_f', () => 'second try')).toEqual({
      status: 'executed',
      value: 'second try',
    })
  })

  it('two deliveries racing: one runs, the other is told another run holds the key', async () => {
    const store = make()
    let release!: () => void
    const gate = new Promise<void>((resolve) => {
      release = resolve
    })
    let runs = 0
    const first = once(store, 'exec_race', async () => {
      runs++
      await gate
      return 'first'
    })
    await expect(once(store, 'exec_race', async () => runs++)).rejects.toBeInstanceOf(
      DuplicateInProgressError,
    )
    release()
    expect(await first).toEqual({ status: 'executed', value: 'first' })
    expect(runs).toBe(1)
    expect(await once(store, 'exec_race', async () => runs++)).toEqual({ status: 'skipped', value: 'first' })
  })

  it('setIfAbsent is first-writer-wins; set replaces; delete forgets', async () => {
    const store = make()
    expect(await store.setIfAbsent('k', 'a', 60)).toBe(true)
    expect(await store.setIfAbsent('k', 'b', 60)).toBe(false)
    expect(await store.get('k')).toBe('a')
    await store.set('k', 'c', 60)
    expect(await store.get('k')).toBe('c')
    await store.delete('k')
    expect(await store.get('k')).toBeNull()
  })
})

describe('store expiry', () => {
  it('memory: keys expire after their TTL (injected clock)', async () => {
    let now = 1_000_000
    const store = new MemoryIdempotencyStore({ now: () => now })
    await once(store, 'exec_t', () => 1, { ttlSeconds: 10 })
    now += 9_999
    expect((await once(store, 'exec_t', () => 2, { ttlSeconds: 10 })).status).toBe('skipped')
    now += 2
    expect(await once(store, 'exec_t', () => 3, { ttlSeconds: 10 })).toEqual({ status: 'executed', value: 3 })
    // A run that never finished blocks duplicates only for lockSeconds.
    await store.setIfAbsent('exec_crashed', 'running:deadbeef', 5)
    now += 5_000
    expect((await once(store, 'exec_crashed', () => 'after the crash')).status).toBe('executed')
    expect(store.size).toBe(2)
  })

  it('redis: SET … EX … NX with the configured TTLs', async () => {
    const prefix = `idem-ttl:${process.pid}:`
    const store = new RedisIdempotencyStore(redis, { prefix })
    await once(store, 'exec_r', () => 'v', { ttlSeconds: 3600 })
    const ttl = await redis.ttl(`${prefix}exec_r`)
    expect(ttl).toBeGreaterThan(3590)
    expect(ttl).toBeLessThanOrEqual(3600)
    expect(await redis.get(`${prefix}exec_r`)).toBe('done:"v"')
  })
})

describe('insertOnceSql', () => {
  it('builds INSERT … ON CONFLICT (execution_id) DO NOTHING with quoted identifiers', () => {
    expect(insertOnceSql('payments', ['execution_id', 'user_id', 'amount_cents'])).toBe(
      'INSERT INTO "payments" ("execution_id", "user_id", "amount_cents") VALUES ($1, $2, $3) ON CONFLICT ("execution_id") DO NOTHING',
    )
    expect(insertOnceSql('billing.charges', ['execution_id', 'we"ird'])).toBe(
      'INSERT INTO "billing"."charges" ("execution_id", "we""ird") VALUES ($1, $2) ON CONFLICT ("execution_id") DO NOTHING',
    )
    expect(() => insertOnceSql('t', ['user_id'])).toThrow(RangeError)
  })
})
