import { Tenants } from '@cuekit/engine'
import { ALERT_TASK, NOTIFY_TASK, WEBHOOK_TASK } from '@cuekit/protocol'
import { describe, expect, it } from 'vitest'
import { tenant } from './backend.ts'
import { cue, fire, lease, START, setup } from './outcome-kit.ts'

// Outcomes (docs/outcomes.md): delivery and outcome as separate facts, verification, evidence,
// outcome deadlines, alerts, on_failure, chaining, stats and usage. The store's clock is a test
// clock (EngineOptions.clock), so deadlines pass in microseconds. Runs on redis, memory, cluster.

describe('delivery and outcome are separate facts (webhook)', () => {
  it("records a handler's outcome beside the delivery, before or after it, write-once", async () => {
    const { engine } = setup()
    const c = await cue(engine, { transport: 'webhook', callback: { url: 'https://example.com/hook' } })
    const id = await fire(engine, c.id)
    const delivery = await lease(engine, WEBHOOK_TASK, 'dispatcher')
    // The agent reports while its webhook call is still open (the delivery holds the lease).
    const report = {
      success: true,
      external_id: 'ext-7',
      evidence: { external_id: 'ext-7', summary: 'done' },
    }
    const first = await engine.reportOutcome(tenant, id, report)
    expect(first).toMatchObject({
      status: 'delivering',
      outcome_state: 'reported_success',
      outcome_recorded: true,
    })
    // Repeating the same report answers the same; another one is refused.
    expect(await engine.reportOutcome(tenant, id, report)).toMatchObject({
      outcome_state: 'reported_success',
    })
    await expect(engine.reportOutcome(tenant, id, { success: false })).rejects.toMatchObject({
      code: 'outcome_already_reported',
    })
    // A handler cannot finish the delivery: only the dispatcher's lease does.
    await expect(engine.report(tenant, id, { success: true })).rejects.toMatchObject({
      code: 'execution_not_claiming',
    })
    await engine.report(tenant, id, { lease_token: delivery.lease.token, success: true, http_status: 204 })
    const r = await engine.get(tenant, id)
    expect(r).toMatchObject({
      status: 'success',
      http_status: 204,
      outcome_state: 'reported_success',
      outcome: { success: true, summary: 'done', external_id: 'ext-7' },
      attempts: 1,
      triggered_by: 'manual_fire',
    })
    expect(r.delivered_at).not.toBeNull()
    expect(r.started_at).toBe(r.claimed_at)
  })

  it('a delivered webhook without an outcome by its deadline becomes unknown, with one alert', async () => {
    const { engine, advance, pass } = setup()
    const c = await cue(engine, {
      transport: 'webhook',
      callback: { url: 'https://example.com/hook' },
      delivery: { timeout_seconds: 10, outcome_deadline_seconds: 60 },
    })
    const id = await fire(engine, c.id)
    const delivery = await lease(engine, WEBHOOK_TASK)
    await engine.report(tenant, id, { lease_token: delivery.lease.token, success: true, http_status: 200 })
    advance(59_000)
    await pass()
    expect((await engine.get(tenant, id)).outcome_state).toBeNull()
    expect((await engine.list(tenant, { status: 'pending_outcome' })).executions.map((e) => e.id)).toEqual([
      id,
    ])
    advance(2_000)
    expect((await pass()).deadlinesPassed).toBe(1)
    expect((await pass()).deadlinesPassed).toBe(0)
    expect(await engine.get(tenant, id)).toMatchObject({ status: 'success', outcome_state: 'unknown' })
    expect((await engine.list(tenant, { status: 'outcome_timeout' })).total).toBe(1)
    const { alerts } = await engine.alerts(tenant, { limit: 20, offset: 0 })
    expect(alerts).toEqual([
      expect.objectContaining({
        alert_type: 'outcome_timeout',
        cue_id: c.id,
        execution_id: id,
        acknowledged: false,
      }),
    ])
    // A late outcome still records.
    await engine.reportOutcome(tenant, id, { success: true })
    expect((await engine.get(tenant, id)).outcome_state).toBe('reported_success')
  })
})

