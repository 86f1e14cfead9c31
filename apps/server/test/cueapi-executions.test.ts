import { waitFor } from '@cuekit/scripts/lib/wait'
import { describe, expect, it } from 'vitest'
import { makeApp, type TestApp } from './helpers.ts'
import { startReceiver } from './receiver.ts'
import { STORES } from './stores.ts'

// Issue 12 §1, §2, §5 as the server exposes them: the execution listing CueAPI's clients page
// through (limit/offset, filters, every CueAPI status name), a cue's page with its executions
// and stats, fire's options, resuming a fired one-time cue, and a webhook handler's outcome
// recorded beside its delivery. On Redis and the in-memory store.

async function workerCue(t: TestApp, body: Record<string, unknown> = {}) {
  const task = `t${Math.random().toString(36).slice(2, 8)}`
  const cue = await t.json('POST', '/v1/cues', {
    name: task,
    transport: 'worker',
    schedule: { type: 'recurring', cron: '0 0 1 1 *' },
    payload: { task, base: 1 },
    ...body,
  })
  expect(cue.status, JSON.stringify(cue.body)).toBe(201)
  return { id: cue.body.id as string, task }
}

async function claimAndReport(t: TestApp, task: string, worker: string, body: Record<string, unknown>) {
  const claim = await t.json('POST', '/v1/executions/claim', { worker_id: worker, task })
  const e = claim.body.executions[0]
  const r = await t.json('POST', `/v1/executions/${e.execution_id}/outcome`, {
    lease_token: e.lease.token,
    ...body,
  })
  expect(r.status, JSON.stringify(r.body)).toBe(200)
  return e.execution_id as string
}

describe.each(STORES)('GET /v1/executions on %s', (store) => {
  it('pages with limit (1-100, default 20) and offset, answering total/limit/offset/has_more and a cursor', async () => {
    const t = await makeApp({}, { store })
    const bulk = await t.json('POST', '/v1/executions/bulk', {
      executions: Array.from({ length: 25 }, (_, i) => ({ task: 'page', payload: { i } })),
    })
    expect(bulk.status).toBe(201)
    const first = await t.json('GET', '/v1/executions')
    expect(first.status).toBe(200)
    expect(first.body).toMatchObject({ total: 25, limit: 20, offset: 0, has_more: true })
    expect(first.body.executions).toHaveLength(20)
    expect(typeof first.body.next_cursor).toBe('string')
    const second = await t.json('GET', '/v1/executions?limit=20&offset=20')
    expect(second.body).toMatchObject({ total: 25, limit: 20, offset: 20, has_more: false })
    expect(second.body.executions).toHaveLength(5)
    const ids = [...first.body.executions, ...second.body.executions].map((e: any) => e.id)
    expect(new Set(ids).size).toBe(25)
    // The cursor continues where the first page ended.
    const next = await t.json('GET', `/v1/executions?cursor=${encodeURIComponent(first.body.next_cursor)}`)
    expect(next.body.executions.map((e: any) => e.id)).toEqual(second.body.executions.map((e: any) => e.id))
    expect(next.body.next_cursor).toBeNull()
    // Newest first (created_at desc).
    const created = first.body.executions.map((e: any) => Date.parse(e.created_at))
    expect([...created].sort((a, b) => b - a)).toEqual(created)
    expect((await t.json('GET', '/v1/executions?limit=100')).body.executions).toHaveLength(25)
    for (const q of ['limit=0', 'limit=101', 'offset=-1', 'limit=abc', 'offset=5&cursor=abc', 'bogus=1']) {
      const r = await t.json('GET', `/v1/executions?${q}`)
      expect(r.status, q).toBe(422)
      expect(r.body.error.code).toBe('validation_error')
    }
  })

  it('accepts every CueAPI status name, mapped; an unknown one is 422 naming the allowed ones', async () => {
    const t = await makeApp({}, { store })
    const cueapi = [
      'pending',
      'delivering',
      'success',
      'failed',
      'retrying',
      'retry_ready',
      'missed',
      'pending_outcome',
      'outcome_timeout',
    ]
    for (const status of [...cueapi, 'scheduled', 'cancelled']) {
      const r = await t.json('GET', `/v1/executions?status=${status}`)
      expect(r.status, status).toBe(200)
    }
    expect((await t.json('GET', `/v1/executions?status__in=${cueapi.join(',')}`)).status).toBe(200)
    for (const q of ['status=queued', 'status__in=pending,queued']) {
      const r = await t.json('GET', `/v1/executions?${q}`)
      expect(r.status, q).toBe(422)
      expect(r.body.error.code).toBe('validation_error')
      for (const name of ['retry_ready', 'pending_outcome', 'outcome_timeout', 'scheduled']) {
        expect(r.body.error.message, q).toContain(name)
      }
    }
    const both = await t.json('GET', '/v1/executions?status=pending&status__in=failed')
    expect(both.status).toBe(422)
    expect(both.body.error.message).toContain('status__in')
  })

  it('retry_ready is an execution waiting to be claimed again after a failed attempt', async () => {
    const t = await makeApp({}, { store })
    const e = await t.json('POST', '/v1/executions', { task: 'again', backoff_seconds: [0] })
    const fresh = await t.json('POST', '/v1/executions', { task: 'again' })
    await claimAndReport(t, 'again', 'w1', { success: false, error: 'flaky' })
    const ready = await waitFor(
      async () => {
        const r = await t.json('GET', '/v1/executions?status=retry_ready')
        return r.body.executions.length === 1 ? r.body : null
      },
      { timeoutMs: 5000, message: 'never retry_ready' },
    )
    expect(ready.executions[0].id).toBe(e.body.id)
    const pending = await t.json('GET', '/v1/executions?status=pending')
    expect(pending.body.executions.map((x: any) => x.id).sort()).toEqual([e.body.id, fresh.body.id].sort())
  })

  it('filters by cue_id, worker_id, outcome_state, task and triggered_by', async () => {
    const t = await makeApp({}, { store })
    const a = await workerCue(t)
    const b = await workerCue(t, { verification: { mode: 'manual' } })
    await t.json('POST', `/v1/cues/${a.id}/fire`, {})
    await t.json('POST', `/v1/cues/${b.id}/fire`, {})
    await t.json('POST', '/v1/executions', { task: a.task })
    const aDone = await claimAndReport(t, a.task, 'worker-a', { success: true })
    const bDone = await claimAndReport(t, b.task, 'worker-b', { success: true })
    const ids = async (q: string) => {
      const r = await t.json('GET', `/v1/executions?${q}`)
      expect(r.status, q).toBe(200)
      return r.body.executions.map((e: any) => e.id).sort()
    }
    expect(await ids(`cue_id=${b.id}`)).toEqual([bDone])
    expect(await ids('worker_id=worker-a')).toEqual([aDone])
    expect(await ids('outcome_state=verification_pending')).toEqual([bDone])
    expect(await ids('outcome_state=reported_success')).toEqual([aDone])
    expect((await ids(`task=${a.task}`)).length).toBe(2)
    expect((await ids('triggered_by=manual_fire')).sort()).toEqual([aDone, bDone].sort())
    expect((await ids('triggered_by=api')).length).toBe(1)
    expect(await ids('triggered_by=chain')).toEqual([])
    for (const q of ['outcome_state=great', 'triggered_by=someone']) {
      const r = await t.json('GET', `/v1/executions?${q}`)
      expect(r.status, q).toBe(422)
      expect(r.body.error.message).toContain(q.split('=')[0])
    }
  })
})

