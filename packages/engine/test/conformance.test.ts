import type { Engine } from '@cuekit/engine'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { describe, expect, it } from 'vitest'
import { backend, newEngine, tenant } from './backend.ts'

// The conformance suite: every transition's normal path, every error code, calling it twice,
// stale tokens, expired-but-not-reaped leases. It runs as `engine:redis` and `engine:memory`.

const LONG = 600
const SHORT = 0.05

async function enqueueOne(engine: Engine, item: Parameters<Engine['enqueue']>[1][number] = {}) {
  const [r] = await engine.enqueue(tenant, [item])
  return r!.execution_id
}

async function claimOne(engine: Engine, opts: Partial<Parameters<Engine['claim']>[1]> = {}) {
  const [c] = await engine.claim(tenant, { worker_id: 'w1', lease_seconds: LONG, ...opts })
  if (!c) throw new Error('nothing claimed')
  return c
}

function expectCode(p: Promise<unknown>, code: string) {
  return expect(p).rejects.toMatchObject({ name: 'EngineError', code })
}

async function waitExpired(engine: Engine, id: string) {
  await waitFor(
    async () => {
      const r = await engine.get(tenant, id)
      return r.lease !== null && r.lease.remaining_ms <= 0
    },
    { message: 'lease did not expire' },
  )
}

const reap = (engine: Engine) => engine.maintainPartition({ tenantId: tenant.id, partition: 0 })

describe('enqueue', () => {
  it('creates a pending execution with defaults and takes the task from payload.task', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine, { payload: { task: 'send-email', to: 'a@b.c' } })
    const r = await engine.get(tenant, id)
    expect(r).toMatchObject({
      execution_id: id,
      id,
      task: 'send-email',
      payload: { task: 'send-email', to: 'a@b.c' },
      status: 'pending',
      attempt: 0,
      max_attempts: 3,
      priority: 0,
      backoff_seconds: [1, 10, 60],
      lease: null,
      history: [],
      attempts: 0,
      cue_id: null,
    })
    expect(r.scheduled_for).toBe(r.created_at)
  })

  it('uses the explicit task, else `default`, and keeps large and non-object payloads', async () => {
    const engine = newEngine()
    const big = 'x'.repeat(5000)
    const a = await enqueueOne(engine, { task: 'explicit', payload: { task: 'ignored', big } })
    const b = await enqueueOne(engine, { payload: [1, 2, 3] })
    const c = await enqueueOne(engine, { payload: null })
    expect((await engine.get(tenant, a)).task).toBe('explicit')
    expect((await engine.get(tenant, a)).payload).toEqual({ task: 'ignored', big })
    expect((await engine.get(tenant, b)).task).toBe('default')
    expect((await engine.get(tenant, b)).payload).toEqual([1, 2, 3])
    expect((await engine.get(tenant, c)).payload).toBeNull()
  })

  it('schedules for later with scheduled_for or delay_seconds; a past time is pending at once', async () => {
    const engine = newEngine()
    const future = new Date(Date.now() + 3_600_000).toISOString()
    const past = new Date(Date.now() - 60_000).toISOString()
    const [a, b, c] = await engine.enqueue(tenant, [
      { scheduled_for: future },
      { delay_seconds: 120 },
      { scheduled_for: past },
    ])
    expect(a!.status).toBe('scheduled')
    expect(b!.status).toBe('scheduled')
    expect(c!.status).toBe('pending')
    const ra = await engine.get(tenant, a!.execution_id)
    expect(ra.scheduled_for).toBe(future)
    expect(ra.next_attempt_at).toBe(future)
    const rb = await engine.get(tenant, b!.execution_id)
    expect(Date.parse(rb.scheduled_for) - Date.parse(rb.created_at)).toBe(120_000)
    expect((await engine.get(tenant, c!.execution_id)).scheduled_for).toBe(past)
    const claimed = await engine.claim(tenant, { worker_id: 'w', max: 10 })
    expect(claimed.map((e) => [e.execution_id, e.scheduled_for])).toEqual([[c!.execution_id, past]])
  })

  it('bulk-enqueues 1,000 in one call with distinct ids', async () => {
    const engine = newEngine()
    const items = Array.from({ length: 1000 }, (_, i) => ({ task: `t${i % 3}`, payload: { i } }))
    const results = await engine.enqueue(tenant, items)
    expect(new Set(results.map((r) => r.execution_id)).size).toBe(1000)
    expect(results.every((r) => r.created && r.status === 'pending')).toBe(true)
    const q = await engine.queues(tenant)
    expect(q.queues.map((x) => x.pending)).toEqual([334, 333, 333])
  })

  it('returns the first execution for a repeated idempotency key and request, also within one bulk', async () => {
    const engine = newEngine()
    const first = await engine.enqueue(tenant, [{ idempotency_key: 'k1', payload: { n: 1, m: 2 } }])
    const again = await engine.enqueue(tenant, [
      { idempotency_key: 'k1', payload: { m: 2, n: 1 } },
      { idempotency_key: 'k2' },
      { idempotency_key: 'k2' },
    ])
    expect(again[0]).toEqual({ ...first[0], created: false })
    expect(again[1]!.created).toBe(true)
    expect(again[2]).toEqual({ ...again[1], created: false })
    expect((await engine.get(tenant, first[0]!.execution_id)).payload).toEqual({ n: 1, m: 2 })
    expect((await engine.get(tenant, first[0]!.execution_id)).idempotency_key).toBe('k1')
  })

  it('refuses a key reused with a different request, creating nothing of the batch', async () => {
    const engine = newEngine()
    await engine.enqueue(tenant, [{ idempotency_key: 'k1', task: 'a', payload: { n: 1 } }])
    for (const other of [{ payload: { n: 2 } }, { task: 'b', payload: { n: 1 } }, { priority: 5 }]) {
      await expectCode(
        engine.enqueue(tenant, [
          { task: 'fresh' },
          { idempotency_key: 'k1', task: 'a', payload: { n: 1 }, ...other },
        ]),
        'idempotency_key_reused',
      )
    }
    await expectCode(
      engine.enqueue(tenant, [
        { idempotency_key: 'k3', payload: 1 },
        { idempotency_key: 'k3', payload: 2 },
      ]),
      'idempotency_key_reused',
    )
    const { queues } = await engine.queues(tenant)
    expect(queues.map((q) => [q.task, q.pending])).toEqual([['a', 1]])
  })

  it('creates two executions when called twice without a key', async () => {
    const engine = newEngine()
    const a = await enqueueOne(engine)
    const b = await enqueueOne(engine)
    expect(a).not.toBe(b)
  })

  it('publishes a notification naming the tasks that became claimable', async () => {
    const engine = newEngine()
    const sub = engine.redis.duplicate()
    const messages: string[] = []
    await sub.subscribe(engine.keys.notifyChannel())
    sub.on('message', (_ch: string, m: string) => messages.push(m))
    await engine.enqueue(tenant, [
      { task: 'a' },
      { task: 'a' },
      { task: 'b' },
      { task: 'later', delay_seconds: 60 },
    ])
    await waitFor(() => messages.length > 0)
    const [tenantId, total, ...rest] = messages[0]!.split('\x1f')
    expect(tenantId).toBe(tenant.id)
    expect(total).toBe('3')
    const pairs = Object.fromEntries(rest.flatMap((v, i) => (i % 2 === 0 ? [[v, rest[i + 1]]] : [])))
    expect(pairs).toEqual({ a: '2', b: '1' })
    sub.disconnect()
  })
})