describe("an outcome's time is the store's", () => {
  // Redis TIME is the only clock: an outcome stamped by the server's clock disagreed with the
  // attempt it ended (the test clock here is a week away from this process's).
  it('recorded_at is the store time of the report, with and without a result', async () => {
    const { engine, advance } = setup()
    const [a, b] = await engine.enqueue(tenant, [{ task: 'stamp' }, { task: 'stamp' }])
    const first = await lease(engine, 'stamp')
    const second = await lease(engine, 'stamp')
    advance(1500)
    await engine.report(tenant, first.execution_id, {
      lease_token: first.lease.token,
      success: true,
      evidence: { summary: 'sent', external_id: 'x-1' },
    })
    await engine.report(tenant, second.execution_id, { lease_token: second.lease.token, success: true })
    for (const id of [a!.execution_id, b!.execution_id]) {
      const rec = await engine.get(tenant, id)
      expect(rec.outcome?.recorded_at).toBe(new Date(START + 1500).toISOString())
    }
  })
})

describe('verification', () => {
  it.each([
    ['none', {}, 'reported_success'],
    ['manual', {}, 'verification_pending'],
    ['require_external_id', { external_id: 'x' }, 'verified_success'],
    ['require_external_id', {}, 'verification_failed'],
    ['require_result_url', { result_url: 'https://example.com/r' }, 'verified_success'],
    ['require_artifacts', { artifacts: [] }, 'verification_failed'],
    ['require_artifacts', { artifacts: ['a.png'] }, 'verified_success'],
  ] as const)('mode %s with %j: %s', async (mode, evidence: Record<string, unknown>, state) => {
    const { engine } = setup()
    const c = await cue(engine, { verification: { mode } })
    const id = await fire(engine, c.id)
    const l = await lease(engine, 'job')
    const res = await engine.report(tenant, id, { lease_token: l.lease.token, success: true, evidence })
    expect(res.outcome_state).toBe(state)
    const r = await engine.get(tenant, id)
    expect(r.outcome_state).toBe(state)
    expect(r.outcome?.validation_state).toBe(
      state === 'verified_success' ? 'valid' : state === 'verification_failed' ? 'invalid' : null,
    )
    const alerts = (await engine.alerts(tenant, { limit: 20, offset: 0 })).alerts
    expect(alerts.map((a) => a.alert_type)).toEqual(
      state === 'verification_failed' ? ['verification_failed'] : [],
    )
  })

  it('a failure is reported_failure under any policy', async () => {
    const { engine } = setup()
    const c = await cue(engine, { verification: { mode: 'manual' } })
    const id = await fire(engine, c.id)
    const l = await lease(engine, 'job')
    await engine.report(tenant, id, { lease_token: l.lease.token, success: false, error: 'no', retry: false })
    expect(await engine.get(tenant, id)).toMatchObject({
      outcome_state: 'reported_failure',
      error_message: 'no',
    })
  })

  it('evidence added later re-runs a require_* policy; verify approves or rejects; pending from any state', async () => {
    const { engine } = setup()
    const c = await cue(engine, { verification: { mode: 'require_result_url' } })
    const id = await fire(engine, c.id)
    await expect(engine.evidence(tenant, id, { summary: 'x' })).rejects.toMatchObject({ code: 'no_outcome' })
    const l = await lease(engine, 'job')
    await engine.report(tenant, id, { lease_token: l.lease.token, success: true, evidence: { result: 42 } })
    expect((await engine.get(tenant, id)).outcome_state).toBe('verification_failed')
    const patched = await engine.evidence(tenant, id, {
      result_url: 'https://example.com/out',
      summary: 'first',
    })
    expect(patched).toEqual({ execution_id: id, outcome_state: 'verified_success', evidence_updated: true })
    expect((await engine.get(tenant, id)).outcome).toMatchObject({
      result: 42,
      result_url: 'https://example.com/out',
      summary: 'first',
      validation_state: 'valid',
    })
    // verify only from reported_success / verification_pending.
    await expect(engine.verify(tenant, id, { valid: true })).rejects.toMatchObject({ code: 'invalid_state' })
    expect(await engine.verificationPending(tenant, id)).toEqual({
      execution_id: id,
      outcome_state: 'verification_pending',
    })
    const rejected = await engine.verify(tenant, id, { valid: false, reason: 'wrong file' })
    expect(rejected).toEqual({
      execution_id: id,
      outcome_state: 'verification_failed',
      valid: false,
      reason: 'wrong file',
    })
    expect((await engine.get(tenant, id)).outcome?.summary).toBe('first wrong file')
    await expect(engine.verify(tenant, id, { valid: true })).rejects.toMatchObject({ code: 'invalid_state' })
    await expect(engine.verificationPending(tenant, 'nope')).rejects.toMatchObject({
      code: 'execution_not_found',
    })
  })

  it('verification-pending refuses a reported failure, naming its state', async () => {
    const { engine } = setup()
    const c = await cue(engine, {})
    const id = await fire(engine, c.id)
    const l = await lease(engine, 'job')
    await engine.report(tenant, id, { lease_token: l.lease.token, success: false, error: 'no', retry: false })
    const refused = engine.verificationPending(tenant, id)
    await expect(refused).rejects.toMatchObject({ code: 'invalid_state' })
    await expect(refused).rejects.toThrow(/reported_failure/)
    expect((await engine.get(tenant, id)).outcome_state).toBe('reported_failure')
  })
})

