import type { AddressInfo } from 'node:net'
import { Cues } from '@cuekit/engine'
import {
  ALERT_TASK,
  AlertWebhookBody,
  CreateCueRequest,
  CueFailedBody,
  EMAIL_TASK,
  pythonJsonDumps,
} from '@cuekit/protocol'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { verifyWebhook } from '@cuekit/sdk'
import { createApp } from '@cuekit/server'
import { SMTPServer } from 'smtp-server'
import { afterAll, describe, expect, it } from 'vitest'
import { MAIL_SKIPPED_NOTE } from '../src/webhooks/mail.ts'
import { makeApp, type TestApp } from './helpers.ts'
import { startReceiver } from './receiver.ts'

// The notices the engine queues as internal executions, sent by the dispatcher: alerts to the
// tenant's alert webhook (signed like CueAPI's), a cue's `cue.failed` to its on_failure.webhook,
// and on_failure mail over SMTP. Each is an execution: leased, retried, handed over.

const WORKER_CUE = {
  transport: 'worker',
  schedule: { type: 'recurring', cron: '0 0 1 1 *' },
  payload: { task: 'job' },
  retry: { max_attempts: 1 },
}

/** A worker cue whose one execution fails for good (a worker reports failure). */
async function failOnce(t: TestApp, cue: Record<string, unknown>, tenant = t.tenant) {
  const body = CreateCueRequest.parse({ name: 'nightly-report', ...WORKER_CUE, ...cue })
  const created = await t.engine.cues.create(tenant, Cues.configFromCreate(body))
  const fired = await t.engine.cues.fire(tenant, await t.engine.cues.read(tenant, created.id), {})
  const [claimed] = await t.engine.claim(tenant, { worker_id: 'w1', task: 'job' })
  expect(claimed?.execution_id).toBe(fired.id)
  await t.engine.report(tenant, fired.id, {
    success: false,
    error: 'the report generator crashed',
    lease_token: claimed!.lease.token,
  })
  return { cueId: created.id, executionId: fired.id }
}

async function alertHook(t: TestApp, url: string) {
  await t.cuekit.services.tenants.setAlertWebhookUrl(t.tenant, url)
  return t.cuekit.services.tenants.alertWebhookSecret(t.tenant.id)
}