describe('claim', () => {
  it('leases with attempt 1, epoch 1, a secret token and the requested lease length', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine, { task: 'x', payload: { a: 1 } })
    const c = await claimOne(engine, { lease_seconds: 30 })
    expect(c).toMatchObject({
      execution_id: id,
      id,
      task: 'x',
      payload: { a: 1 },
      attempt: 1,
      max_attempts: 3,
    })
    expect(c.lease.epoch).toBe(1)
    expect(c.lease.lease_seconds).toBe(30)
    expect(c.lease.token.length).toBeGreaterThanOrEqual(32)
    const r = await engine.get(tenant, id)
    expect(r.status).toBe('delivering')
    // What the claimer (and a webhook's X-CueAPI-Scheduled-For) gets is the stored instant.
    expect(c.scheduled_for).toBe(r.scheduled_for)
    expect(Date.parse(r.lease!.expires_at) - Date.parse(r.lease!.claimed_at)).toBe(30_000)
    expect(r.lease).toMatchObject({ worker_id: 'w1', epoch: 1, heartbeats: 0, last_heartbeat_at: null })
    expect(JSON.stringify(r)).not.toContain(c.lease.token)
    expect(r.history).toEqual([
      {
        attempt: 1,
        epoch: 1,
        worker_id: 'w1',
        claimed_at: r.lease!.claimed_at,
        ended_at: null,
        outcome: null,
        error: null,
        reported_with: null,
      },
    ])
  })

  it("uses the execution's lease_seconds, else the engine default", async () => {
    const engine = newEngine({ defaultLeaseSeconds: 77 })
    await enqueueOne(engine, { lease_seconds: 12 })
    await enqueueOne(engine)
    const [a, b] = await engine.claim(tenant, { worker_id: 'w', max: 2 })
    expect(a!.lease.lease_seconds).toBe(12)
    expect(b!.lease.lease_seconds).toBe(77)
  })

  it('returns nothing when nothing is claimable, and never hands one execution out twice', async () => {
    const engine = newEngine()
    expect(await engine.claim(tenant, { worker_id: 'w' })).toEqual([])
    await enqueueOne(engine)
    expect(await engine.claim(tenant, { worker_id: 'w' })).toHaveLength(1)
    expect(await engine.claim(tenant, { worker_id: 'w' })).toEqual([])
  })

  it('is FIFO within a task and priority, highest priority first', async () => {
    const engine = newEngine()
    const ids: string[] = []
    for (const priority of [0, 0, 5, 0, 5, -3]) ids.push(await enqueueOne(engine, { task: 't', priority }))
    const got = await engine.claim(tenant, { worker_id: 'w', max: 100 })
    expect(got.map((c) => c.execution_id)).toEqual([ids[2], ids[4], ids[0], ids[1], ids[3], ids[5]])
  })

  it('serves the oldest head across tasks, so no task starves another', async () => {
    const engine = newEngine()
    const a1 = await enqueueOne(engine, { task: 'a' })
    const b1 = await enqueueOne(engine, { task: 'b' })
    const a2 = await enqueueOne(engine, { task: 'a' })
    const c1 = await enqueueOne(engine, { task: 'c' })
    const got = await engine.claim(tenant, { worker_id: 'w', max: 3, task: ['c', 'b', 'a'] })
    expect(got.map((c) => c.execution_id)).toEqual([a1, b1, a2])
    expect((await engine.claim(tenant, { worker_id: 'w' }))[0]!.execution_id).toBe(c1)
  })

  it('filters by one task or a list, and batches up to max', async () => {
    const engine = newEngine()
    await engine.enqueue(tenant, [
      ...Array.from({ length: 150 }, () => ({ task: 'a' })),
      { task: 'b' },
      { task: 'c' },
    ])
    expect((await engine.claim(tenant, { worker_id: 'w', task: 'b', max: 10 })).map((c) => c.task)).toEqual([
      'b',
    ])
    const batch = await engine.claim(tenant, { worker_id: 'w', task: ['a', 'zzz'], max: 100 })
    expect(batch).toHaveLength(100)
    expect(new Set(batch.map((c) => c.lease.token)).size).toBe(100)
    expect(batch.every((c) => c.task === 'a')).toBe(true)
    expect(await engine.claim(tenant, { worker_id: 'w', task: 'nothing' })).toEqual([])
    expect((await engine.claim(tenant, { worker_id: 'w', task: 'c' }))[0]!.task).toBe('c')
  })

  it('marks the worker seen and counts its claims', async () => {
    const engine = newEngine()
    await engine.claim(tenant, { worker_id: 'idle-worker' })
    await enqueueOne(engine)
    await claimOne(engine, { worker_id: 'busy' })
    const { workers } = await engine.workers(tenant)
    const byId = Object.fromEntries(workers.map((w) => [w.worker_id, w]))
    expect(byId['idle-worker']).toMatchObject({ state: 'active', claimed: 0, in_flight: 0 })
    expect(byId.busy).toMatchObject({ state: 'active', claimed: 1, in_flight: 1 })
  })
})