describe('a worker cue whose tick is not claimed by its outcome deadline is missed', () => {
  it('gets outcome_state unknown, an alert, and its on_failure; it stays claimable', async () => {
    const { engine, advance, pass } = setup()
    const c = await cue(engine, {
      delivery: { timeout_seconds: 30, outcome_deadline_seconds: 120 },
      on_failure: { email: false, webhook: 'https://example.com/failed', pause: true },
    })
    const id = await fire(engine, c.id)
    advance(121_000)
    expect((await pass()).deadlinesPassed).toBe(1)
    expect(await engine.get(tenant, id)).toMatchObject({ status: 'pending', outcome_state: 'unknown' })
    expect((await engine.list(tenant, { status: 'missed' })).executions.map((e) => e.id)).toEqual([id])
    expect((await engine.cues.read(tenant, c.id)).status).toBe('paused')
    const notices = await engine.claim(tenant, { worker_id: 'd', task: NOTIFY_TASK })
    expect(notices.map((n) => n.payload)).toEqual([{ cue_id: c.id, execution_id: id }])
    expect((await engine.alerts(tenant, { limit: 20, offset: 0 })).alerts[0]).toMatchObject({
      alert_type: 'outcome_timeout',
      execution_id: id,
    })
    // Claimed in time, another one is never missed.
    const other = await fire(engine, c.id)
    await engine.claimById(tenant, other, { worker_id: 'w', lease_seconds: 600 })
    advance(121_000)
    await pass()
    expect((await engine.get(tenant, other)).outcome_state).toBeNull()
  })
})