describe.each(['redis', 'memory'] as const)('alert webhooks (%s)', (store) => {
  it('are delivered signed like CueAPI: sorted-key body, alert headers, verifyWebhook passes', async () => {
    const t = await makeApp({ webhookAllowPrivate: true }, { store })
    t.cuekit.startMaintenance()
    const rx = await startReceiver()
    const secret = await alertHook(t, `${rx.url}/alerts`)
    const { cueId, executionId } = await failOnce(t, { alerts: { consecutive_failures: 1 } })
    await waitFor(() => rx.received.length === 1, { timeoutMs: 10_000, message: 'alert never delivered' })
    const got = rx.received[0]!
    const [alert] = (await t.engine.alerts(t.tenant, { limit: 20, offset: 0 })).alerts
    expect(got.method).toBe('POST')
    expect(got.path).toBe('/alerts')
    expect(got.headers['x-cueapi-alert-id']).toBe(alert!.id)
    expect(got.headers['x-cueapi-alert-type']).toBe('consecutive_failures')
    expect(got.headers['content-type']).toBe('application/json')
    const body = JSON.parse(got.body)
    expect(body).toEqual({
      alert_id: alert!.id,
      alert_type: 'consecutive_failures',
      severity: 'warning',
      message: alert!.message,
      execution_id: null,
      cue_id: cueId,
      created_at: alert!.created_at,
      metadata: { consecutive_failures: 1 },
    })
    expect(AlertWebhookBody.strict().parse(body)).toEqual(body)
    // The bytes are Python's json.dumps(sort_keys=True): receivers written for CueAPI re-serialise.
    expect(got.body).toBe(pythonJsonDumps(body))
    expect(verifyWebhook(secret, got.headers, got.body)).toBe(true)
    expect(verifyWebhook(secret, got.headers, body)).toBe(true)
    expect(verifyWebhook('0'.repeat(64), got.headers, got.body)).toBe(false)
    expect(executionId).toBeTruthy()
  })

  it('a receiver answering 500 gets the alert again, with the same alert id, after the backoff', async () => {
    const t = await makeApp({ webhookAllowPrivate: true }, { store })
    t.cuekit.startMaintenance()
    const rx = await startReceiver((_r, i) => (i === 0 ? 500 : 200))
    const secret = await alertHook(t, `${rx.url}/alerts`)
    await failOnce(t, { alerts: { consecutive_failures: 1 } })
    await waitFor(() => rx.received.length === 1, { timeoutMs: 10_000, message: 'first alert never came' })
    const [record] = (await t.engine.list(t.tenant, { task: ALERT_TASK })).executions
    await waitFor(async () => (await t.engine.get(t.tenant, record!.id)).status === 'retrying', {
      timeoutMs: 5000,
      message: 'the failed attempt was not recorded',
    })
    const failed = await t.engine.get(t.tenant, record!.id)
    expect(failed.error_message).toMatch(/500/)
    // The receiver's answer is recorded on the notice execution, as on a webhook delivery.
    expect(failed.http_status).toBe(500)
    // The engine's backoff for notices starts at 5 s.
    await waitFor(() => rx.received.length === 2, { timeoutMs: 15_000, message: 'no retry after the 500' })
    expect(rx.received[1]!.headers['x-cueapi-alert-id']).toBe(rx.received[0]!.headers['x-cueapi-alert-id'])
    expect(verifyWebhook(secret, rx.received[1]!.headers, rx.received[1]!.body)).toBe(true)
    await waitFor(async () => (await t.engine.get(t.tenant, record!.id)).status === 'success', {
      timeoutMs: 5000,
      message: 'the delivered alert was not recorded as success',
    })
    expect(await t.engine.get(t.tenant, record!.id)).toMatchObject({ attempts: 2, http_status: 200 })
    // The delivery counter tells alerts from webhooks.
    const metrics = await (await t.cuekit.app.request('/metrics')).text()
    expect(metrics).toContain('cuekit_webhook_deliveries_total{kind="alert",result="failure"} 1')
    expect(metrics).toContain('cuekit_webhook_deliveries_total{kind="alert",result="success"} 1')
    expect(metrics).not.toContain('kind="webhook"')
  }, 30_000)

  it('refuses a loopback alert URL at delivery time unless private addresses are allowed', async () => {
    const t = await makeApp({ webhookAllowPrivate: false }, { store })
    t.cuekit.startMaintenance()
    const rx = await startReceiver()
    await alertHook(t, `${rx.url}/alerts`)
    await failOnce(t, { alerts: { consecutive_failures: 1 } })
    const record = await waitFor(
      async () => {
        const [e] = (await t.engine.list(t.tenant, { task: ALERT_TASK })).executions
        return e && e.status === 'retrying' ? e : null
      },
      { timeoutMs: 10_000, message: 'the alert was never attempted' },
    )
    expect(record.error_message).toMatch(/not allowed|private|loopback/i)
    expect(rx.received).toHaveLength(0)
  })
})

describe('an alert in flight when its server stops', () => {
  it('is handed back and delivered by another server on the same store', async () => {
    const a = await makeApp({ webhookAllowPrivate: true })
    const rx = await startReceiver((_r, i) => (i === 0 ? 'hold' : 200))
    const secret = await alertHook(a, `${rx.url}/alerts`)
    a.cuekit.startMaintenance()
    await failOnce(a, { alerts: { consecutive_failures: 1 } })
    await waitFor(() => rx.received.length === 1, { timeoutMs: 10_000, message: 'first alert never came' })
    // Server A stops while its request hangs; B, on the same store, takes over.
    const b = createApp({ engine: a.engine, config: { webhookAllowPrivate: true } })
    await b.services.pubsub.ready
    b.startMaintenance()
    try {
      await a.cuekit.close()
      await waitFor(() => rx.received.length === 2, { timeoutMs: 15_000, message: 'B never delivered' })
      const [first, second] = rx.received
      expect(second!.headers['x-cueapi-alert-id']).toBe(first!.headers['x-cueapi-alert-id'])
      expect(verifyWebhook(secret, second!.headers, second!.body)).toBe(true)
      const [record] = (await a.engine.list(a.tenant, { task: ALERT_TASK })).executions
      await waitFor(async () => (await a.engine.get(a.tenant, record!.id)).status === 'success', {
        timeoutMs: 5000,
      })
    } finally {
      rx.received[0]?.respond(200)
      await b.close()
    }
  }, 30_000)
})

