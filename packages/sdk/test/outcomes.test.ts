import type { ServerProcess } from '@cuekit/scripts/lib/server-process'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { type Client, ConflictError, NotFoundError, ValidationError, Worker } from '@cuekit/sdk'
import { afterAll, beforeAll, describe, expect, it, onTestFinished } from 'vitest'
import { commandHandler } from '../src/cli/run.ts'
import { startServer, tenantOn } from './helpers.ts'

// Issue 12 §6: the SDK's outcome calls (evidence, verify, verification-pending, alerts, usage,
// the alert webhook URL and secret), ctx.evidence in handlers and the CLI's outcome file, against
// a real server.

let server: ServerProcess
beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server?.kill()
})

async function manualCue(client: Client, mode: string) {
  const task = `t${Math.random().toString(36).slice(2, 8)}`
  const cue = await client.cues.create({
    name: task,
    transport: 'worker',
    schedule: { type: 'recurring', cron: '0 0 1 1 *' },
    payload: { task },
    verification: { mode: mode as 'manual' },
  })
  return { cue, task }
}

const finished = (client: Client, id: string) =>
  waitFor(
    async () => {
      const r = await client.executions.get(id)
      return r.outcome_state ? r : null
    },
    { timeoutMs: 10_000, intervalMs: 50, message: `${id} has no outcome` },
  )

function start(apiKey: string, handlers: Record<string, (ctx: any) => unknown>) {
  const w = new Worker({
    baseUrl: server.url,
    apiKey,
    workerId: `w-${Math.random().toString(36).slice(2, 6)}`,
    waitSeconds: 2,
    handlers,
  })
  onTestFinished(() => w.stop({ timeoutMs: 1000 }))
  void w.start()
  return w
}

describe('the SDK outcome calls', () => {
  it('ctx.evidence travels with the success report; evidence, verify and verificationPending after it', async () => {
    const { client, apiKey } = await tenantOn(server)
    const { cue, task } = await manualCue(client, 'require_result_url')
    const fired = await client.cues.fire(cue.id)
    start(apiKey, {
      [task]: async (ctx) => {
        ctx.evidence({ external_id: `ext-${ctx.executionId}`, summary: 'made it' })
        return { ok: true }
      },
    })
    const done = await finished(client, fired.id)
    expect(done.status).toBe('success')
    expect(done.outcome_state).toBe('verification_failed')
    expect(done.outcome).toMatchObject({
      success: true,
      result: { ok: true },
      external_id: `ext-${fired.id}`,
      summary: 'made it',
    })

    const patched = await client.executions.evidence(fired.id, { result_url: 'https://r.example/1' })
    expect(patched).toEqual({
      execution_id: fired.id,
      outcome_state: 'verified_success',
      evidence_updated: true,
    })
    await expect(client.executions.verify(fired.id)).rejects.toBeInstanceOf(ConflictError)
    expect(await client.executions.verificationPending(fired.id)).toEqual({
      execution_id: fired.id,
      outcome_state: 'verification_pending',
    })
    expect(await client.executions.verify(fired.id, { valid: false, reason: 'wrong' })).toEqual({
      execution_id: fired.id,
      outcome_state: 'verification_failed',
      valid: false,
      reason: 'wrong',
    })
    await expect(client.executions.evidence(fired.id, { result_url: 'ftp://x' })).rejects.toBeInstanceOf(
      ValidationError,
    )
    await expect(client.executions.verify('exec_nope')).rejects.toBeInstanceOf(NotFoundError)
  })

  it('liveClaim: the first session token wins, the same one repeats, another is a ConflictError', async () => {
    const { client } = await tenantOn(server)
    const { cue } = await manualCue(client, 'none')
    const fired = await client.cues.fire(cue.id)
    const first = await client.executions.liveClaim(fired.id, 'session-1')
    expect(first).toMatchObject({ attested: true, execution_id: fired.id })
    expect(await client.executions.liveClaim(fired.id, 'session-1')).toEqual(first)
    const other = client.executions.liveClaim(fired.id, 'session-2')
    await expect(other).rejects.toBeInstanceOf(ConflictError)
    await expect(other).rejects.toMatchObject({ code: 'already_attested' })
  })

  it('alerts list (with the singular filter), get and acknowledge; usage; the alert webhook URL and secret', async () => {
    const { client, apiKey } = await tenantOn(server)
    const { cue, task } = await manualCue(client, 'require_artifacts')
    const fired = await client.cues.fire(cue.id)
    start(apiKey, { [task]: async () => 'no artifacts' })
    await finished(client, fired.id)
    const { alerts, total } = await waitFor(
      async () => {
        const page = await client.alerts.list({ acknowledged: false })
        return page.total > 0 ? page : null
      },
      { timeoutMs: 5000, message: 'no alert' },
    )
    expect(total).toBe(1)
    expect(alerts[0]).toMatchObject({
      alert_type: 'verification_failed',
      execution_id: fired.id,
      cue_id: cue.id,
    })
    expect((await client.alerts.list({ alert_type: 'consecutive_failure' })).total).toBe(0)
    expect((await client.alerts.get(alerts[0]!.id)).acknowledged).toBe(false)
    const acked = await client.alerts.acknowledge(alerts[0]!.id)
    expect(acked.acknowledged).toBe(true)
    expect((await client.alerts.list({ acknowledged: false })).total).toBe(0)
    await expect(client.alerts.acknowledge('al_nope')).rejects.toBeInstanceOf(NotFoundError)

    const usage = await client.usage()
    expect(usage).toMatchObject({
      plan: 'self-hosted',
      cues: { used: 1 },
      outcomes: { reported: 1, succeeded: 1 },
    })

    const { alert_webhook_secret } = await client.auth.alertWebhookSecret()
    expect(alert_webhook_secret).toMatch(/^[0-9a-f]{64}$/)
    const renewed = await client.auth.regenerateAlertWebhookSecret()
    expect(renewed.previous_secret_revoked).toBe(true)
    expect(renewed.alert_webhook_secret).not.toBe(alert_webhook_secret)
    // The test server refuses private addresses; a public literal passes the guard.
    const me = await client.auth.setAlertWebhookUrl('https://93.184.215.14/alerts')
    expect(me.alert_webhook_url).toBe('https://93.184.215.14/alerts')
    expect((await client.auth.me()).alert_webhook_url).toBe('https://93.184.215.14/alerts')
    await expect(client.auth.setAlertWebhookUrl('http://127.0.0.1/x')).rejects.toMatchObject({
      code: 'invalid_alert_webhook_url',
    })
    expect((await client.auth.setAlertWebhookUrl(null)).alert_webhook_url).toBeNull()
  })
})