describe('alerts', () => {
  it('consecutive failures raise one alert per cue in 5 minutes; a success resets the streak', async () => {
    const { engine, advance } = setup()
    const c = await cue(engine, { alerts: { consecutive_failures: 2 }, retry: { max_attempts: 1 } })
    const failOne = async () => {
      const id = await fire(engine, c.id)
      const l = await lease(engine, 'job')
      await engine.report(tenant, id, { lease_token: l.lease.token, success: false, error: 'x' })
    }
    await failOne()
    expect((await engine.alerts(tenant, { limit: 20, offset: 0 })).total).toBe(0)
    await failOne()
    await failOne()
    const { alerts } = await engine.alerts(tenant, {
      alert_type: 'consecutive_failures',
      limit: 20,
      offset: 0,
    })
    expect(alerts).toHaveLength(1)
    expect(alerts[0]).toMatchObject({ cue_id: c.id, metadata: { consecutive_failures: 2 } })
    advance(301_000)
    await failOne()
    expect((await engine.alerts(tenant, { limit: 20, offset: 0 })).total).toBe(2)
    // success resets
    const ok = await fire(engine, c.id)
    const l = await lease(engine, 'job')
    await engine.report(tenant, ok, { lease_token: l.lease.token, success: true })
    advance(301_000)
    await failOne()
    expect((await engine.alerts(tenant, { limit: 20, offset: 0 })).total).toBe(2)
  })

  it('lists with filters and paging, acknowledges idempotently, and queues deliveries with a webhook', async () => {
    const { engine, advance } = setup()
    await engine.core.redis.set(engine.keys.alertHook({ tenantId: tenant.id, partition: 0 }), '1')
    const c = await cue(engine, { verification: { mode: 'require_external_id' } })
    for (let i = 0; i < 3; i++) {
      const id = await fire(engine, c.id)
      const l = await lease(engine, 'job')
      await engine.report(tenant, id, { lease_token: l.lease.token, success: true })
      advance(1000)
    }
    const all = await engine.alerts(tenant, { limit: 2, offset: 0 })
    expect(all.total).toBe(3)
    expect(all.alerts).toHaveLength(2)
    const rest = await engine.alerts(tenant, { limit: 2, offset: 2 })
    expect(rest.alerts).toHaveLength(1)
    expect(Date.parse(all.alerts[0]!.created_at)).toBeGreaterThan(Date.parse(rest.alerts[0]!.created_at))
    const acked = await engine.acknowledgeAlert(tenant, rest.alerts[0]!.id)
    expect(acked).toMatchObject({ acknowledged: true })
    advance(1000)
    expect(await engine.acknowledgeAlert(tenant, rest.alerts[0]!.id)).toEqual(acked)
    expect((await engine.alerts(tenant, { acknowledged: false, limit: 20, offset: 0 })).total).toBe(2)
    expect((await engine.alerts(tenant, { cue_id: 'other', limit: 20, offset: 0 })).total).toBe(0)
    await expect(engine.acknowledgeAlert(tenant, 'al0-999')).rejects.toMatchObject({
      code: 'alert_not_found',
    })
    const deliveries = await engine.claim(tenant, { worker_id: 'd', task: ALERT_TASK, max: 10 })
    expect(deliveries.map((d) => (d.payload as { alert_id: string }).alert_id).sort()).toEqual(
      [...all.alerts, ...rest.alerts].map((a) => a.id).sort(),
    )
    expect(await engine.alert(tenant, acked.id)).toEqual(acked)
  })
})

