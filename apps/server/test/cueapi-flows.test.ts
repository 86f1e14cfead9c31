import { waitFor } from '@cuekit/scripts/lib/wait'
import { describe, expect, it } from 'vitest'
import { makeApp, type TestApp } from './helpers.ts'
import { startReceiver } from './receiver.ts'
import { STORES } from './stores.ts'

// Issue 12, "Done means": the documented CueAPI flows of the fact sheet
// (/work/shared/reference/cueapi-outcomes.md §2, §4, §6, §7) driven end to end over HTTP, as a
// CueAPI client drives them: no lease tokens, the real webhook dispatcher and maintenance loop,
// a real receiver. Alert *delivery* to the alert webhook is the dispatcher's and tested there.

type Json = Record<string, any>

async function app(store: (typeof STORES)[number]) {
  const t = await makeApp({ webhookAllowPrivate: true }, { store })
  t.cuekit.startMaintenance()
  return t
}

async function createCue(t: TestApp, body: Json): Promise<string> {
  const r = await t.json('POST', '/v1/cues', {
    name: `c${Math.random().toString(36).slice(2, 8)}`,
    schedule: { type: 'recurring', cron: '0 0 1 1 *' },
    ...body,
  })
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return r.body.id
}

const fire = async (t: TestApp, cueId: string): Promise<string> =>
  (await t.json('POST', `/v1/cues/${cueId}/fire`, {})).body.id

const record = async (t: TestApp, id: string): Promise<Json> =>
  (await t.json('GET', `/v1/executions/${id}`)).body

const until = (t: TestApp, id: string, ok: (r: Json) => boolean, message: string) =>
  waitFor(
    async () => {
      const r = await record(t, id)
      return ok(r) ? r : null
    },
    { timeoutMs: 10_000, intervalMs: 25, message },
  )

/** A CueAPI client's outcome report: no lease token, no worker id. */
const reportOutcome = (t: TestApp, id: string, body: Json) =>
  t.json('POST', `/v1/executions/${id}/outcome`, body)

const alerts = async (t: TestApp, query = ''): Promise<Json[]> =>
  (await t.json('GET', `/v1/alerts${query}`)).body.alerts

/** The fact sheet's §4 table: the outcome_state of a report under each verification mode. */
const VERIFICATION_TABLE: [mode: string | null, report: Json, state: string][] = [
  ['none', { success: false, error: 'no' }, 'reported_failure'],
  ['manual', { success: false, error: 'no' }, 'reported_failure'],
  ['require_external_id', { success: false, error: 'no', external_id: 'x' }, 'reported_failure'],
  [null, { success: true }, 'reported_success'],
  ['none', { success: true }, 'reported_success'],
  ['manual', { success: true, external_id: 'x' }, 'verification_pending'],
  ['require_external_id', { success: true, external_id: 'ext-1' }, 'verified_success'],
  ['require_external_id', { success: true, result_url: 'https://r.example/1' }, 'verification_failed'],
  ['require_result_url', { success: true, result_url: 'https://r.example/1' }, 'verified_success'],
  ['require_result_url', { success: true, external_id: 'ext-1' }, 'verification_failed'],
  ['require_artifacts', { success: true, artifacts: [{ name: 'a.pdf' }] }, 'verified_success'],
  ['require_artifacts', { success: true, artifacts: [] }, 'verification_failed'],
]