describe.each(['redis', 'memory'] as const)('on_failure.webhook (%s)', (store) => {
  it("posts CueAPI's cue.failed, signed with the tenant's webhook secret", async () => {
    const t = await makeApp({ webhookAllowPrivate: true }, { store })
    t.cuekit.startMaintenance()
    const rx = await startReceiver()
    const { cueId, executionId } = await failOnce(t, {
      on_failure: { email: false, webhook: `${rx.url}/failed`, pause: true },
    })
    await waitFor(() => rx.received.length === 1, { timeoutMs: 10_000, message: 'cue.failed never came' })
    const got = rx.received[0]!
    const failed = await t.engine.get(t.tenant, executionId)
    expect(JSON.parse(got.body)).toEqual({
      event: 'cue.failed',
      cue_id: cueId,
      cue_name: 'nightly-report',
      execution_id: executionId,
      attempts: 1,
      last_http_status: null,
      last_error: 'the report generator crashed',
      failed_at: failed.finished_at,
      dashboard_url: null,
    })
    expect(CueFailedBody.strict().parse(JSON.parse(got.body))).toEqual(JSON.parse(got.body))
    expect(got.body).toBe(pythonJsonDumps(JSON.parse(got.body)))
    const secret = await t.cuekit.services.tenants.webhookSecret(t.tenant.id)
    expect(verifyWebhook(secret, got.headers, got.body)).toBe(true)
    expect((await t.engine.cues.read(t.tenant, cueId)).status).toBe('paused')
    const [notice] = (await t.engine.list(t.tenant, { task: '@notify' })).executions
    await waitFor(async () => (await t.engine.get(t.tenant, notice!.id)).http_status === 200, {
      timeoutMs: 5000,
      message: "the cue.failed receiver's 200 was not recorded",
    })
    const metrics = await (await t.cuekit.app.request('/metrics')).text()
    expect(metrics).toContain('cuekit_webhook_deliveries_total{kind="notify",result="success"} 1')
  })
})

describe('a worker execution missed by its outcome deadline', () => {
  it('runs on_failure: cue.failed with no attempts, and an outcome_timeout alert to the alert webhook', async () => {
    const t = await makeApp({ webhookAllowPrivate: true })
    t.cuekit.startMaintenance()
    const rx = await startReceiver()
    const secret = await alertHook(t, `${rx.url}/alerts`)
    const created = await t.json('POST', '/v1/cues', {
      name: 'nobody-home',
      ...WORKER_CUE,
      delivery: { outcome_deadline_seconds: 1 },
      on_failure: { email: false, webhook: `${rx.url}/failed` },
    })
    expect(created.status).toBe(201)
    const fired = await t.json('POST', `/v1/cues/${created.body.id}/fire`)
    const failed = await waitFor(() => rx.received.find((r) => r.path === '/failed'), {
      timeoutMs: 10_000,
      message: 'cue.failed never came',
    })
    expect(JSON.parse(failed.body)).toMatchObject({
      event: 'cue.failed',
      execution_id: fired.body.id,
      attempts: 0,
      last_http_status: null,
    })
    const alert = await waitFor(() => rx.received.find((r) => r.path === '/alerts'), {
      timeoutMs: 10_000,
      message: 'no outcome_timeout alert',
    })
    expect(alert.headers['x-cueapi-alert-type']).toBe('outcome_timeout')
    expect(JSON.parse(alert.body).execution_id).toBe(fired.body.id)
    expect(verifyWebhook(secret, alert.headers, alert.body)).toBe(true)
  })
})

describe('notices with nothing left to send to', () => {
  it('fail at once, without retries: the alert webhook was cleared, the tenant has no email', async () => {
    const smtp = await startSmtp()
    const t = await makeApp(
      { webhookAllowPrivate: true, smtp: { url: smtp.url, from: 'cuekit@localhost' } },
      { engine: { emailEnabled: true } },
    )
    const rx = await startReceiver()
    await alertHook(t, `${rx.url}/alerts`)
    // Queued while the URL was set, sent after it was cleared; the test tenant has no email.
    await failOnce(t, { alerts: { consecutive_failures: 1 }, on_failure: { email: true } })
    await t.cuekit.services.tenants.setAlertWebhookUrl(t.tenant, null)
    t.cuekit.startMaintenance()
    for (const task of [ALERT_TASK, EMAIL_TASK]) {
      const done = await waitFor(
        async () => {
          const [e] = (await t.engine.list(t.tenant, { task })).executions
          return e?.status === 'failed' ? e : null
        },
        { timeoutMs: 10_000, message: `${task} did not fail` },
      )
      expect(done.attempts).toBe(1)
      expect(done.error_message).toMatch(task === ALERT_TASK ? /alert_webhook_url/ : /no email/)
    }
    expect(rx.received).toHaveLength(0)
    expect(smtp.mails).toHaveLength(0)
  })
})

