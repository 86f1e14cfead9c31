import { describe, expect, it } from 'vitest'
import { makeApp } from './helpers.ts'
import { expectError, firedCue, report } from './outcome-kit.ts'
import { STORES } from './stores.ts'

// Issue 12's remaining CueAPI gaps over HTTP, on Redis and on the in-memory store: a person's
// verdict against later evidence, on_failure.webhook's SSRF guard, the listing's evidence filters
// and oldest_claimed_at, and live-claim.

const fakeDns = async (host: string) => {
  const table: Record<string, string> = { 'hooks.example': '93.184.216.34', 'sneaky.example': '127.0.0.1' }
  const address = table[host]
  if (!address) throw Object.assign(new Error('nxdomain'), { code: 'ENOTFOUND' })
  return [{ address, family: 4 as const }]
}

const yearly = { type: 'recurring', cron: '0 0 1 1 *' }

describe.each(STORES)('CueAPI gaps on %s', (store) => {
  const app = () => makeApp({}, { store, resolve: fakeDns })

  it("a person's verify verdict stands against later evidence (no re-run of require_*)", async () => {
    const t = await app()
    // Approved by a person although the policy would fail it: evidence must not undo that.
    const a = await firedCue(t, 'require_external_id')
    await report(t, a.task, { success: true })
    await t.json('POST', `/v1/executions/${a.id}/verification-pending`)
    const approved = await t.json('POST', `/v1/executions/${a.id}/verify`, { valid: true })
    expect(approved.body.outcome_state).toBe('verified_success')
    const patched = await t.json('PATCH', `/v1/executions/${a.id}/evidence`, { summary: 'later notes' })
    expect(patched).toMatchObject({ status: 200, body: { outcome_state: 'verified_success' } })
    expect((await t.json('GET', `/v1/executions/${a.id}`)).body).toMatchObject({
      outcome_state: 'verified_success',
      outcome: { summary: 'later notes' },
    })

    // Rejected by a person although the evidence satisfies the policy: the rejection stands.
    const b = await firedCue(t, 'require_external_id')
    await report(t, b.task, { success: true })
    await t.json('POST', `/v1/executions/${b.id}/verification-pending`)
    await t.json('POST', `/v1/executions/${b.id}/verify`, { valid: false, reason: 'wrong customer' })
    const evidence = await t.json('PATCH', `/v1/executions/${b.id}/evidence`, { external_id: 'msg_9' })
    expect(evidence.body.outcome_state).toBe('verification_failed')
    expect((await t.json('GET', `/v1/executions/${b.id}`)).body).toMatchObject({
      outcome_state: 'verification_failed',
      outcome: { external_id: 'msg_9' },
    })

    // A person's "review this" (verification-pending) also stands until that person decides.
    const c = await firedCue(t, 'require_external_id')
    await report(t, c.task, { success: true })
    await t.json('POST', `/v1/executions/${c.id}/verification-pending`)
    const pending = await t.json('PATCH', `/v1/executions/${c.id}/evidence`, { external_id: 'msg_10' })
    expect(pending.body.outcome_state).toBe('verification_pending')

    // Without a person's verdict the policy still decides again from the new evidence.
    const d = await firedCue(t, 'require_external_id')
    expect((await report(t, d.task, { success: true })).outcome_state).toBe('verification_failed')
    const rerun = await t.json('PATCH', `/v1/executions/${d.id}/evidence`, { external_id: 'msg_11' })
    expect(rerun.body.outcome_state).toBe('verified_success')
  })

  it('on_failure.webhook is SSRF-checked on create and update: 400 invalid_callback_url', async () => {
    const t = await app()
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://127.0.0.1:8080/x',
      'ftp://hooks.example/',
      'http://sneaky.example/x',
    ]) {
      const r = await t.json('POST', '/v1/cues', {
        name: 'x',
        transport: 'worker',
        schedule: yearly,
        on_failure: { webhook: url },
      })
      expectError(r, 400, 'invalid_callback_url')
      expect(r.body.error.message).toContain('on_failure.webhook')
    }
    const ok = await t.json('POST', '/v1/cues', {
      name: 'ok',
      transport: 'worker',
      schedule: yearly,
      on_failure: { webhook: 'https://hooks.example/failed' },
    })
    expect(ok.status, JSON.stringify(ok.body)).toBe(201)
    expectError(
      await t.json('PATCH', `/v1/cues/${ok.body.id}`, { on_failure: { webhook: 'http://10.0.0.1/' } }),
      400,
      'invalid_callback_url',
    )
    expect((await t.json('GET', `/v1/cues/${ok.body.id}`)).body.on_failure.webhook).toBe(
      'https://hooks.example/failed',
    )
    // A name that does not resolve is accepted with a warning, as a callback URL is.
    const later = await t.json('PATCH', `/v1/cues/${ok.body.id}`, {
      on_failure: { webhook: 'https://nx.example/' },
    })
    expect(later.status).toBe(200)
    expect(later.body.warning).toMatch(/on_failure\.webhook: .*did not resolve/)
  })
})