describe.each(STORES)('CueAPI outcome flows on %s', (store) => {
  it('webhook cue → delivered → the agent reports with evidence → manual verification → approve / reject', async () => {
    const t = await app(store)
    const rx = await startReceiver(() => 200)
    const cueId = await createCue(t, {
      callback: { url: `${rx.url}/hook` },
      payload: { invoice: 42 },
      verification: { mode: 'manual' },
    })
    const ids = [await fire(t, cueId), await fire(t, cueId)]
    for (const id of ids) {
      // Delivered: the execution's status follows the delivery, and no outcome is assumed from it.
      const delivered = await until(t, id, (r) => r.status === 'success', 'not delivered')
      expect(delivered).toMatchObject({
        outcome: null,
        outcome_state: null,
        attempts: 1,
        error_message: null,
      })
      expect(delivered.delivered_at).not.toBeNull()
      const request = rx.received.find((r) => r.headers['x-cueapi-execution-id'] === id)!
      expect(JSON.parse(request.body)).toMatchObject({
        execution_id: id,
        cue_id: cueId,
        payload: { invoice: 42 },
      })
      expect(request.headers['x-cueapi-signature']).toMatch(/^v1=[0-9a-f]{64}$/)
    }
    const [approveId, rejectId] = ids as [string, string]
    for (const id of ids) {
      const reported = await reportOutcome(t, id, {
        success: true,
        result: 'invoice sent',
        external_id: `inv-${id}`,
        result_url: 'https://billing.example.com/inv/42',
        result_type: 'invoice',
        summary: 'sent invoice 42',
        artifacts: [{ type: 'pdf', url: 'https://billing.example.com/inv/42.pdf' }],
        metadata: { amount: 10 },
      })
      expect(reported.status).toBe(200)
      expect(reported.body).toMatchObject({
        execution_id: id,
        outcome_recorded: true,
        outcome_state: 'verification_pending',
        reason: null,
      })
    }
    expect((await t.json('GET', '/v1/executions?outcome_state=verification_pending')).body.total).toBe(2)

    const approved = await t.json('POST', `/v1/executions/${approveId}/verify`, { valid: true })
    expect(approved.body).toEqual({
      execution_id: approveId,
      outcome_state: 'verified_success',
      valid: true,
      reason: null,
    })
    const rejected = await t.json('POST', `/v1/executions/${rejectId}/verify`, {
      valid: false,
      reason: 'amount wrong',
    })
    expect(rejected.body.outcome_state).toBe('verification_failed')

    const a = await record(t, approveId)
    expect(a).toMatchObject({
      status: 'success',
      outcome_state: 'verified_success',
      outcome: {
        success: true,
        result: 'invoice sent',
        external_id: `inv-${approveId}`,
        result_url: 'https://billing.example.com/inv/42',
        result_type: 'invoice',
        summary: 'sent invoice 42',
        metadata: { amount: 10 },
        validation_state: 'valid',
      },
    })
    const r = await record(t, rejectId)
    expect(r).toMatchObject({
      status: 'success',
      outcome_state: 'verification_failed',
      outcome: { summary: 'sent invoice 42 amount wrong', validation_state: 'invalid' },
    })
    // A hand rejection raises no alert (fact sheet §6); a decided outcome is not verified twice.
    expect(await alerts(t)).toEqual([])
    expect((await t.json('POST', `/v1/executions/${approveId}/verify`, {})).body.error.code).toBe(
      'invalid_state',
    )
  })

  it("each verification mode gives the fact sheet's outcome_state, on webhook and worker cues", async () => {
    const t = await app(store)
    const rx = await startReceiver(() => 200)
    const rows = await Promise.all(
      VERIFICATION_TABLE.flatMap(([mode, report, state]) =>
        (['webhook', 'worker'] as const).map(async (transport) => {
          const task = `v${Math.random().toString(36).slice(2, 8)}`
          const cueId = await createCue(t, {
            ...(transport === 'webhook'
              ? { callback: { url: `${rx.url}/hook` } }
              : { transport, payload: { task } }),
            ...(mode === null ? {} : { verification: { mode } }),
          })
          return { mode, report, state, transport, task, id: await fire(t, cueId) }
        }),
      ),
    )
    for (const row of rows) {
      const what = `${row.transport} ${row.mode} ${JSON.stringify(row.report)}`
      if (row.transport === 'webhook') {
        await until(t, row.id, (r) => r.status === 'success', `${what}: not delivered`)
        const r = await reportOutcome(t, row.id, row.report)
        expect(r.body.outcome_state, what).toBe(row.state)
        // Outcome reports never change a webhook execution's status.
        expect((await record(t, row.id)).status, what).toBe('success')
      } else {
        // A CueAPI worker: claims by worker_id and reports with it, no token.
        const claim = await t.json('POST', `/v1/executions/${row.id}/claim`, { worker_id: 'cueapi-worker' })
        expect(claim.status, what).toBe(200)
        const r = await reportOutcome(t, row.id, { ...row.report, worker_id: 'cueapi-worker' })
        expect(r.body.outcome_state, what).toBe(row.state)
        const after = await record(t, row.id)
        if (row.report.success) {
          expect(after.status, what).toBe('success')
          expect(after.delivered_at, what).not.toBeNull()
        } else {
          // The fact sheet's worker failure is final at once; Cuekit retries while attempts remain
          // unless the report says retry: false (a documented difference), so it is retrying here.
          expect(['retrying', 'pending'], what).toContain(after.status)
          expect(after.error_message, what).toBe('no')
        }
      }
    }
    // require_* policies decided the validation state; failed ones raised one alert each.
    const failed = rows.filter((r) => r.state === 'verification_failed')
    const raised = await alerts(t, '?alert_type=verification_failed&limit=100')
    expect(raised.map((a) => a.execution_id).sort()).toEqual(failed.map((r) => r.id).sort())
    for (const a of raised) {
      const row = failed.find((r) => r.id === a.execution_id)!
      expect(a.metadata).toEqual({ outcome_state: 'verification_failed', transport: row.transport })
    }
    const valid = rows.find((r) => r.state === 'verified_success')!
    expect((await record(t, valid.id)).outcome.validation_state).toBe('valid')
  })

  it('alerts on failure: consecutive failures (worker reports, webhook deliveries), verification_failed, outcome_timeout; list, filter, acknowledge', async () => {
    const t = await app(store)
    const rx = await startReceiver((r) => (r.path === '/down' ? 500 : 200))

    // A worker cue failing twice in a row, threshold 2.
    const task = `w${Math.random().toString(36).slice(2, 8)}`
    const workerCue = await createCue(t, {
      transport: 'worker',
      payload: { task },
      alerts: { consecutive_failures: 2 },
    })
    for (let i = 0; i < 2; i++) {
      const id = await fire(t, workerCue)
      await t.json('POST', `/v1/executions/${id}/claim`, { worker_id: 'w' })
      await reportOutcome(t, id, { success: false, error: `boom ${i}`, worker_id: 'w', retry: false })
    }
    // A webhook cue whose endpoint is down, one attempt per execution, threshold 1.
    const downCue = await createCue(t, {
      callback: { url: `${rx.url}/down` },
      retry: { max_attempts: 1 },
      alerts: { consecutive_failures: 1 },
    })
    const down = await fire(t, downCue)
    const failedDelivery = await until(t, down, (r) => r.status === 'failed', 'delivery never failed')
    expect(failedDelivery.error_message).toContain('500')
    // A webhook whose handler never reports within its outcome deadline.
    const silentCue = await createCue(t, {
      callback: { url: `${rx.url}/silent` },
      delivery: { outcome_deadline_seconds: 1 },
    })
    const silent = await fire(t, silentCue)
    await until(t, silent, (r) => r.status === 'success', 'not delivered')
    const timedOut = await until(t, silent, (r) => r.outcome_state === 'unknown', 'the deadline never passed')
    expect(timedOut.status).toBe('success')
    expect(
      (await t.json('GET', '/v1/executions?status=outcome_timeout')).body.executions.map((e: Json) => e.id),
    ).toEqual([silent])
    // A report missing the evidence its cue requires.
    const strictCue = await createCue(t, {
      callback: { url: `${rx.url}/ok` },
      verification: { mode: 'require_external_id' },
    })
    const strict = await fire(t, strictCue)
    await until(t, strict, (r) => r.status === 'success', 'not delivered')
    await reportOutcome(t, strict, { success: true, summary: 'no id' })

    const all = await waitFor(
      async () => {
        const list = await alerts(t)
        return list.length >= 4 ? list : null
      },
      { timeoutMs: 5000, message: 'alerts missing' },
    )
    const byType = (type: string) => all.filter((a) => a.alert_type === type)
    expect(
      byType('consecutive_failures')
        .map((a) => a.cue_id)
        .sort(),
    ).toEqual([workerCue, downCue].sort())
    expect(byType('consecutive_failures').find((a) => a.cue_id === workerCue)!.metadata).toEqual({
      consecutive_failures: 2,
    })
    expect(byType('outcome_timeout')).toEqual([
      expect.objectContaining({ cue_id: silentCue, execution_id: silent }),
    ])
    expect(byType('verification_failed')).toEqual([
      expect.objectContaining({ cue_id: strictCue, execution_id: strict }),
    ])
    for (const a of all) expect(a).toMatchObject({ severity: 'warning', acknowledged: false })
    // Newest first.
    const times = all.map((a) => Date.parse(a.created_at))
    expect([...times].sort((x, y) => y - x)).toEqual(times)

    // List with the filters CueAPI's clients send, and acknowledge.
    expect(await alerts(t, '?alert_type=consecutive_failure')).toHaveLength(2)
    expect(await alerts(t, `?cue_id=${silentCue}`)).toHaveLength(1)
    const first = all[0]!
    expect((await t.json('POST', `/v1/alerts/${first.id}/acknowledge`)).body.acknowledged).toBe(true)
    expect(await alerts(t, '?acknowledged=false')).toHaveLength(all.length - 1)
    expect((await alerts(t, '?acknowledged=true')).map((a) => a.id)).toEqual([first.id])

    // A late report after the deadline is still recorded (and not lost).
    const late = await reportOutcome(t, silent, { success: true, external_id: 'late' })
    expect(late.status, JSON.stringify(late.body)).toBe(200)
    expect((await record(t, silent)).outcome).toMatchObject({ success: true, external_id: 'late' })
  })

  it("usage counts the month's cues, executions and outcomes", async () => {
    const t = await app(store)
    const rx = await startReceiver(() => 200)
    const cueId = await createCue(t, { callback: { url: `${rx.url}/hook` } })
    const a = await fire(t, cueId)
    const b = await fire(t, cueId)
    for (const id of [a, b]) await until(t, id, (r) => r.status === 'success', 'not delivered')
    await reportOutcome(t, a, { success: true })
    await reportOutcome(t, b, { success: false, error: 'no' })
    const usage = await t.json('GET', '/v1/usage')
    expect(usage.body).toMatchObject({
      plan: 'self-hosted',
      cues: { used: 1, active: 1, limit: null },
      outcomes: { reported: 2, succeeded: 1, failed: 1 },
      upgrade_url: null,
    })
    expect(usage.body.executions.used).toBeGreaterThanOrEqual(2)
  })
})