describe('a webhook delivery answered 500 for good', () => {
  it("records the HTTP status on the execution and in the cue's cue.failed", async () => {
    const t = await makeApp({ webhookAllowPrivate: true })
    t.cuekit.startMaintenance()
    const rx = await startReceiver((r) => (r.path === '/hook' ? 500 : 200))
    const created = await t.json('POST', '/v1/cues', {
      name: 'always-500',
      schedule: { type: 'recurring', cron: '0 0 1 1 *' },
      callback: { url: `${rx.url}/hook` },
      retry: { max_attempts: 1 },
      on_failure: { email: false, webhook: `${rx.url}/failed` },
    })
    expect(created.status).toBe(201)
    const fired = await t.json('POST', `/v1/cues/${created.body.id}/fire`)
    const id = fired.body.execution_id ?? fired.body.id
    const notice = await waitFor(() => rx.received.find((r) => r.path === '/failed'), {
      timeoutMs: 10_000,
      message: 'cue.failed never came',
    })
    expect(JSON.parse(notice.body)).toMatchObject({ execution_id: id, attempts: 1, last_http_status: 500 })
    const execution = await t.json('GET', `/v1/executions/${id}`)
    expect(execution.body).toMatchObject({ status: 'failed', http_status: 500 })
  })
})

/** A local SMTP server that keeps every message it accepts. */
async function startSmtp() {
  const mails: { from: string; to: string[]; raw: string }[] = []
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    onData(stream, session, callback) {
      let raw = ''
      stream.setEncoding('utf8')
      stream.on('data', (d: string) => {
        raw += d
      })
      stream.on('end', () => {
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw,
        })
        callback()
      })
    },
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.server.address() as AddressInfo).port
  smtpClosers.push(() => new Promise<void>((resolve) => server.close(() => resolve())))
  return { url: `smtp://127.0.0.1:${port}`, mails }
}
const smtpClosers: (() => Promise<void>)[] = []
afterAll(async () => {
  for (const close of smtpClosers.splice(0)) await close()
})

describe('on_failure.email', () => {
  it('is mailed through the configured SMTP server, naming the cue and the execution', async () => {
    const smtp = await startSmtp()
    const t = await makeApp(
      { smtp: { url: smtp.url, from: 'Cuekit <alerts@cuekit.test>' } },
      { engine: { emailEnabled: true } },
    )
    t.cuekit.startMaintenance()
    const { tenant } = await t.cuekit.services.tenants.create({ name: 'ops', email: 'ops@example.com' })
    const { cueId, executionId } = await failOnce(t, { on_failure: { email: true } }, tenant)
    await waitFor(() => smtp.mails.length === 1, { timeoutMs: 10_000, message: 'no mail arrived' })
    const mail = smtp.mails[0]!
    expect(mail.from).toBe('alerts@cuekit.test')
    expect(mail.to).toEqual(['ops@example.com'])
    const unfolded = mail.raw.replace(/\r?\n[ \t]/g, ' ')
    expect(unfolded).toMatch(/^Subject: .*nightly-report.*/m)
    expect(unfolded).toContain(executionId)
    expect(unfolded).toContain(cueId)
    expect(unfolded).toContain('the report generator crashed')
  })

  it('without SMTP: nothing is queued, and a cue asking for mail says so in its warning', async () => {
    const t = await makeApp({ webhookAllowPrivate: true })
    t.cuekit.startMaintenance()
    const asks = await t.json('POST', '/v1/cues', {
      name: 'mailme',
      ...WORKER_CUE,
      on_failure: { email: true },
    })
    expect(asks.status).toBe(201)
    expect(asks.body.warning).toContain(MAIL_SKIPPED_NOTE)
    const quiet = await t.json('POST', '/v1/cues', {
      name: 'quiet',
      ...WORKER_CUE,
      on_failure: { email: false },
    })
    expect(quiet.body.warning).not.toContain(MAIL_SKIPPED_NOTE)
    const patched = await t.json('PATCH', `/v1/cues/${quiet.body.id}`, { on_failure: { email: true } })
    expect(patched.status).toBe(200)
    expect(patched.body.warning).toBe(MAIL_SKIPPED_NOTE)
    const { tenant } = await t.cuekit.services.tenants.create({ name: 'ops', email: 'ops@example.com' })
    await failOnce(t, { on_failure: { email: true } }, tenant)
    expect(await t.engine.claim(tenant, { worker_id: 'probe', task: EMAIL_TASK })).toEqual([])
  })

  it('with SMTP configured, a cue asking for mail carries no note', async () => {
    const smtp = await startSmtp()
    const t = await makeApp(
      { smtp: { url: smtp.url, from: 'cuekit@localhost' } },
      { engine: { emailEnabled: true } },
    )
    const asks = await t.json('POST', '/v1/cues', {
      name: 'mailme',
      ...WORKER_CUE,
      on_failure: { email: true },
    })
    expect(asks.body.warning ?? '').not.toContain(MAIL_SKIPPED_NOTE)
  })
})
