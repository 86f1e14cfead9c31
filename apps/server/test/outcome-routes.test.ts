import { describe, expect, it } from 'vitest'
import { makeApp } from './helpers.ts'
import { expectError, firedCue, report } from './outcome-kit.ts'
import { STORES } from './stores.ts'

// Issue 12 §3, §4, §5: the outcome routes over HTTP — evidence, verify, verification-pending,
// alerts, usage, the alert webhook URL and secret — with their refusals (status, code, message)
// and tenant isolation, on Redis and on the in-memory store.

const PUBLIC_RESOLVER = async () => [{ address: '93.184.215.14', family: 4 as const }]
const LOOPBACK_RESOLVER = async () => [{ address: '127.0.0.1', family: 4 as const }]

describe.each(STORES)('outcome routes on %s', (store) => {
  const app = (config = {}, resolve = PUBLIC_RESOLVER) => makeApp(config, { store, resolve })

  it('PATCH evidence: 409 no_outcome before an outcome, then replaces fields and re-runs the policy', async () => {
    const t = await app()
    const { id, task } = await firedCue(t, 'require_external_id')
    expectError(await t.json('PATCH', `/v1/executions/${id}/evidence`, { summary: 'x' }), 409, 'no_outcome')
    const reported = await report(t, task, { success: true, summary: 'sent' })
    expect(reported.outcome_state).toBe('verification_failed')
    const patched = await t.json('PATCH', `/v1/executions/${id}/evidence`, {
      external_id: 'msg_1',
      result_url: 'https://mail.example.com/msg_1',
      artifacts: [{ name: 'a.pdf' }],
    })
    expect(patched).toMatchObject({
      status: 200,
      body: { execution_id: id, outcome_state: 'verified_success', evidence_updated: true },
    })
    const record = (await t.json('GET', `/v1/executions/${id}`)).body
    expect(record.outcome_state).toBe('verified_success')
    expect(record.outcome).toMatchObject({
      success: true,
      summary: 'sent',
      external_id: 'msg_1',
      result_url: 'https://mail.example.com/msg_1',
      artifacts: [{ name: 'a.pdf' }],
      validation_state: 'valid',
    })
    // Repeatable.
    expect((await t.json('PATCH', `/v1/executions/${id}/evidence`, { summary: 'again' })).status).toBe(200)
    expect((await t.json('GET', `/v1/executions/${id}`)).body.outcome.summary).toBe('again')
  })

  it('PATCH evidence re-runs a policy set after the report, alerting as a report would', async () => {
    const t = await app()
    const { cueId, id, task } = await firedCue(t)
    expect((await report(t, task, { success: true, summary: 'ok' })).outcome_state).toBe('reported_success')
    expect(
      (await t.json('PATCH', `/v1/cues/${cueId}`, { verification: { mode: 'require_result_url' } })).status,
    ).toBe(200)
    const patched = await t.json('PATCH', `/v1/executions/${id}/evidence`, { external_id: 'e-1' })
    expect(patched.body.outcome_state).toBe('verification_failed')
    expect((await t.json('GET', '/v1/alerts')).body.alerts).toEqual([
      expect.objectContaining({
        alert_type: 'verification_failed',
        execution_id: id,
        metadata: { outcome_state: 'verification_failed', transport: 'worker' },
      }),
    ])
  })

  it('PATCH evidence refuses bad input (422) and unknown executions (404)', async () => {
    const t = await app()
    const { id, task } = await firedCue(t)
    await report(t, task, { success: true })
    for (const body of [
      { result_url: 'ftp://example.com/x' },
      { result_url: 'not a url' },
      { summary: 'x'.repeat(501) },
      { result_type: 'x'.repeat(51) },
      { external_id: '' },
      { artifacts: 'a' },
      { unknown_field: 1 },
      [],
    ]) {
      const r = await t.json('PATCH', `/v1/executions/${id}/evidence`, body)
      expectError(r, 422, 'validation_error')
    }
    expectError(await t.json('PATCH', `/v1/executions/${id}/evidence`, '{bad'), 400, 'invalid_json')
    for (const missing of ['exec_nope', '00000000-0000-4000-8000-000000000000']) {
      expectError(
        await t.json('PATCH', `/v1/executions/${missing}/evidence`, { summary: 'x' }),
        404,
        'execution_not_found',
      )
    }
  })

  it('metadata over 10,240 bytes of JSON is 400 metadata_too_large on reports, batch items and evidence', async () => {
    const t = await app()
    // {"k": "xxx…"} as Python writes it: 9 bytes around the value.
    const sized = (bytes: number) => ({ k: 'x'.repeat(bytes - 9) })
    const { id, task } = await firedCue(t)
    const claim = await t.json('POST', '/v1/executions/claim', { worker_id: 'w1', task })
    const token = claim.body.executions[0].lease.token
    const big = await t.json('POST', `/v1/executions/${id}/outcome`, {
      lease_token: token,
      success: true,
      metadata: sized(10_241),
    })
    expectError(big, 400, 'metadata_too_large')
    const batch = await t.json('POST', '/v1/executions/outcomes', {
      outcomes: [
        { execution_id: id, lease_token: token, success: false, error: 'x', metadata: sized(10_241) },
      ],
    })
    expect(batch.body.results[0].error).toMatchObject({ code: 'metadata_too_large', status: 400 })
    // Nothing was recorded; at the limit it is.
    expect((await t.json('GET', `/v1/executions/${id}`)).body.status).toBe('delivering')
    const fits = await t.json('POST', `/v1/executions/${id}/outcome`, {
      lease_token: token,
      success: true,
      metadata: sized(10_240),
    })
    expect(fits.status, JSON.stringify(fits.body)).toBe(200)
    const patched = await t.json('PATCH', `/v1/executions/${id}/evidence`, {
      metadata: { more: 'y'.repeat(100) },
    })
    expectError(patched, 400, 'metadata_too_large')
  })

  it('verify: approves or rejects once (409 invalid_state naming the state), 409 no_outcome, 422, 404', async () => {
    const t = await app()
    const a = await firedCue(t, 'manual')
    expectError(await t.json('POST', `/v1/executions/${a.id}/verify`, {}), 409, 'no_outcome')
    expect((await report(t, a.task, { success: true })).outcome_state).toBe('verification_pending')
    // No body at all means approve.
    const approved = await t.json('POST', `/v1/executions/${a.id}/verify`)
    expect(approved).toMatchObject({
      status: 200,
      body: { execution_id: a.id, outcome_state: 'verified_success', valid: true, reason: null },
    })
    const again = await t.json('POST', `/v1/executions/${a.id}/verify`, { valid: false })
    expectError(again, 409, 'invalid_state')
    expect(again.body.error.message).toContain('verified_success')

    const b = await firedCue(t, 'manual')
    await report(t, b.task, { success: true, summary: 'invoice sent' })
    const rejected = await t.json('POST', `/v1/executions/${b.id}/verify`, {
      valid: false,
      reason: 'wrong total',
    })
    expect(rejected.body).toEqual({
      execution_id: b.id,
      outcome_state: 'verification_failed',
      valid: false,
      reason: 'wrong total',
    })
    const record = (await t.json('GET', `/v1/executions/${b.id}`)).body
    expect(record.outcome.summary).toBe('invoice sent wrong total')
    expect(record.status).toBe('success')

    for (const body of [{ valid: 'yes' }, { reason: 'x'.repeat(501) }, { valid: true, extra: 1 }]) {
      expectError(await t.json('POST', `/v1/executions/${b.id}/verify`, body), 422, 'validation_error')
    }
    expectError(await t.json('POST', '/v1/executions/exec_nope/verify', {}), 404, 'execution_not_found')
  })

  it('verification-pending: from a reported success, not from a reported failure', async () => {
    const t = await app()
    const ok = await firedCue(t)
    expectError(await t.json('POST', `/v1/executions/${ok.id}/verification-pending`), 409, 'no_outcome')
    await report(t, ok.task, { success: true })
    const pending = await t.json('POST', `/v1/executions/${ok.id}/verification-pending`)
    expect(pending).toMatchObject({
      status: 200,
      body: { execution_id: ok.id, outcome_state: 'verification_pending' },
    })
    // And then a person decides.
    const verified = await t.json('POST', `/v1/executions/${ok.id}/verify`, { valid: true })
    expect(verified.body.outcome_state).toBe('verified_success')

    const bad = await firedCue(t)
    await report(t, bad.task, { success: false, error: 'boom' })
    const refused = await t.json('POST', `/v1/executions/${bad.id}/verification-pending`)
    expectError(refused, 409, 'invalid_state')
    expect(refused.body.error.message).toContain('reported_failure')
    expectError(
      await t.json('POST', '/v1/executions/exec_nope/verification-pending'),
      404,
      'execution_not_found',
    )
  })

  it("another tenant's execution is 404 on every outcome route, and its alerts are not listed", async () => {
    const t = await app()
    const { id, task } = await firedCue(t, 'require_artifacts')
    await report(t, task, { success: true })
    const other = await t.newTenant()
    const as = { authorization: `Bearer ${other.apiKey}` }
    expectError(
      await t.json('PATCH', `/v1/executions/${id}/evidence`, { summary: 'x' }, as),
      404,
      'execution_not_found',
    )
    expectError(await t.json('POST', `/v1/executions/${id}/verify`, {}, as), 404, 'execution_not_found')
    expectError(
      await t.json('POST', `/v1/executions/${id}/verification-pending`, undefined, as),
      404,
      'execution_not_found',
    )
    const mine = await t.json('GET', '/v1/alerts')
    expect(mine.body.alerts.map((a: any) => a.alert_type)).toEqual(['verification_failed'])
    const alertId = mine.body.alerts[0].id
    expect(await t.json('GET', '/v1/alerts', undefined, as)).toMatchObject({
      status: 200,
      body: { alerts: [], total: 0 },
    })
    expectError(await t.json('GET', `/v1/alerts/${alertId}`, undefined, as), 404, 'alert_not_found')
    expectError(
      await t.json('POST', `/v1/alerts/${alertId}/acknowledge`, undefined, as),
      404,
      'alert_not_found',
    )
    expect((await t.json('GET', `/v1/alerts/${alertId}`)).body.acknowledged).toBe(false)
    // Unchanged by the other tenant's attempts.
    expect((await t.json('GET', `/v1/executions/${id}`)).body.outcome_state).toBe('verification_failed')
  })

  it('GET /v1/alerts filters, pages, and accepts the singular consecutive_failure; acknowledge is idempotent', async () => {
    const t = await app()
    // Three failures in a row on one cue: one consecutive_failures alert.
    const { cueId, task } = await firedCue(t, 'none', { alerts: { consecutive_failures: 3 } })
    await report(t, task, { success: false, error: 'e1' })
    for (let i = 0; i < 2; i++) {
      expect((await t.json('POST', `/v1/cues/${cueId}/fire`, {})).status).toBe(200)
      await report(t, task, { success: false, error: `e${i + 2}` })
    }
    // And a failed verification elsewhere.
    const v = await firedCue(t, 'require_result_url')
    await report(t, v.task, { success: true })

    const all = await t.json('GET', '/v1/alerts')
    expect(all.status).toBe(200)
    expect(all.body).toMatchObject({ total: 2, limit: 20, offset: 0 })
    expect(all.body.alerts.map((a: any) => a.alert_type)).toEqual([
      'verification_failed',
      'consecutive_failures',
    ])
    const failures = all.body.alerts[1]
    expect(failures).toMatchObject({
      cue_id: cueId,
      severity: 'warning',
      acknowledged: false,
      acknowledged_at: null,
      metadata: { consecutive_failures: 3 },
    })

    for (const type of ['consecutive_failures', 'consecutive_failure']) {
      const r = await t.json('GET', `/v1/alerts?alert_type=${type}`)
      expect(
        r.body.alerts.map((a: any) => a.id),
        type,
      ).toEqual([failures.id])
    }
    expect((await t.json('GET', `/v1/alerts?cue_id=${v.cueId}`)).body.alerts).toHaveLength(1)
    expect((await t.json('GET', '/v1/alerts?limit=1&offset=1')).body).toMatchObject({
      alerts: [{ id: failures.id }],
      total: 2,
      limit: 1,
      offset: 1,
    })
    const future = new Date(Date.now() + 3_600_000).toISOString()
    expect((await t.json('GET', `/v1/alerts?since=${encodeURIComponent(future)}`)).body.alerts).toEqual([])
    const past = new Date(Date.now() - 3_600_000).toISOString()
    expect((await t.json('GET', `/v1/alerts?since=${encodeURIComponent(past)}`)).body.total).toBe(2)

    const ack = await t.json('POST', `/v1/alerts/${failures.id}/acknowledge`)
    expect(ack.status).toBe(200)
    expect(ack.body).toMatchObject({ id: failures.id, acknowledged: true })
    expect(ack.body.acknowledged_at).not.toBeNull()
    const twice = await t.json('POST', `/v1/alerts/${failures.id}/acknowledge`)
    expect(twice.body.acknowledged_at).toBe(ack.body.acknowledged_at)
    expect((await t.json('GET', '/v1/alerts?acknowledged=true')).body.alerts.map((a: any) => a.id)).toEqual([
      failures.id,
    ])
    expect((await t.json('GET', '/v1/alerts?acknowledged=false')).body.total).toBe(1)
    expect((await t.json('GET', `/v1/alerts/${failures.id}`)).body.acknowledged).toBe(true)
  })

  it('GET /v1/alerts refuses bad filters with 422 naming the field; unknown alerts are 404', async () => {
    const t = await app()
    for (const q of [
      'alert_type=nope',
      'acknowledged=maybe',
      'since=yesterday',
      'limit=0',
      'limit=101',
      'offset=-1',
      'colour=red',
    ]) {
      const r = await t.json('GET', `/v1/alerts?${q}`)
      expectError(r, 422, 'validation_error')
      expect(r.body.error.message, q).toContain(q.split('=')[0])
    }
    expectError(await t.json('POST', '/v1/alerts/al_nope/acknowledge'), 404, 'alert_not_found')
    expectError(await t.json('GET', '/v1/alerts/al_nope'), 404, 'alert_not_found')
  })

  it("GET /v1/usage answers CueAPI's shape with real counts and no limits", async () => {
    const t = await app({ rateLimit: 5 })
    const { task } = await firedCue(t)
    await report(t, task, { success: true })
    const f = await firedCue(t)
    await report(t, f.task, { success: false, error: 'no' })
    const r = await t.json('GET', '/v1/usage')
    expect(r.status).toBe(200)
    expect(r.body).toMatchObject({
      plan: 'self-hosted',
      cues: { used: 2, active: 2, limit: null, remaining: null, percent_used: null },
      executions: { limit: null, remaining: null, will_exceed_limit: false },
      outcomes: { reported: 2, succeeded: 1, failed: 1 },
      rate_limit: { requests_per_minute: 300 },
      upgrade_url: null,
    })
    expect(r.body.executions.used).toBeGreaterThanOrEqual(2)
    expect(r.body.executions.projected_month_end).toBeGreaterThanOrEqual(r.body.executions.used)
    const now = new Date()
    expect(r.body.billing_period.start).toBe(
      new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), 1)).toISOString(),
    )
    expect(r.body.period).toEqual({ start: r.body.billing_period.start, end: r.body.billing_period.end })
    // Another tenant's usage is its own.
    const other = await t.newTenant()
    const theirs = await t.json('GET', '/v1/usage', undefined, { authorization: `Bearer ${other.apiKey}` })
    expect(theirs.body).toMatchObject({ cues: { used: 0 }, outcomes: { reported: 0 } })
  })

  it('alert_webhook_url: set through PATCH /v1/auth/me (SSRF-checked), shown by GET, cleared with ""', async () => {
    const t = await app()
    expect((await t.json('GET', '/v1/auth/me')).body.alert_webhook_url).toBeNull()
    const set = await t.json('PATCH', '/v1/auth/me', { alert_webhook_url: 'https://alerts.example.com/in' })
    expect(set.status).toBe(200)
    expect(set.body.alert_webhook_url).toBe('https://alerts.example.com/in')
    expect((await t.json('GET', '/v1/auth/me')).body).toMatchObject({
      alert_webhook_url: 'https://alerts.example.com/in',
      require_lease_token: false,
    })
    for (const url of [
      'http://127.0.0.1/x',
      'http://169.254.169.254/latest',
      'ftp://example.com',
      'nonsense',
    ]) {
      const r = await t.json('PATCH', '/v1/auth/me', { alert_webhook_url: url })
      expectError(r, 400, 'invalid_alert_webhook_url')
      expect(r.body.error.message).toContain('alert_webhook_url')
    }
    expectError(await t.json('PATCH', '/v1/auth/me', { alert_webhook_url: 42 }), 422, 'validation_error')
    // Refused changes left it as it was.
    expect((await t.json('GET', '/v1/auth/me')).body.alert_webhook_url).toBe('https://alerts.example.com/in')
    // Another tenant does not see it.
    const other = await t.newTenant()
    const theirs = await t.json('GET', '/v1/auth/me', undefined, { authorization: `Bearer ${other.apiKey}` })
    expect(theirs.body.alert_webhook_url).toBeNull()
    expect(
      (await t.json('PATCH', '/v1/auth/me', { alert_webhook_url: '' })).body.alert_webhook_url,
    ).toBeNull()
    await t.json('PATCH', '/v1/auth/me', { alert_webhook_url: 'https://alerts.example.com/in' })
    expect(
      (await t.json('PATCH', '/v1/auth/me', { alert_webhook_url: null })).body.alert_webhook_url,
    ).toBeNull()
  })

  it('alert_webhook_url: a name resolving to a private address is refused', async () => {
    const t = await app({}, LOOPBACK_RESOLVER)
    const r = await t.json('PATCH', '/v1/auth/me', { alert_webhook_url: 'https://sneaky.example.com/in' })
    expectError(r, 400, 'invalid_alert_webhook_url')
    expect(r.body.error.message).toContain('loopback')
  })

  it('the alert webhook secret: created on first read, regenerated only with X-Confirm-Destructive: true', async () => {
    const t = await app()
    const first = await t.json('GET', '/v1/auth/alert-webhook-secret')
    expect(first.status).toBe(200)
    expect(first.body.alert_webhook_secret).toMatch(/^[0-9a-f]{64}$/)
    expect((await t.json('GET', '/v1/auth/alert-webhook-secret')).body).toEqual(first.body)
    const refusals: Record<string, string>[] = [
      {},
      { 'x-confirm-destructive': 'false' },
      { 'x-confirm-destructive': 'yes' },
    ]
    for (const headers of refusals) {
      const r = await t.json('POST', '/v1/auth/alert-webhook-secret/regenerate', undefined, headers)
      expectError(r, 400, 'confirmation_required')
      expect(r.body.error.message).toContain('X-Confirm-Destructive')
    }
    expect((await t.json('GET', '/v1/auth/alert-webhook-secret')).body).toEqual(first.body)
    const regenerated = await t.json('POST', '/v1/auth/alert-webhook-secret/regenerate', undefined, {
      'x-confirm-destructive': 'true',
    })
    expect(regenerated.status).toBe(200)
    expect(regenerated.body.previous_secret_revoked).toBe(true)
    expect(regenerated.body.alert_webhook_secret).toMatch(/^[0-9a-f]{64}$/)
    expect(regenerated.body.alert_webhook_secret).not.toBe(first.body.alert_webhook_secret)
    expect((await t.json('GET', '/v1/auth/alert-webhook-secret')).body.alert_webhook_secret).toBe(
      regenerated.body.alert_webhook_secret,
    )
    // Per tenant, and not the webhook (whsec_) secret.
    const other = await t.newTenant()
    const theirs = await t.json('GET', '/v1/auth/alert-webhook-secret', undefined, {
      authorization: `Bearer ${other.apiKey}`,
    })
    expect(theirs.body.alert_webhook_secret).not.toBe(regenerated.body.alert_webhook_secret)
    expect((await t.json('GET', '/v1/auth/webhook-secret')).body.webhook_secret).toMatch(/^whsec_/)
  })
})