describe('claim by id', () => {
  it('leases a pending execution; a second claim fails; claim-next skips it afterwards', async () => {
    const engine = newEngine()
    const a = await enqueueOne(engine)
    const b = await enqueueOne(engine)
    const c = await engine.claimById(tenant, a, { worker_id: 'w', lease_seconds: 20 })
    expect(c).toMatchObject({ execution_id: a, attempt: 1, lease: { epoch: 1, lease_seconds: 20 } })
    await expectCode(engine.claimById(tenant, a, { worker_id: 'w' }), 'claim_failed')
    const next = await engine.claim(tenant, { worker_id: 'w', max: 5 })
    expect(next.map((x) => x.execution_id)).toEqual([b])
  })

  it('answers execution_not_found and claim_failed for scheduled and terminal executions', async () => {
    const engine = newEngine()
    await expectCode(engine.claimById(tenant, 'nope', { worker_id: 'w' }), 'execution_not_found')
    const later = await enqueueOne(engine, { delay_seconds: 60 })
    await expectCode(engine.claimById(tenant, later, { worker_id: 'w' }), 'claim_failed')
  })
})

describe('queues hold exactly the pending executions', () => {
  // Cancels and claims by id remove the queue entry in the same script: nothing stale is left for
  // a later claim, listing or age to step over (issue 11: such entries once hid pending work).
  it('a CueAPI-style worker drains everything through claimable + claim by id', async () => {
    // Old layout: claimable scanned a fixed window from the head and stalled at ~110 per partition.
    const cases = [{ t: tenant, n: 240 }]
    if (backend !== 'memory') cases.push({ t: { id: 'tn_drain4', partitions: 4 }, n: 600 })
    for (const { t, n } of cases) {
      const engine = newEngine()
      const enqueued = await engine.enqueue(
        t,
        Array.from({ length: n }, () => ({ task: 'cue-work' })),
      )
      const ids = new Set(enqueued.map((r) => r.execution_id))
      const done = new Set<string>()
      for (let round = 0; round < n && done.size < ids.size; round++) {
        const listed = (await engine.claimable(t, 'cue-work')).executions
        expect(listed.length, `round ${round}: claimable listed nothing`).toBeGreaterThan(0)
        const claimed = []
        for (const e of listed.slice(0, 20)) {
          claimed.push(await engine.claimById(t, e.execution_id, { worker_id: 'cue', lease_seconds: LONG }))
        }
        await engine.reportMany(
          t,
          claimed.map((c) => ({ execution_id: c.execution_id, lease_token: c.lease.token, success: true })),
        )
        for (const c of claimed) done.add(c.execution_id)
      }
      expect(done).toEqual(ids)
      expect((await engine.queues(t)).queues).toEqual([
        expect.objectContaining({ task: 'cue-work', pending: 0, success: n, oldest_pending_age_ms: null }),
      ])
    }
  })

  it('300 cancelled ahead of a live execution: the first claim, the listing and the age see it', async () => {
    let now = 1_000_000
    const engine = newEngine({ clock: () => now })
    const cancelled = (
      await engine.enqueue(
        tenant,
        Array.from({ length: 300 }, () => ({ task: 'mail' })),
      )
    ).map((r) => r.execution_id)
    now += 1000
    const live = await enqueueOne(engine, { task: 'mail' })
    now += 4000
    for (const id of cancelled) await engine.cancel(tenant, id)
    now += 1000
    expect((await engine.claimable(tenant, 'mail')).executions.map((e) => e.execution_id)).toEqual([live])
    expect((await engine.queues(tenant)).queues[0]).toMatchObject({
      pending: 1,
      cancelled: 300,
      oldest_pending_age_ms: 5000,
    })
    const [first] = await engine.claim(tenant, { worker_id: 'w', task: 'mail' })
    expect(first?.execution_id).toBe(live)
  })

  it('the age of the oldest pending execution looks past a newer one of higher priority', async () => {
    let now = 1_000_000
    const engine = newEngine({ clock: () => now })
    await enqueueOne(engine, { task: 'mixed', priority: 0 })
    now += 3000
    await enqueueOne(engine, { task: 'mixed', priority: 5 })
    await enqueueOne(engine, { task: 'mixed', priority: -5 })
    now += 1000
    expect((await engine.queues(tenant)).queues[0]).toMatchObject({ pending: 3, oldest_pending_age_ms: 4000 })
  })
})

describe('extend (heartbeat)', () => {
  it('extends a valid lease and counts heartbeats; twice is fine', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    const c = await claimOne(engine, { lease_seconds: 10 })
    const h1 = await engine.extend(tenant, id, { lease_token: c.lease.token, extend_seconds: 100 })
    const h2 = await engine.extend(tenant, id, { lease_token: c.lease.token })
    expect(h1.acknowledged).toBe(true)
    expect(h1.lease.heartbeats).toBe(1)
    expect(h2.lease.heartbeats).toBe(2)
    expect(Date.parse(h1.lease_extended_until) - Date.parse(h1.lease.last_heartbeat_at!)).toBe(100_000)
    // The answer states the lease as it now is: 100 s long, expiring 100 s after the heartbeat.
    expect(h1.lease).toMatchObject({ lease_seconds: 100, remaining_ms: 100_000 })
    // No extend_seconds: the lease's length as it now is.
    expect(Date.parse(h2.lease_extended_until) - Date.parse(h2.lease.last_heartbeat_at!)).toBe(100_000)
    expect(h2.lease.lease_seconds).toBe(100)
    const r = await engine.get(tenant, id)
    expect(r.lease!.expires_at).toBe(h2.lease_extended_until)
  })

  it('rejects an expired lease the reaper has not reached yet: lease_lost, nothing changes', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    const c = await claimOne(engine, { lease_seconds: SHORT })
    await waitExpired(engine, id)
    await expectCode(engine.extend(tenant, id, { lease_token: c.lease.token }), 'lease_lost')
    await expectCode(engine.extend(tenant, id, {}), 'lease_lost')
    const r = await engine.get(tenant, id)
    expect(r.status).toBe('delivering')
    expect(r.lease!.heartbeats).toBe(0)
  })

  it('rejects a wrong token, and another worker without a token', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    await claimOne(engine, { worker_id: 'owner' })
    await expectCode(engine.extend(tenant, id, { lease_token: 'forged' }), 'lease_lost')
    await expectCode(engine.extend(tenant, id, { worker_id: 'intruder' }), 'not_execution_owner')
    const ok = await engine.extend(tenant, id, { worker_id: 'owner' })
    expect(ok.lease.worker_id).toBe('owner')
    const compat = await engine.extend(tenant, id, {})
    expect(compat.lease.heartbeats).toBe(2)
  })

  it('answers execution_cancelled once a cancel is requested', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    const c = await claimOne(engine)
    expect(await engine.cancel(tenant, id)).toMatchObject({ status: 'delivering', cancel_requested: true })
    await expectCode(engine.extend(tenant, id, { lease_token: c.lease.token }), 'execution_cancelled')
  })

  it('after the outcome: lease_lost with the token, execution_not_claiming without; not found', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    const c = await claimOne(engine)
    await engine.report(tenant, id, { lease_token: c.lease.token, success: true })
    await expectCode(engine.extend(tenant, id, { lease_token: c.lease.token }), 'lease_lost')
    await expectCode(engine.extend(tenant, id, {}), 'execution_not_claiming')
    await expectCode(engine.extend(tenant, 'missing', {}), 'execution_not_found')
  })
})