describe.each(STORES)('cues the CueAPI way on %s', (store) => {
  it('GET /v1/cues/{id} embeds its newest executions (execution_limit/offset/total) and stats', async () => {
    const t = await makeApp({}, { store })
    const c = await workerCue(t)
    const fired: string[] = []
    for (let i = 0; i < 3; i++) fired.push((await t.json('POST', `/v1/cues/${c.id}/fire`, {})).body.id)
    await claimAndReport(t, c.task, 'w', { success: true })
    await claimAndReport(t, c.task, 'w', { success: false, error: 'no', retry: false })
    const detail = await t.json('GET', `/v1/cues/${c.id}`)
    expect(detail.status).toBe(200)
    expect(detail.body).toMatchObject({ execution_total: 3, execution_limit: 10, execution_offset: 0 })
    expect(detail.body.executions.map((e: any) => e.id)).toEqual([...fired].reverse())
    expect(detail.body.stats).toMatchObject({
      period_days: 7,
      successes: 1,
      failures: 1,
      success_rate: 0.5,
    })
    expect(detail.body.stats.p50_duration_ms).not.toBeNull()
    const page = await t.json('GET', `/v1/cues/${c.id}?execution_limit=1&execution_offset=1`)
    expect(page.body).toMatchObject({ execution_total: 3, execution_limit: 1, execution_offset: 1 })
    expect(page.body.executions.map((e: any) => e.id)).toEqual([fired[1]])
    for (const q of ['execution_limit=0', 'execution_limit=101', 'execution_offset=-1']) {
      expect((await t.json('GET', `/v1/cues/${c.id}?${q}`)).status, q).toBe(422)
    }
  })

  it('fire: payload_override merged or replacing, send_at, idempotency_key', async () => {
    const t = await makeApp({}, { store })
    const c = await workerCue(t)
    const merged = await t.json('POST', `/v1/cues/${c.id}/fire`, { payload_override: { day: 'mon' } })
    expect(merged.status).toBe(200)
    expect(merged.body).toMatchObject({ cue_id: c.id, triggered_by: 'manual_fire' })
    expect(merged.body.payload).toEqual({ task: c.task, base: 1, day: 'mon' })
    const replaced = await t.json('POST', `/v1/cues/${c.id}/fire`, {
      payload_override: { task: c.task, only: true },
      merge_strategy: 'replace',
    })
    expect(replaced.body.payload).toEqual({ task: c.task, only: true })
    const later = new Date(Date.now() + 3_600_000).toISOString()
    const scheduled = await t.json('POST', `/v1/cues/${c.id}/fire`, { send_at: later })
    expect(scheduled.body.status).toBe('scheduled')
    expect(Date.parse(scheduled.body.scheduled_for)).toBe(Date.parse(later))
    const past = await t.json('POST', `/v1/cues/${c.id}/fire`, { send_at: '2020-01-01T00:00:00Z' })
    expect(past.body.status).toBe('pending')
    const once = await t.json('POST', `/v1/cues/${c.id}/fire`, { idempotency_key: 'k1' })
    const twice = await t.json('POST', `/v1/cues/${c.id}/fire`, { idempotency_key: 'k1' })
    expect(twice.body.id).toBe(once.body.id)
    expect((await t.json('POST', `/v1/cues/${c.id}/fire`, { idempotency_key: 'k2' })).body.id).not.toBe(
      once.body.id,
    )
    const bad = await t.json('POST', `/v1/cues/${c.id}/fire`, { merge_strategy: 'deep' })
    expect(bad.status).toBe(422)
    expect(bad.body.error.message).toContain('merge_strategy')
    expect((await t.json('POST', '/v1/cues/cue_nope/fire', {})).body.error.code).toBe('cue_not_found')
  })

  it('alerts settings are checked as CueAPI documents them (consecutive_failures 1-100, missed_window_multiplier 1-10)', async () => {
    const t = await makeApp({}, { store })
    for (const alerts of [
      { consecutive_failures: 0 },
      { consecutive_failures: 101 },
      { consecutive_failures: 'three' },
      { consecutive_failures: 2.5 },
      { missed_window_multiplier: 11 },
    ]) {
      const r = await t.json('POST', '/v1/cues', {
        name: `a${Math.random()}`,
        transport: 'worker',
        schedule: { type: 'recurring', cron: '0 0 1 1 *' },
        alerts,
      })
      expect(r.status, JSON.stringify(alerts)).toBe(422)
      expect(r.body.error.message).toContain('alerts.')
    }
    const c = await workerCue(t, { alerts: { consecutive_failures: 5, missed_window_multiplier: 2 } })
    expect((await t.json('GET', `/v1/cues/${c.id}`)).body.alerts).toEqual({
      consecutive_failures: 5,
      missed_window_multiplier: 2,
    })
    const bad = await t.json('PATCH', `/v1/cues/${c.id}`, { alerts: { consecutive_failures: -1 } })
    expect(bad.status).toBe(422)
  })

  it('replay carries the payload override forward; on_success_fire chains, refusing cycles', async () => {
    const t = await makeApp({}, { store })
    const child = await workerCue(t)
    const parent = await workerCue(t, { on_success_fire: child.id })
    const fired = await t.json('POST', `/v1/cues/${parent.id}/fire`, { payload_override: { day: 'tue' } })
    const done = await claimAndReport(t, parent.task, 'w', { success: true })
    expect(done).toBe(fired.body.id)
    const replay = await t.json('POST', `/v1/executions/${done}/replay`)
    expect(replay.status, JSON.stringify(replay.body)).toBe(201)
    expect(replay.body).toMatchObject({ triggered_by: 'replay', replayed_from: done })
    expect(replay.body.payload).toEqual({ task: parent.task, base: 1, day: 'tue' })
    const chained = (await t.json('GET', `/v1/executions?cue_id=${child.id}`)).body.executions
    expect(chained).toEqual([
      expect.objectContaining({ triggered_by: 'chain', chain_parent_id: done, chain_depth: 1 }),
    ])
    const cycle = await t.json('PATCH', `/v1/cues/${child.id}`, { on_success_fire: parent.id })
    expect(cycle.status).toBe(422)
    expect(cycle.body.error.code).toBe('chain_cycle')
  })

  it('PATCH status active resumes a fired one-time cue whose at has passed, firing at once once', async () => {
    const t = await makeApp({}, { store })
    t.cuekit.startMaintenance()
    const at = new Date(Date.now() + 1500).toISOString()
    const task = `once${Math.random().toString(36).slice(2, 6)}`
    const cue = await t.json('POST', '/v1/cues', {
      name: task,
      transport: 'worker',
      schedule: { type: 'once', at },
      payload: { task },
    })
    expect(cue.status).toBe(201)
    expect((await t.json('PATCH', `/v1/cues/${cue.body.id}`, { status: 'paused' })).status).toBe(200)
    await waitFor(() => Date.now() > Date.parse(at) + 200, { timeoutMs: 5000 })
    const resumed = await t.json('PATCH', `/v1/cues/${cue.body.id}`, { status: 'active' })
    expect(resumed.status, JSON.stringify(resumed.body)).toBe(200)
    expect(resumed.body.status).toBe('active')
    const executions = async () =>
      (await t.json('GET', `/v1/executions?cue_id=${cue.body.id}`)).body.executions as any[]
    const [fired] = await waitFor(async () => ((await executions()).length === 1 ? executions() : null), {
      timeoutMs: 10_000,
      message: 'the resumed one-time cue never fired',
    })
    expect(Date.parse(fired.scheduled_for)).toBe(Date.parse(at))
    await claimAndReport(t, task, 'w', { success: true })
    await waitFor(async () => (await t.json('GET', `/v1/cues/${cue.body.id}`)).body.status === 'completed', {
      timeoutMs: 5000,
      message: 'not completed',
    })
    // Resumed again: that tick already has its execution, so nothing new fires.
    const again = await t.json('PATCH', `/v1/cues/${cue.body.id}`, { status: 'active' })
    expect(again.status, JSON.stringify(again.body)).toBe(200)
    const before = Date.now()
    await waitFor(() => Date.now() - before > 1500, { timeoutMs: 3000 })
    expect(await executions()).toHaveLength(1)
  })
})