describe("cuekit-worker's outcome file", () => {
  it('reports its evidence fields; unknown fields are ignored and unusable ones left out, not the whole report', async () => {
    const { client, apiKey } = await tenantOn(server)
    const { cue, task } = await manualCue(client, 'require_external_id')
    const fired = await client.cues.fire(cue.id)
    const warnings: string[] = []
    const outcome = {
      external_id: 'crm-42',
      result_url: 'not a url',
      result_ref: 'ref-1',
      result_type: 'invoice',
      summary: 's'.repeat(600),
      artifacts: [{ name: 'a.pdf' }],
      produced_at: '2026-01-01T00:00:00Z',
      assertions: ['ok'],
    }
    const handler = commandHandler(
      {
        task,
        cmd: `printf '%s' '${JSON.stringify(outcome)}' > "$CUEAPI_OUTCOME_FILE"`,
        cwd: undefined,
        timeoutSeconds: 5,
        env: {},
      },
      {
        apiKey,
        baseUrl: server.url,
        baseEnv: { PATH: process.env.PATH },
        onWarning: (_ctx, m) => warnings.push(m),
      },
    )
    start(apiKey, { [task]: handler })
    const done = await finished(client, fired.id)
    expect(done.status).toBe('success')
    expect(done.outcome_state).toBe('verified_success')
    expect(done.outcome).toMatchObject({
      external_id: 'crm-42',
      result_ref: 'ref-1',
      result_type: 'invoice',
      artifacts: [{ name: 'a.pdf' }],
    })
    expect(done.outcome?.summary).toBe('s'.repeat(500))
    expect(done.outcome?.result_url ?? null).toBeNull()
    expect(warnings).toEqual([expect.stringContaining('result_url')])
  })
})
