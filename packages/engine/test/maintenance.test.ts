import { Maintenance } from '@cuekit/engine'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { describe, expect, it } from 'vitest'
import { backend, newEngine, tenant } from './backend.ts'

describe('maintenance loop', () => {
  it('re-queues an expired lease by itself, woken by the deadline the claim registered', async () => {
    const engine = newEngine()
    // A long idle poll: only the claim's deadline (wake hint + local timer) can make it prompt.
    const maintenance = new Maintenance(engine, { maxIdleMs: 60_000, sweepIntervalMs: 0 })
    maintenance.start()
    try {
      const [r] = await engine.enqueue(tenant, [{ task: 'x' }])
      const [c] = await engine.claim(tenant, { worker_id: 'w', lease_seconds: 0.3 })
      expect(c!.execution_id).toBe(r!.execution_id)
      const expiresAt = Date.parse(c!.lease.expires_at)
      const rec = await waitFor(
        async () => {
          const got = await engine.get(tenant, r!.execution_id)
          return got.status === 'pending' ? got : null
        },
        { timeoutMs: 5000, message: 'not re-queued' },
      )
      expect(rec.history[0]!.outcome).toBe('lease_expired')
      // Re-queued right at expiry, not at the next idle poll a minute later.
      expect(Date.parse(rec.updated_at) - expiresAt).toBeLessThan(1000)
      expect(Date.parse(rec.updated_at)).toBeGreaterThanOrEqual(expiresAt)
    } finally {
      await maintenance.stop()
    }
  })

  it('promotes scheduled executions when they are due', async () => {
    const engine = newEngine()
    const maintenance = new Maintenance(engine, { maxIdleMs: 60_000, sweepIntervalMs: 0 })
    maintenance.start()
    try {
      const [r] = await engine.enqueue(tenant, [{ delay_seconds: 0.2 }])
      await waitFor(async () => (await engine.get(tenant, r!.execution_id)).status === 'pending', {
        timeoutMs: 5000,
      })
    } finally {
      await maintenance.stop()
    }
  })

  it('a sweep finds due times that were lost', async () => {
    const engine = newEngine()
    const [r] = await engine.enqueue(tenant, [{}])
    await engine.claim(tenant, { worker_id: 'w', lease_seconds: 0.1 })
    // Simulate a process that died between its claim and the hint.
    await engine.redis.del(engine.keys.due())
    const maintenance = new Maintenance(engine, {
      maxIdleMs: 60_000,
      sweepIntervalMs: 50,
      listTenants: async () => [tenant],
    })
    await waitFor(async () => (await engine.get(tenant, r!.execution_id)).lease!.remaining_ms <= 0)
    expect((await maintenance.runOnce()).requeued).toBe(0)
    const swept = await maintenance.sweep()
    expect(swept.requeued).toBe(1)
  })

  it('two maintenance loops on one store reap each lease once', async () => {
    const engine = newEngine()
    const other = newEngine({ prefix: engine.keys.prefix })
    const loops = [
      new Maintenance(engine, { sweepIntervalMs: 0 }),
      new Maintenance(other, { sweepIntervalMs: 0 }),
    ]
    for (const m of loops) m.start()
    try {
      await engine.enqueue(
        tenant,
        Array.from({ length: 20 }, () => ({ max_attempts: 1 })),
      )
      await engine.claim(tenant, { worker_id: 'w', max: 20, lease_seconds: 0.2 })
      await waitFor(async () => (await engine.queues(tenant)).queues[0]?.failed === 20, { timeoutMs: 5000 })
      const { queues } = await engine.queues(tenant)
      expect(queues[0]).toMatchObject({ failed: 20, delivering: 0, pending: 0 })
    } finally {
      await Promise.all(loops.map((m) => m.stop()))
    }
  })

  it("uses one clock: timestamps are ordered and near this machine's time", async () => {
    const engine = newEngine()
    const before = Date.now()
    const [r] = await engine.enqueue(tenant, [{}])
    const [c] = await engine.claim(tenant, { worker_id: 'w' })
    await engine.extend(tenant, r!.execution_id, { lease_token: c!.lease.token })
    const rec = await engine.get(tenant, r!.execution_id)
    const created = Date.parse(rec.created_at)
    const claimed = Date.parse(rec.lease!.claimed_at)
    const beat = Date.parse(rec.lease!.last_heartbeat_at!)
    expect(created).toBeLessThanOrEqual(claimed)
    expect(claimed).toBeLessThanOrEqual(beat)
    expect(Math.abs(created - before)).toBeLessThan(2000)
  })
})

describe.runIf(backend === 'redis')('idle cost', () => {
  it('stays bounded with 1,000 tenants: no per-tenant polling while nothing is due', async () => {
    const engine = newEngine()
    const tenants = Array.from({ length: 1000 }, (_, i) => ({ id: `tn_idle${i}`, partitions: 1 }))
    await Promise.all(tenants.map((t) => engine.enqueue(t, [{ delay_seconds: 3600 }])))
    let passes = 0
    let looks = 0
    const maintainPartition = engine.maintainPartition.bind(engine)
    const takeDue = engine.takeDue.bind(engine)
    engine.maintainPartition = (ref, batch) => {
      passes += 1
      return maintainPartition(ref, batch)
    }
    engine.takeDue = (limit, busy) => {
      looks += 1
      return takeDue(limit, busy)
    }
    const maintenance = new Maintenance(engine, { maxIdleMs: 250, sweepIntervalMs: 0 })
    const started = Date.now()
    maintenance.start()
    await waitFor(() => Date.now() - started >= 1500, { timeoutMs: 3000 })
    await maintenance.stop()
    // One look at the global wake index every idle interval, whatever the number of tenants.
    expect(passes).toBe(0)
    expect(looks).toBeGreaterThanOrEqual(2)
    expect(looks).toBeLessThanOrEqual(10)
  })
})

describe('storage format', () => {
  it('marks an empty store, accepts its own format, and refuses data of an earlier one', async () => {
    const engine = newEngine()
    await engine.checkStorage()
    await engine.checkStorage()
    expect(await engine.redis.get(engine.keys.format())).toBe('2')
    const old = newEngine()
    // An earlier deployment: tenants, but no format mark.
    await old.redis.sadd(old.keys.tenants(), 'tn_old')
    await expect(old.checkStorage()).rejects.toMatchObject({ name: 'StorageFormatError', found: '1' })
    await old.redis.set(old.keys.format(), '3')
    await expect(old.checkStorage()).rejects.toMatchObject({ found: '3' })
  })
})