describe.each(STORES)("a webhook handler's outcome on %s", (store) => {
  it('is recorded beside its delivery, write-once, never thrown away', async () => {
    const t = await makeApp({ webhookAllowPrivate: true }, { store })
    t.cuekit.startMaintenance()
    const rx = await startReceiver(() => 200)
    const cue = await t.json('POST', '/v1/cues', {
      name: 'hooked',
      schedule: { type: 'recurring', cron: '0 0 1 1 *' },
      callback: { url: `${rx.url}/hook` },
    })
    expect(cue.status).toBe(201)
    const id = (await t.json('POST', `/v1/cues/${cue.body.id}/fire`, {})).body.id
    await waitFor(async () => (await t.json('GET', `/v1/executions/${id}`)).body.status === 'success', {
      timeoutMs: 10_000,
      message: 'not delivered',
    })
    const delivered = (await t.json('GET', `/v1/executions/${id}`)).body
    expect(delivered).toMatchObject({ outcome: null, outcome_state: null, attempts: 1 })
    expect(delivered.delivered_at).not.toBeNull()
    const tooBig = await t.json('POST', `/v1/executions/${id}/outcome`, {
      success: true,
      metadata: { k: 'x'.repeat(10_240) },
    })
    expect(tooBig.status).toBe(400)
    expect(tooBig.body.error.code).toBe('metadata_too_large')
    // A CueAPI client reports (no token, no worker id), with evidence.
    const body = { success: false, error: 'the CRM refused', external_id: 'crm-9', summary: 'refused' }
    const first = await t.json('POST', `/v1/executions/${id}/outcome`, body)
    expect(first.status, JSON.stringify(first.body)).toBe(200)
    expect(first.body).toMatchObject({
      execution_id: id,
      outcome_recorded: true,
      outcome_state: 'reported_failure',
      status: 'success',
    })
    const record = (await t.json('GET', `/v1/executions/${id}`)).body
    expect(record).toMatchObject({
      status: 'success',
      delivered_at: delivered.delivered_at,
      outcome_state: 'reported_failure',
      outcome: { success: false, error: 'the CRM refused', external_id: 'crm-9', summary: 'refused' },
    })
    // The same report again: the first answer. A different one: 409.
    expect((await t.json('POST', `/v1/executions/${id}/outcome`, body)).body).toEqual(first.body)
    const other = await t.json('POST', `/v1/executions/${id}/outcome`, { success: true })
    expect(other.status).toBe(409)
    expect(other.body.error.code).toBe('outcome_already_reported')
    expect((await t.json('GET', `/v1/executions/${id}`)).body.outcome.success).toBe(false)
    // The listing sees it too.
    const listed = await t.json('GET', '/v1/executions?outcome_state=reported_failure')
    expect(listed.body.executions.map((e: any) => e.id)).toEqual([id])
  })
})