describe('complete', () => {
  it('records success and the evidence; the same report again gets the first answer', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    const c = await claimOne(engine)
    const first = await engine.report(tenant, id, {
      lease_token: c.lease.token,
      success: true,
      evidence: { result: { sent: 3 }, external_id: 'ext-1', metadata: { k: 'v' } },
    })
    expect(first).toEqual({
      execution_id: id,
      status: 'success',
      attempt: 1,
      outcome_recorded: true,
      next_attempt_at: null,
      outcome_state: 'reported_success',
      reason: null,
    })
    const again = await engine.report(tenant, id, { lease_token: c.lease.token, success: true })
    expect(again).toEqual(first)
    const r = await engine.get(tenant, id)
    expect(r).toMatchObject({ status: 'success', lease: null, attempt: 1 })
    expect(r.outcome).toMatchObject({
      success: true,
      result: { sent: 3 },
      external_id: 'ext-1',
      metadata: { k: 'v' },
    })
    expect(r.finished_at).not.toBeNull()
    expect(r.history[0]).toMatchObject({ outcome: 'success', worker_id: 'w1' })
    expect(r.history[0]!.ended_at).toBe(r.finished_at)
    const { workers } = await engine.workers(tenant)
    expect(workers[0]).toMatchObject({ completed: 1, in_flight: 0 })
  })

  it('a different outcome from the same lease afterwards: outcome_already_reported', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    const c = await claimOne(engine)
    await engine.report(tenant, id, { lease_token: c.lease.token, success: true })
    await expectCode(
      engine.report(tenant, id, { lease_token: c.lease.token, success: false, error: 'x' }),
      'outcome_already_reported',
    )
    await expectCode(engine.release(tenant, id, { lease_token: c.lease.token }), 'outcome_already_reported')
    expect((await engine.get(tenant, id)).status).toBe('success')
  })

  it('CueAPI clients without a token: accepted from the holder, repeated ones answered the same', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    await claimOne(engine, { worker_id: 'cue-worker' })
    await expectCode(engine.report(tenant, id, { worker_id: 'other', success: true }), 'not_execution_owner')
    const first = await engine.report(tenant, id, { worker_id: 'cue-worker', success: true })
    expect(first.status).toBe('success')
    expect(await engine.report(tenant, id, { success: true })).toEqual(first)
    await expectCode(engine.report(tenant, id, { success: false }), 'outcome_already_reported')
  })

  it('a stale token after a reap and reclaim: lease_lost, and nothing changes', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    const old = await claimOne(engine, { lease_seconds: SHORT })
    await waitExpired(engine, id)
    await expectCode(engine.report(tenant, id, { lease_token: old.lease.token, success: true }), 'lease_lost')
    const pass = await reap(engine)
    expect(pass).toMatchObject({ requeued: 1, failed: 0, expired: [id] })
    const fresh = await claimOne(engine, { worker_id: 'w2' })
    expect(fresh).toMatchObject({ execution_id: id, attempt: 2, lease: { epoch: 2 } })
    expect(fresh.lease.token).not.toBe(old.lease.token)
    const before = await engine.get(tenant, id)
    await expectCode(engine.report(tenant, id, { lease_token: old.lease.token, success: true }), 'lease_lost')
    await expectCode(
      engine.report(tenant, id, { lease_token: old.lease.token, success: false }),
      'lease_lost',
    )
    await expectCode(engine.release(tenant, id, { lease_token: old.lease.token }), 'lease_lost')
    await expectCode(engine.extend(tenant, id, { lease_token: old.lease.token }), 'lease_lost')
    const after = await engine.get(tenant, id)
    expect(after).toEqual({ ...before, lease: { ...before.lease!, remaining_ms: after.lease!.remaining_ms } })
    expect(after.history.map((a) => [a.attempt, a.epoch, a.worker_id, a.outcome])).toEqual([
      [1, 1, 'w1', 'lease_expired'],
      [2, 2, 'w2', null],
    ])
    expect((await engine.report(tenant, id, { lease_token: fresh.lease.token, success: true })).status).toBe(
      'success',
    )
  })

  it('a batch of reports: each item on its own, repeats within the batch answered the same', async () => {
    const engine = newEngine()
    await engine.enqueue(tenant, [{}, {}, {}])
    const [a, b, c] = await engine.claim(tenant, { worker_id: 'w', max: 3, lease_seconds: LONG })
    const results = await engine.reportMany(tenant, [
      { execution_id: a!.execution_id, lease_token: a!.lease.token, success: true },
      { execution_id: b!.execution_id, lease_token: 'stale', success: true },
      { execution_id: a!.execution_id, lease_token: a!.lease.token, success: true },
      { execution_id: c!.execution_id, lease_token: c!.lease.token, success: false, retry: false },
      { execution_id: 'missing', lease_token: 'x', success: true },
    ])
    expect(results).toEqual([
      {
        execution_id: a!.execution_id,
        status: 'success',
        attempt: 1,
        outcome_recorded: true,
        next_attempt_at: null,
        outcome_state: 'reported_success',
        reason: null,
      },
      { execution_id: b!.execution_id, error: 'lease_lost' },
      {
        execution_id: a!.execution_id,
        status: 'success',
        attempt: 1,
        outcome_recorded: true,
        next_attempt_at: null,
        outcome_state: 'reported_success',
        reason: null,
      },
      expect.objectContaining({ execution_id: c!.execution_id, status: 'failed' }),
      { execution_id: 'missing', error: 'execution_not_found' },
    ])
    expect((await engine.get(tenant, b!.execution_id)).status).toBe('delivering')
    const { queues } = await engine.queues(tenant)
    expect(queues[0]).toMatchObject({ success: 1, failed: 1, delivering: 1 })
  })

  it('answers execution_not_found and execution_not_claiming', async () => {
    const engine = newEngine()
    await expectCode(engine.report(tenant, 'missing', { success: true }), 'execution_not_found')
    const id = await enqueueOne(engine)
    await expectCode(engine.report(tenant, id, { success: true }), 'execution_not_claiming')
    await expectCode(engine.report(tenant, id, { success: true, lease_token: 'x' }), 'lease_lost')
  })
})