describe.each(STORES)('live-claim on %s', (store) => {
  it('first session token wins; the same one again is 200 with the first time; another is 409', async () => {
    const t = await makeApp({}, { store })
    const { id } = await firedCue(t)
    const first = await t.json('POST', `/v1/executions/${id}/live-claim`, { session_token: 'sess-A' })
    expect(first.status, JSON.stringify(first.body)).toBe(200)
    expect(first.body).toEqual({ attested: true, execution_id: id, live_claimed_at: expect.any(String) })
    expect(Number.isNaN(Date.parse(first.body.live_claimed_at))).toBe(false)
    const again = await t.json('POST', `/v1/executions/${id}/live-claim`, { session_token: 'sess-A' })
    expect(again).toMatchObject({ status: 200, body: first.body })
    const other = await t.json('POST', `/v1/executions/${id}/live-claim`, { session_token: 'sess-B' })
    expectError(other, 409, 'already_attested')
    // The claim changes nothing else: the execution is still claimable by a worker.
    expect((await t.json('GET', `/v1/executions/${id}`)).body.status).toBe('pending')
  })

  it('refuses bad bodies (422), unknown and foreign executions (404)', async () => {
    const t = await makeApp({}, { store })
    const { id } = await firedCue(t)
    for (const body of [{}, { session_token: '' }, { session_token: 7 }, { session_token: 'a', x: 1 }]) {
      expectError(await t.json('POST', `/v1/executions/${id}/live-claim`, body), 422, 'validation_error')
    }
    expectError(
      await t.json('POST', '/v1/executions/nope/live-claim', { session_token: 'a' }),
      404,
      'execution_not_found',
    )
    const other = await t.newTenant()
    expectError(
      await t.json(
        'POST',
        `/v1/executions/${id}/live-claim`,
        { session_token: 'a' },
        { authorization: `Bearer ${other.apiKey}` },
      ),
      404,
      'execution_not_found',
    )
  })
})

