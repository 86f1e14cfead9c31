import { Engine } from '@cuekit/engine'
import { Redis } from 'ioredis'
import { describe, expect, inject, it } from 'vitest'
import { backend, newEngine, tenant } from './backend.ts'

// Load properties that only mean something on a real Redis (the in-memory store runs scripts
// one at a time by construction).
describe.runIf(backend === 'redis')('on real Redis under load', () => {
  it('200 concurrent claimers over 1,000 executions never share one', async () => {
    const engine = newEngine()
    await engine.enqueue(
      tenant,
      Array.from({ length: 1000 }, (_, i) => ({ task: `t${i % 4}`, payload: { i } })),
    )
    // 20 connections x 10 claimers each: scripts from many sockets interleave on the server.
    const connections = Array.from({ length: 20 }, () => new Redis(inject('redisUrl')))
    const engines = connections.map((redis) => new Engine({ redis, prefix: engine.keys.prefix }))
    const claimedBy = new Map<string, number>()
    let claims = 0
    await Promise.all(
      Array.from({ length: 200 }, async (_, claimer) => {
        const e = engines[claimer % engines.length]!
        for (;;) {
          const got = await e.claim(tenant, {
            worker_id: `w${claimer}`,
            max: 1 + (claimer % 5),
            task: claimer % 3 === 0 ? undefined : [`t${claimer % 4}`, `t${(claimer + 1) % 4}`],
          })
          claims += 1
          if (got.length === 0) {
            // Filtered claimers may find their tasks empty while others still have work.
            const left = await e.claim(tenant, { worker_id: `w${claimer}`, max: 5 })
            if (left.length === 0) return
            for (const c of left) claimedBy.set(c.execution_id, (claimedBy.get(c.execution_id) ?? 0) + 1)
            continue
          }
          for (const c of got) claimedBy.set(c.execution_id, (claimedBy.get(c.execution_id) ?? 0) + 1)
        }
      }),
    )
    for (const c of connections) c.disconnect()
    expect(claimedBy.size).toBe(1000)
    expect([...claimedBy.values()].every((n) => n === 1)).toBe(true)
    expect(claims).toBeGreaterThan(200)
    const { queues } = await engine.queues(tenant)
    expect(queues.reduce((n, q) => n + q.delivering, 0)).toBe(1000)
    expect(queues.reduce((n, q) => n + q.pending, 0)).toBe(0)
  })

  it('drains 10,000 through claimable + claim by id; 10,000 cancelled ahead cost the next claim nothing', async () => {
    const engine = newEngine()
    const n = 10_000
    for (let i = 0; i < n; i += 1000) {
      await engine.enqueue(
        tenant,
        Array.from({ length: 1000 }, () => ({ task: 'cue-work' })),
      )
    }
    let drained = 0
    const started = performance.now()
    for (;;) {
      const listed = (await engine.claimable(tenant, 'cue-work')).executions
      if (listed.length === 0) break
      const claimed = await Promise.all(
        listed.map((e) => engine.claimById(tenant, e.execution_id, { worker_id: 'cue', lease_seconds: 600 })),
      )
      await engine.reportMany(
        tenant,
        claimed.map((c) => ({ execution_id: c.execution_id, lease_token: c.lease.token, success: true })),
      )
      drained += claimed.length
    }
    const drainMs = performance.now() - started
    expect(drained).toBe(n)

    const doomed: string[] = []
    for (let i = 0; i < n; i += 1000) {
      const r = await engine.enqueue(
        tenant,
        Array.from({ length: 1000 }, () => ({ task: 'mail' })),
      )
      doomed.push(...r.map((x) => x.execution_id))
    }
    const [live] = await engine.enqueue(tenant, [{ task: 'mail' }])
    for (let i = 0; i < doomed.length; i += 500) {
      await Promise.all(doomed.slice(i, i + 500).map((id) => engine.cancel(tenant, id)))
    }
    const t = performance.now()
    const [first] = await engine.claim(tenant, { worker_id: 'w', task: 'mail', max: 8 })
    const claimMs = performance.now() - t
    expect(first?.execution_id).toBe(live!.execution_id)
    console.log(
      `drained ${n} through claimable + claim by id in ${Math.round(drainMs)} ms; ` +
        `claim with ${n} cancelled ahead: ${claimMs.toFixed(2)} ms`,
    )
  })

  it('with 100,000 live leases and 1,000 expired, one reap pass re-queues exactly the expired ones', async () => {
    const engine = newEngine()
    for (let i = 0; i < 101; i++) {
      await engine.enqueue(
        tenant,
        Array.from({ length: 1000 }, () => ({ task: i === 0 ? 'short' : 'long' })),
      )
    }
    const short = new Set<string>()
    for (let i = 0; i < 10; i++) {
      for (const c of await engine.claim(tenant, {
        worker_id: 'w',
        task: 'short',
        max: 100,
        lease_seconds: 0.2,
      })) {
        short.add(c.execution_id)
      }
    }
    let live = 0
    const claimers = Array.from({ length: 4 }, async () => {
      for (;;) {
        const got = await engine.claim(tenant, {
          worker_id: 'w',
          task: 'long',
          max: 100,
          lease_seconds: 3600,
        })
        if (got.length === 0) return
        live += got.length
      }
    })
    await Promise.all(claimers)
    expect(short.size).toBe(1000)
    expect(live).toBe(100_000)
    const ref = { tenantId: tenant.id, partition: 0 }
    // The short leases were taken first; wait (with a deadline) until the last has expired.
    const deadline = Date.now() + 10_000
    for (;;) {
      const { leases } = await engine.leases(tenant, { limit: 1000 })
      if (leases.filter((l) => l.remaining_ms <= 0).length === 1000) break
      if (Date.now() > deadline) throw new Error('short leases did not expire')
      await new Promise((r) => setTimeout(r, 20))
    }
    const started = performance.now()
    const pass = await engine.maintainPartition(ref)
    const ms = performance.now() - started
    expect(pass.requeued).toBe(1000)
    expect(pass.failed).toBe(0)
    expect(new Set(pass.expired)).toEqual(short)
    const again = await engine.maintainPartition(ref)
    expect(again.requeued).toBe(0)
    const { queues } = await engine.queues(tenant)
    expect(queues.find((q) => q.task === 'short')).toMatchObject({ pending: 1000, delivering: 0 })
    expect(queues.find((q) => q.task === 'long')).toMatchObject({ pending: 0, delivering: 100_000 })
    console.log(`reap pass over 100,000 live + 1,000 expired leases: ${ms.toFixed(1)} ms`)
  }, 120_000)
})