describe('fail', () => {
  it('retries after the backoff of the attempt, exactly, then fails when attempts are exhausted', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine, { max_attempts: 2, backoff_seconds: [0.05, 7] })
    const c1 = await claimOne(engine)
    const r1 = await engine.report(tenant, id, {
      lease_token: c1.lease.token,
      success: false,
      error: 'boom 1',
    })
    expect(r1).toMatchObject({ status: 'retrying', attempt: 1 })
    const rec = await engine.get(tenant, id)
    expect(Date.parse(rec.next_attempt_at!) - Date.parse(rec.updated_at)).toBe(50)
    expect(rec.next_attempt_at).toBe(r1.next_attempt_at)
    expect(rec.error_message).toBe('boom 1')
    expect(await engine.claim(tenant, { worker_id: 'w' })).toEqual([])
    await waitFor(async () => (await reap(engine)).promoted === 1, { message: 'not promoted' })
    const c2 = await claimOne(engine)
    expect(c2).toMatchObject({ execution_id: id, attempt: 2, lease: { epoch: 2 } })
    const r2 = await engine.report(tenant, id, {
      lease_token: c2.lease.token,
      success: false,
      error: 'boom 2',
    })
    expect(r2).toMatchObject({ status: 'failed', attempt: 2, next_attempt_at: null })
    const done = await engine.get(tenant, id)
    expect(done).toMatchObject({
      status: 'failed',
      failure_reason: 'attempts_exhausted',
      error_message: 'boom 2',
    })
    expect(done.history.map((a) => [a.outcome, a.error])).toEqual([
      ['failure', 'boom 1'],
      ['failure', 'boom 2'],
    ])
  })

  it('uses the default backoff list, the last value repeating', async () => {
    const engine = newEngine({ defaultBackoffSeconds: [2, 3] })
    const id = await enqueueOne(engine, { max_attempts: 5 })
    for (const [attempt, expected] of [
      [1, 2000],
      [2, 3000],
      [3, 3000],
    ] as const) {
      const c = await engine.claimById(tenant, id, { worker_id: 'w' }).catch(async () => {
        await engine.redis.zadd(`${engine.keys.partition({ tenantId: tenant.id, partition: 0 })}sched`, 0, id)
        await reap(engine)
        return engine.claimById(tenant, id, { worker_id: 'w' })
      })
      expect(c.attempt).toBe(attempt)
      const r = await engine.report(tenant, id, { lease_token: c.lease.token, success: false })
      const rec = await engine.get(tenant, id)
      expect(Date.parse(r.next_attempt_at!) - Date.parse(rec.updated_at)).toBe(expected)
    }
  })

  it('honours retry_after_seconds; 0 makes it pending at once', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    const c = await claimOne(engine)
    const r = await engine.report(tenant, id, {
      lease_token: c.lease.token,
      success: false,
      retry_after_seconds: 0,
    })
    expect(r).toMatchObject({ status: 'pending', next_attempt_at: null })
    const again = await claimOne(engine)
    const r2 = await engine.report(tenant, id, {
      lease_token: again.lease.token,
      success: false,
      retry_after_seconds: 90,
    })
    const rec = await engine.get(tenant, id)
    expect(Date.parse(r2.next_attempt_at!) - Date.parse(rec.updated_at)).toBe(90_000)
  })

  it('retry: false is terminal at once (non_retryable); a repeat gets the first answer', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine, { max_attempts: 5 })
    const c = await claimOne(engine)
    const first = await engine.report(tenant, id, {
      lease_token: c.lease.token,
      success: false,
      retry: false,
      error: 'bad input',
    })
    expect(first).toMatchObject({ status: 'failed', attempt: 1 })
    expect(
      await engine.report(tenant, id, { lease_token: c.lease.token, success: false, retry: false }),
    ).toEqual(first)
    await expectCode(
      engine.report(tenant, id, { lease_token: c.lease.token, success: true }),
      'outcome_already_reported',
    )
    expect((await engine.get(tenant, id)).failure_reason).toBe('non_retryable')
  })

  it('a failure of a cancel-requested execution ends it cancelled', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    const c = await claimOne(engine)
    await engine.cancel(tenant, id)
    const r = await engine.report(tenant, id, { lease_token: c.lease.token, success: false })
    expect(r.status).toBe('cancelled')
    expect((await engine.get(tenant, id)).history[0]!.outcome).toBe('failure')
  })

  it('a stale or expired lease: lease_lost', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    const c = await claimOne(engine, { lease_seconds: SHORT })
    await waitExpired(engine, id)
    await expectCode(engine.report(tenant, id, { lease_token: c.lease.token, success: false }), 'lease_lost')
    expect((await engine.get(tenant, id)).attempt).toBe(1)
  })
})