describe('chaining and cue lifecycle', () => {
  it('a success fires on_success_fire as a chain; cycles are refused; depth is capped', async () => {
    const { engine } = setup()
    const b = await cue(engine, { payload: { task: 'second' } })
    const a = await cue(engine, { on_success_fire: b.id })
    await expect(
      engine.cues.update(tenant, b.id, async (cur) => ({
        config: { ...cur.config, on_success_fire: a.id },
        status: cur.status,
      })),
    ).rejects.toMatchObject({ code: 'chain_cycle' })
    const parent = await fire(engine, a.id)
    const l = await lease(engine, 'job')
    await engine.report(tenant, parent, { lease_token: l.lease.token, success: true })
    const [child] = await engine.claim(tenant, { worker_id: 'w', task: 'second', lease_seconds: 60 })
    expect(child).toBeDefined()
    expect(await engine.get(tenant, child!.execution_id)).toMatchObject({
      cue_id: b.id,
      triggered_by: 'chain',
      chain_parent_id: parent,
      chain_depth: 1,
    })
  })

  it('stats: 7-day success rate, failures, misses and median duration', async () => {
    const { engine, advance } = setup()
    const c = await cue(engine, { retry: { max_attempts: 1 } })
    for (const [ok, ms] of [
      [true, 1000],
      [true, 3000],
      [false, 500],
    ] as const) {
      const id = await fire(engine, c.id)
      const l = await lease(engine, 'job')
      advance(ms)
      await engine.report(tenant, id, { lease_token: l.lease.token, success: ok, error: ok ? null : 'x' })
    }
    expect(await engine.cueStats(tenant, c.id)).toEqual({
      period_days: 7,
      executions: 3,
      successes: 2,
      failures: 1,
      misses: 0,
      success_rate: 0.6667,
      p50_duration_ms: 1000,
    })
  })

  it('usage counts this month: executions, outcomes, cues', async () => {
    const { engine } = setup()
    const c = await cue(engine, {})
    await engine.enqueue(tenant, [{ task: 'api-job' }])
    const id = await fire(engine, c.id)
    const l = await lease(engine, 'job')
    await engine.report(tenant, id, { lease_token: l.lease.token, success: true })
    expect(await engine.usage(tenant)).toMatchObject({
      start: '2026-11-01T00:00:00.000Z',
      end: '2026-12-01T00:00:00.000Z',
      daysSoFar: 2,
      cues: 1,
      activeCues: 1,
      executions: 2,
      outcomes: 1,
      outcomeSuccesses: 1,
      outcomeFailures: 0,
    })
  })

  it("usage counts a webhook cue's executions, but not the internal work of alerts", async () => {
    const { engine } = setup()
    const hook = await cue(engine, {
      transport: 'webhook',
      callback: { url: 'https://example.com/hook' },
      verification: { mode: 'require_external_id' },
    })
    // With an alert webhook, each alert queues an internal delivery: not the tenant's execution.
    await new Tenants(engine.redis, engine.keys).setAlertWebhookUrl(tenant, 'https://example.com/alerts')
    const id = await fire(engine, hook.id)
    await engine.reportOutcome(tenant, id, { success: true })
    expect((await engine.alerts(tenant, { limit: 20, offset: 0 })).total).toBe(1)
    expect(await engine.usage(tenant)).toMatchObject({ executions: 1, outcomes: 1 })
  })
})

describe('listing: offset paging with a total, filters, CueAPI statuses', () => {
  it('pages by offset over a filtered set and counts it', async () => {
    const { engine } = setup()
    await engine.enqueue(
      tenant,
      Array.from({ length: 25 }, (_, i) => ({ task: i % 2 ? 'odd' : 'even' })),
    )
    const p1 = await engine.list(tenant, { limit: 10, offset: 0 })
    expect(p1).toMatchObject({ total: 25, limit: 10, offset: 0, has_more: true })
    const p3 = await engine.list(tenant, { limit: 10, offset: 20 })
    expect(p3).toMatchObject({ total: 25, has_more: false })
    expect(p3.executions).toHaveLength(5)
    const ids = new Set([...p1.executions, ...p3.executions].map((e) => e.id))
    expect(ids.size).toBe(15)
    expect((await engine.list(tenant, { task: 'odd', limit: 100 })).total).toBe(12)
    expect((await engine.list(tenant, { triggered_by: 'api', limit: 5 })).total).toBe(25)
    expect((await engine.list(tenant, { triggered_by: 'chain', limit: 5 })).total).toBe(0)
    // retry_ready: pending again after a failed attempt
    const [c] = await engine.claim(tenant, { worker_id: 'w', task: 'even' })
    await engine.report(tenant, c!.execution_id, {
      lease_token: c!.lease.token,
      success: false,
      retry_after_seconds: 0,
    })
    const ready = await engine.list(tenant, { status: 'retry_ready' })
    expect(ready.executions.map((e) => e.id)).toEqual([c!.execution_id])
    expect((await engine.list(tenant, { outcome_state: 'reported_failure' })).total).toBe(1)
    expect((await engine.list(tenant, { worker_id: 'w' })).total).toBe(1)
  })
})