describe.each(STORES)('GET /v1/executions evidence filters and oldest_claimed_at on %s', (store) => {
  it('has_evidence, result_type (hosted) and oldest_claimed_at in the answer', async () => {
    const t = await makeApp({}, { store })
    const a = await firedCue(t)
    await report(t, a.task, { success: true, external_id: 'tweet:1', result_type: 'tweet' })
    const b = await firedCue(t)
    await report(t, b.task, { success: true })
    const c = await firedCue(t)
    const list = async (q: string) => {
      const r = await t.json('GET', `/v1/executions?${q}`)
      expect(r.status, JSON.stringify(r.body)).toBe(200)
      return r.body
    }
    const withEvidence = await list('has_evidence=true')
    expect(withEvidence.executions.map((e: any) => e.id)).toEqual([a.id])
    expect(withEvidence.total).toBe(1)
    expect((await list('has_evidence=false')).executions.map((e: any) => e.id).sort()).toEqual(
      [b.id, c.id].sort(),
    )
    expect((await list('result_type=tweet')).executions.map((e: any) => e.id)).toEqual([a.id])
    expect((await list('result_type=email')).total).toBe(0)
    const claimed = (await t.json('GET', `/v1/executions/${a.id}`)).body.claimed_at
    expect(typeof claimed).toBe('string')
    // A scanned filter covers the whole filtered set: the first claim is the oldest.
    expect((await list(`has_evidence=true&limit=1`)).oldest_claimed_at).toBe(claimed)
    expect((await list(`cue_id=${c.cueId}`)).oldest_claimed_at).toBeNull()
    expect(Object.keys(await list('limit=1'))).toContain('oldest_claimed_at')
    for (const q of ['has_evidence=yes', 'result_type=', `result_type=${'x'.repeat(51)}`]) {
      const r = await t.json('GET', `/v1/executions?${q}`)
      expectError(r, 422, 'validation_error')
      expect(r.body.error.message, q).toContain(q.split('=')[0])
    }
  })
})

describe.each(STORES)('missed_window alerts over HTTP on %s', (store) => {
  it('listed under alert_type=missed_window and queued for the alert webhook like the others', async () => {
    let now = Date.parse('2026-11-02T10:00:00Z')
    const t = await makeApp({}, { store, resolve: fakeDns, engine: { clock: () => now } })
    const pass = () => t.engine.maintainPartition({ tenantId: t.tenant.id, partition: 0 })
    expect(
      (await t.json('PATCH', '/v1/auth/me', { alert_webhook_url: 'https://hooks.example/alerts' })).status,
    ).toBe(200)
    const cue = await t.json('POST', '/v1/cues', {
      name: 'hourly-report',
      transport: 'worker',
      schedule: { type: 'recurring', cron: '0 * * * *' },
      payload: { task: 'report' },
      alerts: { missed_window_multiplier: 1 },
    })
    expect(cue.status, JSON.stringify(cue.body)).toBe(201)
    now += 3_600_000
    expect((await pass()).fired).toBe(1)
    now += 3_600_000 + 1000
    await pass()
    const listed = await t.json('GET', '/v1/alerts?alert_type=missed_window')
    expect(listed.status, JSON.stringify(listed.body)).toBe(200)
    expect(listed.body.alerts).toHaveLength(1)
    expect(listed.body.alerts[0]).toMatchObject({
      alert_type: 'missed_window',
      cue_id: cue.body.id,
      execution_id: null,
      metadata: { window_seconds: 3600 },
    })
    const queued = (await t.engine.list(t.tenant, { task: '@alert', limit: 10 })).executions
    expect(queued.map((e) => e.payload)).toContainEqual({ alert_id: listed.body.alerts[0].id })
  })
})

describe.each(STORES)('verification.required_assertions on %s', (store) => {
  it('is validated, stored and echoed, and decides nothing', async () => {
    const t = await makeApp({}, { store })
    const verification = { mode: 'none', required_assertions: ['row_count > 0', 'sent to customer'] }
    const { cueId, id, task } = await firedCue(t, 'none', { verification })
    expect((await t.json('GET', `/v1/cues/${cueId}`)).body.verification).toEqual(verification)
    expect((await report(t, task, { success: true })).outcome_state).toBe('reported_success')
    expect((await t.json('GET', `/v1/executions/${id}`)).body.outcome_state).toBe('reported_success')
    for (const required_assertions of [Array.from({ length: 21 }, () => 'a'), ['x'.repeat(201)], 'one']) {
      const r = await t.json('POST', '/v1/cues', {
        name: 'bad',
        transport: 'worker',
        schedule: { type: 'recurring', cron: '0 0 1 1 *' },
        verification: { mode: 'none', required_assertions },
      })
      expectError(r, 422, 'validation_error')
      expect(r.body.error.message).toContain('required_assertions')
    }
  })
})