describe('release', () => {
  it('returns it to pending without consuming the attempt; the next claim has the next number', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine, { max_attempts: 1 })
    const c = await claimOne(engine)
    const r = await engine.release(tenant, id, { lease_token: c.lease.token })
    expect(r).toMatchObject({ status: 'pending', attempt: 1 })
    expect(await engine.release(tenant, id, { lease_token: c.lease.token })).toEqual(r)
    expect(await engine.get(tenant, id)).toMatchObject({ status: 'pending', attempt: 1 })
    // One attempt number per claim, everywhere; the released one does not count against max_attempts.
    const again = await claimOne(engine, { worker_id: 'w2' })
    expect(again).toMatchObject({ execution_id: id, attempt: 2, lease: { epoch: 2 } })
    const rec = await engine.get(tenant, id)
    expect(rec.history.map((a) => [a.attempt, a.epoch, a.outcome, a.reported_with])).toEqual([
      [1, 1, 'released', 'lease_token'],
      [2, 2, null, null],
    ])
    const failed = await engine.report(tenant, id, {
      lease_token: again.lease.token,
      success: false,
      error: 'x',
    })
    expect(failed).toMatchObject({ status: 'failed', attempt: 2 })
  })

  it('records how each report was authorised: lease token, worker id, or the API key alone', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine, { max_attempts: 5, backoff_seconds: [0] })
    const a = await claimOne(engine, { worker_id: 'wa' })
    await engine.report(tenant, id, { lease_token: a.lease.token, success: false, error: 'one' })
    await claimOne(engine, { worker_id: 'wb' })
    await engine.report(tenant, id, { worker_id: 'wb', success: false, error: 'two' })
    await claimOne(engine, { worker_id: 'wc' })
    await engine.release(tenant, id, {})
    await claimOne(engine, { worker_id: 'wd' })
    await engine.report(tenant, id, { success: true })
    const rec = await engine.get(tenant, id)
    expect(rec.history.map((x) => [x.attempt, x.worker_id, x.outcome, x.reported_with])).toEqual([
      [1, 'wa', 'failure', 'lease_token'],
      [2, 'wb', 'failure', 'worker_id'],
      [3, 'wc', 'released', 'api_key'],
      [4, 'wd', 'success', 'api_key'],
    ])
    // A success without a result is still an outcome.
    expect(rec.outcome).toMatchObject({ success: true, recorded_at: rec.finished_at })
  })

  it('with a delay it is scheduled, then promoted', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    const c = await claimOne(engine)
    const r = await engine.release(tenant, id, { lease_token: c.lease.token, delay_seconds: 0.05 })
    expect(r.status).toBe('scheduled')
    expect(await engine.claim(tenant, { worker_id: 'w' })).toEqual([])
    await waitFor(async () => (await reap(engine)).promoted === 1)
    expect((await claimOne(engine)).execution_id).toBe(id)
  })

  it('errors: lease_lost for a stale token, execution_not_found', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    await claimOne(engine)
    await expectCode(engine.release(tenant, id, { lease_token: 'nope' }), 'lease_lost')
    await expectCode(engine.release(tenant, 'missing', {}), 'execution_not_found')
  })
})

describe('reap', () => {
  it('re-queues an expired lease under the same id and records lease_expired; twice is a no-op', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    const live = await enqueueOne(engine)
    await claimOne(engine, { lease_seconds: SHORT })
    await claimOne(engine, { lease_seconds: LONG })
    await waitExpired(engine, id)
    const pass = await reap(engine)
    expect(pass).toMatchObject({ requeued: 1, failed: 0, expired: [id] })
    expect(pass.next).toBeGreaterThan(pass.now)
    expect((await reap(engine)).requeued).toBe(0)
    expect((await engine.get(tenant, live)).status).toBe('delivering')
    const r = await engine.get(tenant, id)
    expect(r).toMatchObject({ status: 'pending', attempt: 1, lease: null })
    expect(r.history[0]).toMatchObject({ outcome: 'lease_expired', epoch: 1 })
    const { workers } = await engine.workers(tenant)
    expect(workers[0]!.in_flight).toBe(1)
  })

  it('on the last attempt the execution fails with reason lease_expired', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine, { max_attempts: 1 })
    await claimOne(engine, { lease_seconds: SHORT })
    await waitExpired(engine, id)
    expect(await reap(engine)).toMatchObject({ requeued: 0, failed: 1 })
    expect(await engine.get(tenant, id)).toMatchObject({ status: 'failed', failure_reason: 'lease_expired' })
  })

  it('a cancel-requested execution whose lease expires ends cancelled', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    await claimOne(engine, { lease_seconds: 0.3 })
    expect((await engine.cancel(tenant, id)).cancel_requested).toBe(true)
    await waitExpired(engine, id)
    await reap(engine)
    expect((await engine.get(tenant, id)).status).toBe('cancelled')
  })

  it('leaves a heartbeated lease alone', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    const c = await claimOne(engine, { lease_seconds: 0.5 })
    await engine.extend(tenant, id, { lease_token: c.lease.token, extend_seconds: 60 })
    expect((await reap(engine)).requeued).toBe(0)
    expect((await engine.get(tenant, id)).status).toBe('delivering')
  })
})

describe('promote', () => {
  it('makes due scheduled executions pending, leaves later ones, twice is a no-op', async () => {
    const engine = newEngine()
    const soon = await enqueueOne(engine, { delay_seconds: 0.05 })
    const later = await enqueueOne(engine, { delay_seconds: 3600 })
    await waitFor(async () => (await reap(engine)).promoted === 1)
    expect((await reap(engine)).promoted).toBe(0)
    expect((await engine.get(tenant, soon)).status).toBe('pending')
    expect((await engine.get(tenant, later)).status).toBe('scheduled')
    expect((await claimOne(engine)).execution_id).toBe(soon)
  })
})

describe('cancel', () => {
  it('cancels pending (no longer claimable), scheduled and retrying; twice is harmless', async () => {
    const engine = newEngine()
    const pending = await enqueueOne(engine)
    const scheduled = await enqueueOne(engine, { delay_seconds: 60 })
    const retrying = await enqueueOne(engine)
    const c = await engine.claimById(tenant, retrying, { worker_id: 'w' })
    await engine.report(tenant, retrying, {
      lease_token: c.lease.token,
      success: false,
      retry_after_seconds: 60,
    })
    for (const id of [pending, scheduled, retrying]) {
      expect(await engine.cancel(tenant, id)).toMatchObject({ status: 'cancelled', cancel_requested: false })
      expect(await engine.cancel(tenant, id)).toMatchObject({ status: 'cancelled' })
      const r = await engine.get(tenant, id)
      expect(r.status).toBe('cancelled')
      expect(r.failure_reason).toBe('cancelled')
    }
    expect(await engine.claim(tenant, { worker_id: 'w', max: 10 })).toEqual([])
    const q = await engine.queues(tenant)
    expect(q.queues[0]).toMatchObject({ pending: 0, scheduled: 0, retrying: 0, cancelled: 3 })
  })

  it('a delivering execution with an expired lease is cancelled at once', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    await claimOne(engine, { lease_seconds: SHORT })
    await waitExpired(engine, id)
    expect(await engine.cancel(tenant, id)).toMatchObject({ status: 'cancelled', cancel_requested: false })
    expect((await engine.get(tenant, id)).history[0]!.outcome).toBe('cancelled')
  })

  it('a finished execution: execution_not_cancellable; unknown: execution_not_found', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    const c = await claimOne(engine)
    await engine.report(tenant, id, { lease_token: c.lease.token, success: true })
    await expectCode(engine.cancel(tenant, id), 'execution_not_cancellable')
    await expectCode(engine.cancel(tenant, 'missing'), 'execution_not_found')
  })
})

describe('replay', () => {
  it('runs a terminal execution again as a new one with the same task and payload', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine, {
      task: 'r',
      payload: { n: 1, pad: 'p'.repeat(100) },
      max_attempts: 4,
      priority: 2,
    })
    const c = await claimOne(engine)
    await engine.report(tenant, id, { lease_token: c.lease.token, success: false, retry: false })
    const replayed = await engine.replay(tenant, id)
    expect(replayed.execution_id).not.toBe(id)
    expect(replayed).toMatchObject({
      status: 'pending',
      task: 'r',
      payload: { n: 1, pad: 'p'.repeat(100) },
      max_attempts: 4,
      priority: 2,
      attempt: 0,
      replayed_from: id,
    })
    const twice = await engine.replay(tenant, id)
    expect(twice.execution_id).not.toBe(replayed.execution_id)
  })

  it('refuses a non-terminal execution and an unknown one', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    await expectCode(engine.replay(tenant, id), 'execution_not_terminal')
    await expectCode(engine.replay(tenant, 'missing'), 'execution_not_found')
  })
})

describe('reads', () => {
  it('lists newest first with filters and a cursor that walks every page exactly once', async () => {
    const engine = newEngine()
    const ids: string[] = []
    for (let i = 0; i < 23; i++) ids.push(await enqueueOne(engine, { task: i % 2 ? 'odd' : 'even' }))
    const seen: string[] = []
    let cursor: string | undefined
    for (;;) {
      const page = await engine.list(tenant, { limit: 5, cursor })
      seen.push(...page.executions.map((e) => e.execution_id))
      if (!page.has_more) break
      cursor = page.next_cursor!
    }
    expect(seen).toEqual([...ids].reverse())
    const odd = await engine.list(tenant, { task: 'odd', limit: 100 })
    expect(odd.executions).toHaveLength(11)
    expect(odd.has_more).toBe(false)
    const c = await claimOne(engine, { worker_id: 'lister' })
    const delivering = await engine.list(tenant, { status: 'delivering', limit: 100 })
    expect(delivering.executions.map((e) => e.execution_id)).toEqual([c.execution_id])
    expect((await engine.list(tenant, { worker_id: 'lister' })).executions).toHaveLength(1)
    expect((await engine.list(tenant, { status__in: ['delivering', 'success'] })).executions).toHaveLength(1)
    await expectCode(engine.list(tenant, { cursor: 'garbage!' }), 'invalid_cursor')
  })

  it('lists live leases sorted by expiry, filtered, expired-but-not-reaped included', async () => {
    const engine = newEngine()
    await engine.enqueue(tenant, [{ task: 'a' }, { task: 'b' }, { task: 'a' }])
    const a = await claimOne(engine, { worker_id: 'w1', lease_seconds: 300, task: 'a' })
    const b = await claimOne(engine, { worker_id: 'w2', lease_seconds: 100, task: 'b' })
    const e = await claimOne(engine, { worker_id: 'w1', lease_seconds: SHORT, task: 'a' })
    await waitExpired(engine, e.execution_id)
    const all = await engine.leases(tenant, {})
    expect(all.leases.map((l) => l.execution_id)).toEqual([e.execution_id, b.execution_id, a.execution_id])
    expect(all.leases[0]!.remaining_ms).toBeLessThanOrEqual(0)
    expect(all.leases[1]).toMatchObject({ worker_id: 'w2', task: 'b', epoch: 1, attempt: 1, heartbeats: 0 })
    expect((await engine.leases(tenant, { worker_id: 'w1' })).leases).toHaveLength(2)
    expect((await engine.leases(tenant, { task: 'b' })).leases).toHaveLength(1)
    expect((await engine.leases(tenant, { expiring_within_seconds: 200 })).leases).toHaveLength(2)
    expect(JSON.stringify(all)).not.toContain(a.lease.token)
  })

  it('counts by status per task, with the oldest pending age', async () => {
    const engine = newEngine()
    await engine.enqueue(tenant, [{ task: 'a' }, { task: 'a' }, { task: 'b', delay_seconds: 60 }])
    const c = await claimOne(engine)
    await engine.report(tenant, c.execution_id, { lease_token: c.lease.token, success: true })
    const { queues } = await engine.queues(tenant)
    expect(queues).toEqual([
      expect.objectContaining({ task: 'a', pending: 1, delivering: 0, success: 1 }),
      expect.objectContaining({ task: 'b', pending: 0, scheduled: 1, oldest_pending_age_ms: null }),
    ])
    expect(queues[0]!.oldest_pending_age_ms).toBeGreaterThanOrEqual(0)
  })

  it('lists claimable executions, filtering by task before the limit', async () => {
    const engine = newEngine()
    await engine.enqueue(
      tenant,
      Array.from({ length: 60 }, () => ({ task: 'busy' })),
    )
    const quietId = await enqueueOne(engine, { task: 'quiet', payload: { q: 1 } })
    const past = new Date(Date.now() - 60_000).toISOString()
    await engine.enqueue(tenant, [{ task: 'late', scheduled_for: past }])
    const all = await engine.claimable(tenant)
    expect(all.executions).toHaveLength(50)
    const quiet = await engine.claimable(tenant, 'quiet')
    expect(quiet.executions).toEqual([
      expect.objectContaining({ task: 'quiet', payload: { q: 1 }, attempt: 0 }),
    ])
    // Due at creation, or at its scheduled_for: as the record says.
    const record = await engine.get(tenant, quietId)
    expect(quiet.executions[0]!.scheduled_for).toBe(record.created_at)
    expect((await engine.claimable(tenant, 'late')).executions[0]!.scheduled_for).toBe(past)
  })

  it('shows a worker whose lease expired unreported as lost, until it shows a sign of life', async () => {
    const engine = newEngine()
    const id = await enqueueOne(engine)
    await claimOne(engine, { worker_id: 'crashed', lease_seconds: SHORT })
    await waitExpired(engine, id)
    await reap(engine)
    const [lost] = (await engine.workers(tenant)).workers
    expect(lost).toMatchObject({
      worker_id: 'crashed',
      state: 'lost',
      lost_execution_id: id,
      heartbeat_status: 'stale',
    })
    expect(Date.parse(lost!.lost_at!)).toBeGreaterThanOrEqual(Date.parse(lost!.last_seen_at))
    await engine.workerHeartbeat(tenant, 'crashed')
    expect((await engine.workers(tenant)).workers[0]).toMatchObject({
      state: 'active',
      lost_execution_id: id,
    })
  })

  it('counts activity per minute: enqueues, claims, completions, failures, reclaims', async () => {
    const engine = newEngine()
    const ids = (
      await engine.enqueue(
        tenant,
        Array.from({ length: 4 }, () => ({ max_attempts: 3 })),
      )
    ).map((r) => r.execution_id)
    const leased = await engine.claim(tenant, { worker_id: 'w', max: 3, lease_seconds: LONG })
    await engine.report(tenant, leased[0]!.execution_id, {
      lease_token: leased[0]!.lease.token,
      success: true,
    })
    await engine.report(tenant, leased[1]!.execution_id, {
      lease_token: leased[1]!.lease.token,
      success: false,
      retry: false,
    })
    const [short] = await engine.claim(tenant, { worker_id: 'w', lease_seconds: SHORT })
    await waitExpired(engine, short!.execution_id)
    await reap(engine)
    const { minutes } = await engine.rates(tenant, 15)
    expect(minutes).toHaveLength(15)
    const sum = (f: 'enqueues' | 'claims' | 'completions' | 'failures' | 'reclaims') =>
      minutes.reduce((n, m) => n + m[f], 0)
    expect([sum('enqueues'), sum('claims'), sum('completions'), sum('failures'), sum('reclaims')]).toEqual([
      ids.length,
      4,
      1,
      1,
      1,
    ])
    expect(Date.parse(minutes[14]!.at)).toBeGreaterThan(Date.parse(minutes[0]!.at))
  })

  it('records worker heartbeats with handlers and forgets deleted workers', async () => {
    const engine = newEngine()
    await engine.workerHeartbeat(tenant, 'w9', ['a', 'b'])
    expect((await engine.workers(tenant)).workers).toEqual([
      expect.objectContaining({ worker_id: 'w9', handlers: ['a', 'b'], state: 'active' }),
    ])
    expect(await engine.deleteWorker(tenant, 'w9')).toBe(true)
    expect(await engine.deleteWorker(tenant, 'w9')).toBe(false)
    expect((await engine.workers(tenant)).workers).toEqual([])
  })
})

describe('retention', () => {
  it('purges terminal executions after the retention and keeps the counts right', async () => {
    const engine = newEngine({ retentionSeconds: 0.05 })
    const id = await enqueueOne(engine, { task: 'r' })
    const keep = await enqueueOne(engine, { task: 'r' })
    const c = await engine.claimById(tenant, id, { worker_id: 'w' })
    await engine.report(tenant, id, { lease_token: c.lease.token, success: true })
    await waitFor(async () => (await reap(engine)).purged === 1)
    await expectCode(engine.get(tenant, id), 'execution_not_found')
    expect((await engine.get(tenant, keep)).status).toBe('pending')
    const { queues } = await engine.queues(tenant)
    expect(queues).toEqual([expect.objectContaining({ task: 'r', pending: 1, success: 0 })])
    expect((await engine.list(tenant, {})).executions.map((e) => e.execution_id)).toEqual([keep])
  })
})

describe('partitions', () => {
  const wide = { id: 'tn_wide', partitions: 4 }

  it('spreads one tenant over partitions; claims visit them all; lists page across them', async () => {
    const engine = newEngine()
    const results = await engine.enqueue(
      wide,
      Array.from({ length: 40 }, (_, i) => ({ payload: { i } })),
    )
    const ids = new Set(results.map((r) => r.execution_id))
    const listed: string[] = []
    let cursor: string | undefined
    for (;;) {
      const page = await engine.list(wide, { limit: 7, cursor })
      listed.push(...page.executions.map((e) => e.execution_id))
      if (!page.has_more) break
      cursor = page.next_cursor!
    }
    expect(listed).toHaveLength(40)
    expect(new Set(listed)).toEqual(ids)
    const claimed = new Set<string>()
    for (let i = 0; i < 20; i++)
      for (const c of await engine.claim(wide, { worker_id: 'w', max: 3 })) claimed.add(c.execution_id)
    expect(claimed).toEqual(ids)
    const [again] = await engine.enqueue(wide, [{ idempotency_key: 'same' }])
    const [dup] = await engine.enqueue(wide, [{ idempotency_key: 'same' }])
    expect(dup!.execution_id).toBe(again!.execution_id)
    expect((await engine.queues(wide)).queues[0]).toMatchObject({ delivering: 40, pending: 1 })
  })
})
