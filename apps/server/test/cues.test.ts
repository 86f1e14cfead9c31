import { createHmac } from 'node:crypto'
import { ERROR_CODES, pythonJsonDumps } from '@cuekit/protocol'
import { waitFor } from '@cuekit/scripts/lib/wait'
import type { Resolver } from '@cuekit/server'
import { describe, expect, it } from 'vitest'
import { makeApp, type TestApp } from './helpers.ts'
import { startReceiver } from './receiver.ts'

// The cue API (CueAPI's shapes), the webhook-secret routes, and webhook delivery by the
// in-process dispatcher to a receiver on loopback.

function expectError(r: { status: number; body: any }, code: keyof typeof ERROR_CODES) {
  expect(r.body?.error?.code, JSON.stringify(r.body)).toBe(code)
  expect(r.status).toBe(ERROR_CODES[code].status)
  expect(typeof r.body.error.message).toBe('string')
}

const hourly = { type: 'recurring', cron: '0 * * * *', timezone: 'UTC' }
const fakeDns: Resolver = async (host) => {
  const table: Record<string, string> = { 'hooks.example': '93.184.216.34', 'sneaky.example': '127.0.0.1' }
  const address = table[host]
  if (!address) throw Object.assign(new Error('nxdomain'), { code: 'ENOTFOUND' })
  return [{ address, family: 4 }]
}

async function createCue(t: TestApp, body: Record<string, unknown>) {
  const r = await t.json('POST', '/v1/cues', body)
  expect(r.status, JSON.stringify(r.body)).toBe(201)
  return r.body
}

describe('cue API', () => {
  it('creates a cue in CueAPI shape, reads, lists, edits, fires and deletes it', async () => {
    const t = await makeApp({}, { resolve: fakeDns })
    const cue = await createCue(t, {
      name: 'morning-brief',
      schedule: { type: 'recurring', cron: '0 9 * * *', timezone: 'America/Los_Angeles' },
      callback: { url: 'https://hooks.example/run' },
      payload: { task: 'daily_brief' },
      delivery: { timeout_seconds: 20 },
      on_failure: { email: false, webhook: null, pause: true },
      verification: { mode: 'require_external_id' },
      alerts: { consecutive_failures: 5 },
    })
    expect(cue).toMatchObject({
      name: 'morning-brief',
      description: null,
      status: 'active',
      transport: 'webhook',
      schedule: { type: 'recurring', cron: '0 9 * * *', timezone: 'America/Los_Angeles' },
      callback: { url: 'https://hooks.example/run', method: 'POST', headers: {} },
      payload: { task: 'daily_brief' },
      retry: { max_attempts: 3, backoff_minutes: [1, 5, 15] },
      catch_up: 'run_once_if_missed',
      delivery: { timeout_seconds: 20, outcome_deadline_seconds: 300 },
      on_failure: { email: false, webhook: null, pause: true },
      verification: { mode: 'require_external_id' },
      alerts: { consecutive_failures: 5 },
      last_run: null,
      run_count: 0,
      fired_count: 0,
      warning: null,
    })
    expect(cue.schedule).not.toHaveProperty('at')
    // 09:00 in Los Angeles, stored and returned in UTC (16:00 in summer, 17:00 in winter).
    expect([16, 17]).toContain(new Date(cue.next_run).getUTCHours())
    expect(cue.next_run).toMatch(/T1[67]:00:00\.000Z$/)
    expect(cue.id).toMatch(/^cue_[a-z0-9]{12}$/)

    const got = await t.json('GET', `/v1/cues/${cue.id}`)
    expect(got.status).toBe(200)
    expect(got.body).toMatchObject({ id: cue.id, executions: [], execution_total: 0, execution_limit: 10 })

    const fired = await t.json('POST', `/v1/cues/${cue.id}/fire`, { payload_override: { extra: 1 } })
    expect(fired.status).toBe(200)
    expect(fired.body.id).toBe(fired.body.execution_id)
    expect(fired.body).toMatchObject({
      cue_id: cue.id,
      cue_name: 'morning-brief',
      payload: { task: 'daily_brief', extra: 1 },
      status: 'pending',
      triggered_by: 'manual_fire',
    })
    const detail = await t.json('GET', `/v1/cues/${cue.id}?execution_limit=5`)
    expect(detail.body.executions.map((e: any) => e.execution_id)).toEqual([fired.body.execution_id])
    expect(detail.body.fired_count).toBe(0) // the scheduler's fires only, as in CueAPI

    const patched = await t.json('PATCH', `/v1/cues/${cue.id}`, {
      description: 'weekday mornings',
      schedule: { type: 'recurring', cron: '0 9 * * 1-5', timezone: 'America/Los_Angeles' },
      callback: { url: 'https://hooks.example/v2', headers: { 'X-Token': 'abc' } },
    })
    expect(patched.status).toBe(200)
    expect(patched.body).toMatchObject({
      description: 'weekday mornings',
      schedule: { cron: '0 9 * * 1-5' },
      callback: { url: 'https://hooks.example/v2', method: 'POST', headers: { 'X-Token': 'abc' } },
      on_failure: { pause: true },
    })
    const paused = await t.json('PATCH', `/v1/cues/${cue.id}`, { status: 'paused' })
    expect(paused.body).toMatchObject({ status: 'paused', next_run: null })
    const resumed = await t.json('PATCH', `/v1/cues/${cue.id}`, { status: 'active' })
    expect(resumed.body.status).toBe('active')
    expect(Date.parse(resumed.body.next_run)).toBeGreaterThan(Date.now())

    expect((await t.call('DELETE', `/v1/cues/${cue.id}`)).status).toBe(204)
    expectError(await t.json('GET', `/v1/cues/${cue.id}`), 'cue_not_found')
    expectError(await t.json('DELETE', `/v1/cues/${cue.id}`), 'cue_not_found')
    expectError(await t.json('POST', `/v1/cues/${cue.id}/fire`), 'cue_not_found')
    // Its execution outlives it.
    expect((await t.json('GET', `/v1/executions/${fired.body.execution_id}`)).status).toBe(200)
  })

  it('accepts the MCP flat shape and worker cues; task defaults to payload.task', async () => {
    const t = await makeApp()
    const flat = await createCue(t, {
      name: 'flat',
      cron: '*/5 * * * *',
      timezone: 'Europe/Paris',
      worker: true,
      payload: { task: 'sync' },
    })
    expect(flat).toMatchObject({
      transport: 'worker',
      task: 'sync',
      schedule: { type: 'recurring', cron: '*/5 * * * *', timezone: 'Europe/Paris' },
      callback: { url: null, method: 'POST', headers: {} },
      warning: 'No active workers found. Start a cueapi-worker to process this cue.',
    })
    const at = new Date(Date.now() + 3_600_000).toISOString()
    const once = await createCue(t, { name: 'once', at, worker: true })
    expect(once.schedule).toEqual({ type: 'once', at, timezone: 'UTC' })
    expect(once.schedule).not.toHaveProperty('cron')
    expect(once.next_run).toBe(at)
    expect(once.task).toBe('default')
    const explicit = await createCue(t, {
      name: 'explicit',
      transport: 'worker',
      task: 'reports',
      schedule: hourly,
      payload: { task: 'ignored' },
      retry: { max_attempts: 5, backoff_seconds: [0.5, 2] },
      catch_up: 'replay_all',
    })
    expect(explicit).toMatchObject({
      task: 'reports',
      retry: { max_attempts: 5, backoff_seconds: [0.5, 2] },
      catch_up: 'replay_all_missed',
    })
    const fired = await t.json('POST', `/v1/cues/${explicit.id}/fire`)
    expect(fired.body).toMatchObject({ task: 'reports', max_attempts: 5, backoff_seconds: [0.5, 2] })
  })

  it('enforces require_payload_override and required_payload_keys on manual fires', async () => {
    const t = await makeApp()
    const cue = await createCue(t, {
      name: 'strict',
      transport: 'worker',
      schedule: hourly,
      payload: { task: 'x' },
      require_payload_override: true,
      required_payload_keys: ['user_id'],
    })
    expect(cue).toMatchObject({ require_payload_override: true, required_payload_keys: ['user_id'] })
    expectError(await t.json('POST', `/v1/cues/${cue.id}/fire`), 'payload_override_required')
    const missing = await t.json('POST', `/v1/cues/${cue.id}/fire`, { payload_override: { other: 1 } })
    expectError(missing, 'missing_required_payload_keys')
    expect(missing.body.error.message).toMatch(/user_id/)
    const ok = await t.json('POST', `/v1/cues/${cue.id}/fire`, { payload_override: { user_id: 7 } })
    expect(ok.body.payload).toEqual({ task: 'x', user_id: 7 })
  })

  it('lists newest first with offset paging and a status filter', async () => {
    const t = await makeApp()
    const ids: string[] = []
    for (const name of ['a', 'b', 'c'])
      ids.push((await createCue(t, { name, transport: 'worker', schedule: hourly })).id)
    await t.json('PATCH', `/v1/cues/${ids[1]}`, { status: 'paused' })
    const page = await t.json('GET', '/v1/cues?limit=2&offset=0')
    expect(page.body).toMatchObject({ total: 3, limit: 2, offset: 0 })
    expect(page.body.cues.map((c: any) => c.name)).toEqual(['c', 'b'])
    const next = await t.json('GET', '/v1/cues?limit=2&offset=2')
    expect(next.body.cues.map((c: any) => c.name)).toEqual(['a'])
    const paused = await t.json('GET', '/v1/cues?status=paused')
    expect(paused.body).toMatchObject({ total: 1, limit: 50, offset: 0 })
    expect(paused.body.cues[0].id).toBe(ids[1])
    expectError(await t.json('GET', '/v1/cues?limit=101'), 'validation_error')
    expectError(await t.json('GET', '/v1/cues?status=nope'), 'validation_error')
  })

  it('refuses bad input with clear codes and loses nothing already stored', async () => {
    const t = await makeApp()
    const base = { transport: 'worker', schedule: hourly }
    const cue = await createCue(t, { name: 'keep', ...base })
    expectError(await t.json('POST', '/v1/cues', { name: 'keep', ...base }), 'duplicate_cue_name')
    expectError(
      await t.json('POST', '/v1/cues', {
        name: 'x',
        transport: 'worker',
        schedule: { type: 'recurring', cron: 'nope' },
      }),
      'invalid_schedule',
    )
    expectError(
      await t.json('POST', '/v1/cues', {
        name: 'x',
        transport: 'worker',
        schedule: { type: 'recurring', cron: '* * * * *', timezone: 'Mars/Olympus' },
      }),
      'invalid_timezone',
    )
    expectError(
      await t.json('POST', '/v1/cues', { name: 'x', transport: 'worker', schedule: { type: 'recurring' } }),
      'invalid_schedule',
    )
    expectError(
      await t.json('POST', '/v1/cues', {
        name: 'x',
        transport: 'worker',
        schedule: { type: 'once', at: '2001-01-01T00:00:00Z' },
      }),
      'invalid_schedule',
    )
    expectError(await t.json('POST', '/v1/cues', { name: 'x', schedule: hourly }), 'validation_error') // webhook, no url
    expectError(
      await t.json('POST', '/v1/cues', { name: 'x', ...base, retry: { max_attempts: 11 } }),
      'validation_error',
    )
    expectError(await t.json('POST', '/v1/cues', { name: 'x', ...base, surprise: 1 }), 'validation_error')
    expectError(
      await t.json('POST', '/v1/cues', {
        name: 'x',
        schedule: hourly,
        callback: { url: 'https://a.example/', headers: { Host: 'evil' } },
      }),
      'validation_error',
    )
    expectError(await t.json('PATCH', `/v1/cues/${cue.id}`, { status: 'completed' }), 'validation_error')
    expectError(
      await t.json('PATCH', `/v1/cues/${cue.id}`, { schedule: { type: 'recurring', cron: '61 * * * *' } }),
      'invalid_schedule',
    )
    const other = await createCue(t, { name: 'other', ...base })
    expectError(await t.json('PATCH', `/v1/cues/${other.id}`, { name: 'keep' }), 'duplicate_cue_name')
    const still = await t.json('GET', `/v1/cues/${cue.id}`)
    expect(still.body).toMatchObject({ name: 'keep', status: 'active', schedule: hourly })
    expect((await t.json('GET', '/v1/cues')).body.total).toBe(2)
  })

  it("another tenant's cue is 404 cue_not_found everywhere", async () => {
    const t = await makeApp()
    const cue = await createCue(t, { name: 'mine', transport: 'worker', schedule: hourly })
    const { apiKey } = await t.newTenant()
    const as = { authorization: `Bearer ${apiKey}` }
    expectError(await t.json('GET', `/v1/cues/${cue.id}`, undefined, as), 'cue_not_found')
    expectError(await t.json('PATCH', `/v1/cues/${cue.id}`, { status: 'paused' }, as), 'cue_not_found')
    expectError(await t.json('POST', `/v1/cues/${cue.id}/fire`, {}, as), 'cue_not_found')
    expectError(await t.json('DELETE', `/v1/cues/${cue.id}`, undefined, as), 'cue_not_found')
    expect((await t.json('GET', '/v1/cues', undefined, as)).body.total).toBe(0)
    // The same name is free in the other tenant.
    expect(
      (await t.json('POST', '/v1/cues', { name: 'mine', transport: 'worker', schedule: hourly }, as)).status,
    ).toBe(201)
  })

  it('refuses webhook URLs that reach private, loopback, link-local or metadata addresses (422)', async () => {
    const t = await makeApp({}, { resolve: fakeDns })
    for (const url of [
      'http://169.254.169.254/latest/meta-data/',
      'http://127.0.0.1:8080/hook',
      'http://[::1]/hook',
      'http://[fd00:ec2::254]/',
      'http://[::ffff:10.0.0.1]/',
      'http://10.0.0.1/',
      'http://100.64.1.1/',
      'http://sneaky.example/hook',
    ]) {
      const r = await t.json('POST', '/v1/cues', { name: 'x', schedule: hourly, callback: { url } })
      expectError(r, 'webhook_url_not_allowed')
    }
    const cue = await createCue(t, {
      name: 'ok',
      schedule: hourly,
      callback: { url: 'https://hooks.example/' },
    })
    expectError(
      await t.json('PATCH', `/v1/cues/${cue.id}`, { callback: { url: 'http://169.254.169.254/' } }),
      'webhook_url_not_allowed',
    )
    expect((await t.json('GET', `/v1/cues/${cue.id}`)).body.callback.url).toBe('https://hooks.example/')
    // A name that does not resolve is accepted with a warning: deliveries check again.
    const unresolved = await createCue(t, {
      name: 'later',
      schedule: hourly,
      callback: { url: 'https://nx.example/' },
    })
    expect(unresolved.warning).toMatch(/did not resolve/)
  })

  it('serves the webhook secret (created on first use) and regenerates it', async () => {
    const t = await makeApp()
    const a = await t.json('GET', '/v1/auth/webhook-secret')
    expect(a.status).toBe(200)
    expect(a.body.webhook_secret).toMatch(/^whsec_[0-9a-f]{64}$/)
    expect((await t.json('GET', '/v1/auth/webhook-secret')).body.webhook_secret).toBe(a.body.webhook_secret)
    const b = await t.json('POST', '/v1/auth/webhook-secret/regenerate')
    expect(b.body).toMatchObject({ previous_secret_revoked: true })
    expect(b.body.webhook_secret).not.toBe(a.body.webhook_secret)
    expect((await t.json('GET', '/v1/auth/webhook-secret')).body.webhook_secret).toBe(b.body.webhook_secret)
  })

  it('workers can neither claim nor list webhook executions', async () => {
    const t = await makeApp({ webhookAllowPrivate: true })
    const cue = await createCue(t, { name: 'h', schedule: hourly, callback: { url: 'http://127.0.0.1:9/' } })
    const fired = await t.json('POST', `/v1/cues/${cue.id}/fire`)
    expect(fired.body.task).toBe('@webhook')
    expectError(
      await t.json('POST', '/v1/executions/claim', { worker_id: 'w', task: '@webhook' }),
      'validation_error',
    )
    expect((await t.json('POST', '/v1/executions/claim', { worker_id: 'w' })).body.claimed).toBe(false)
    expectError(
      await t.json('POST', `/v1/executions/${fired.body.execution_id}/claim`, { worker_id: 'w' }),
      'claim_failed',
    )
    expect((await t.json('GET', '/v1/executions/claimable')).body.executions).toEqual([])
    expectError(await t.json('POST', '/v1/executions', { task: '@webhook' }), 'validation_error')
  })
})

describe('schedule preview (POST /v1/cues/preview)', () => {
  const hourIn = (iso: string, timeZone: string) =>
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    }).format(Date.parse(iso))

  it("lists the next five runs, ascending, in the schedule's zone, and stores nothing", async () => {
    const t = await makeApp()
    const before = Date.now()
    const r = await t.json('POST', '/v1/cues/preview', {
      schedule: { type: 'recurring', cron: '30 2 * * *', timezone: 'Europe/Paris' },
    })
    expect(r.status, JSON.stringify(r.body)).toBe(200)
    expect(r.body.timezone).toBe('Europe/Paris')
    const runs: string[] = r.body.next_runs
    expect(runs).toHaveLength(5)
    for (const run of runs) {
      expect(run).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/)
      expect(hourIn(run, 'Europe/Paris')).toBe('02:30')
    }
    expect(Date.parse(runs[0]!)).toBeGreaterThan(before - 1000)
    const gaps = runs.slice(1).map((run, i) => (Date.parse(run) - Date.parse(runs[i]!)) / 3_600_000)
    // A day apart, or 23/25 hours across a daylight-saving change.
    for (const gap of gaps) expect([23, 24, 25]).toContain(gap)

    // The first run is the one a cue created with the same schedule gets.
    const cue = await createCue(t, {
      name: 'nightly',
      transport: 'worker',
      schedule: { type: 'recurring', cron: '30 2 * * *', timezone: 'Europe/Paris' },
    })
    expect(cue.next_run).toBe(runs[0])
    await t.json('DELETE', `/v1/cues/${cue.id}`)
    expect((await t.json('GET', '/v1/cues')).body.total).toBe(0)

    const some = await t.json('POST', '/v1/cues/preview', {
      schedule: { type: 'recurring', cron: '*/5 * * * *' },
      count: 12,
    })
    expect(some.body.timezone).toBe('UTC')
    expect(some.body.next_runs).toHaveLength(12)
    const once = await t.json('POST', '/v1/cues/preview', {
      schedule: { type: 'once', at: '2099-01-02T03:04:05+01:00', timezone: 'Asia/Tokyo' },
    })
    expect(once.body).toEqual({ timezone: 'Asia/Tokyo', next_runs: ['2099-01-02T02:04:05.000Z'] })
  })

  it('refuses a bad schedule with the very status, code and message cue creation gives', async () => {
    const t = await makeApp()
    const schedules = [
      { type: 'recurring', cron: 'nope' },
      { type: 'recurring', cron: '61 * * * *', timezone: 'UTC' },
      { type: 'recurring', cron: '0 0 31 2 *' },
      { type: 'recurring', cron: '* * * * *', timezone: 'Mars/Olympus' },
      { type: 'recurring' },
      { type: 'once', at: '2001-01-01T00:00:00Z' },
      { type: 'once', at: 'tomorrow' },
      { type: 'weekly', cron: '* * * * *' },
    ]
    for (const schedule of schedules) {
      const preview = await t.json('POST', '/v1/cues/preview', { schedule })
      const create = await t.json('POST', '/v1/cues', { name: 'x', transport: 'worker', schedule })
      expect(preview.status, JSON.stringify(schedule)).toBeGreaterThanOrEqual(400)
      expect(preview.status, JSON.stringify(schedule)).toBe(create.status)
      expect(preview.body.error.code).toBe(create.body.error.code)
      expect(preview.body.error.message).toBe(create.body.error.message)
    }
    expectError(
      await t.json('POST', '/v1/cues/preview', { schedule: { type: 'recurring', cron: 'nope' } }),
      'invalid_schedule',
    )
    expectError(
      await t.json('POST', '/v1/cues/preview', {
        schedule: { type: 'recurring', cron: '* * * * *', timezone: 'Mars/Olympus' },
      }),
      'invalid_timezone',
    )
    const tooMany = await t.json('POST', '/v1/cues/preview', { schedule: hourly, count: 21 })
    expectError(tooMany, 'validation_error')
    expect(tooMany.body.error.details[0].path).toBe('count')
    expectError(await t.json('POST', '/v1/cues/preview', {}), 'validation_error')
    expectError(await t.json('POST', '/v1/cues/preview', { schedule: hourly, extra: 1 }), 'validation_error')
    expect((await t.json('GET', '/v1/cues')).body.total).toBe(0)
  })

  it('needs a tenant key and is documented in the OpenAPI description', async () => {
    const t = await makeApp()
    const anonymous = await t.json('POST', '/v1/cues/preview', { schedule: hourly }, { authorization: '' })
    expectError(anonymous, 'unauthorized')
    const doc = (await t.json('GET', '/openapi.json')).body
    const op = doc.paths['/v1/cues/preview']?.post
    expect(op?.security).toEqual([{ ApiKey: [] }])
    expect(Object.keys(op?.responses ?? {}).sort()).toEqual(['200', '400', '422'])
  })
})

describe('webhook delivery', () => {
  it('signs the body exactly as CueAPI does; the cue method and headers apply', async () => {
    const t = await makeApp({ webhookAllowPrivate: true })
    t.cuekit.startMaintenance()
    const rx = await startReceiver()
    const cue = await createCue(t, {
      name: 'signed ünïcode',
      schedule: hourly,
      callback: {
        url: `${rx.url}/hook?x=1`,
        method: 'PUT',
        headers: { 'X-Custom': 'yes', 'User-Agent': 'mine' },
      },
      payload: { task: 'brief', text: 'héllo 😀', n: 42, nested: { b: 1, a: [true, null] } },
    })
    const fired = await t.json('POST', `/v1/cues/${cue.id}/fire`)
    const r = await waitFor(() => rx.received[0], { timeoutMs: 10_000, message: 'no delivery' })
    const secret = (await t.json('GET', '/v1/auth/webhook-secret')).body.webhook_secret
    expect(r.method).toBe('PUT')
    expect(r.path).toBe('/hook?x=1')
    expect(r.headers['content-type']).toBe('application/json')
    expect(r.headers['x-custom']).toBe('yes')
    expect(r.headers['user-agent']).toBe('mine')
    expect(r.headers['x-cueapi-execution-id']).toBe(fired.body.execution_id)
    expect(r.headers['x-cueapi-cue-id']).toBe(cue.id)
    expect(r.headers['x-cueapi-attempt']).toBe('1')
    expect(r.headers['x-cueapi-scheduled-for']).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{6})?\+00:00$/)
    const ts = Number(r.headers['x-cueapi-timestamp'])
    expect(Math.abs(ts - Date.now() / 1000)).toBeLessThan(300)
    // Raw-bytes verification.
    const expected = `v1=${createHmac('sha256', secret).update(`${ts}.${r.body}`).digest('hex')}`
    expect(r.headers['x-cueapi-signature']).toBe(expected)
    // CueAPI receivers parse and re-serialise with json.dumps(sort_keys=True): same bytes.
    const parsed = JSON.parse(r.body)
    expect(pythonJsonDumps(parsed)).toBe(r.body)
    expect(r.body).toContain('"text": "h\\u00e9llo \\ud83d\\ude00"')
    expect(Object.keys(parsed)).toEqual([
      'attempt',
      'cue_id',
      'execution_id',
      'name',
      'payload',
      'scheduled_for',
    ])
    expect(parsed).toMatchObject({
      attempt: 1,
      cue_id: cue.id,
      execution_id: fired.body.execution_id,
      name: 'signed ünïcode',
      payload: { task: 'brief', text: 'héllo 😀', n: 42 },
      scheduled_for: r.headers['x-cueapi-scheduled-for'],
    })
    const done = await waitFor(
      async () => {
        const e = await t.json('GET', `/v1/executions/${fired.body.execution_id}`)
        return e.body.status === 'success' ? e.body : null
      },
      { timeoutMs: 10_000 },
    )
    expect(done.history).toHaveLength(1)
    const after = await t.json('GET', `/v1/cues/${cue.id}`)
    expect(after.body.run_count).toBe(1)
    expect(after.body.last_run).not.toBeNull()
  })

  it('a receiver failing twice then succeeding gets three attempts under one execution ID', async () => {
    const t = await makeApp({ webhookAllowPrivate: true })
    t.cuekit.startMaintenance()
    const rx = await startReceiver((_r, i) => (i < 2 ? 503 : 200))
    const cue = await createCue(t, {
      name: 'flaky',
      schedule: hourly,
      callback: { url: `${rx.url}/flaky` },
      retry: { max_attempts: 3, backoff_seconds: [0.2] },
    })
    const fired = await t.json('POST', `/v1/cues/${cue.id}/fire`)
    const id = fired.body.execution_id
    const done = await waitFor(
      async () => {
        const e = await t.json('GET', `/v1/executions/${id}`)
        return e.body.status === 'success' ? e.body : null
      },
      { timeoutMs: 20_000, message: 'not delivered' },
    )
    expect(rx.received.map((r) => r.headers['x-cueapi-execution-id'])).toEqual([id, id, id])
    expect(rx.received.map((r) => r.headers['x-cueapi-attempt'])).toEqual(['1', '2', '3'])
    expect(rx.received.map((r) => JSON.parse(r.body).attempt)).toEqual([1, 2, 3])
    expect(done.attempt).toBe(3)
    expect(done.history.map((a: any) => a.outcome)).toEqual(['failure', 'failure', 'success'])
    expect(done.history[0].error).toBe('Webhook endpoint rejected request (503)')
    expect(done.http_status).toBe(200) // the last delivery's answer (CueAPI's http_status)
  })

  it('exhausted attempts fail the execution; a redirect is a failure; a slow receiver times out', async () => {
    const t = await makeApp({ webhookAllowPrivate: true })
    t.cuekit.startMaintenance()
    const rx = await startReceiver((r) => (r.path === '/redirect' ? 302 : r.path === '/slow' ? 'hold' : 500))
    const make = async (name: string, path: string, extra: Record<string, unknown> = {}) => {
      const cue = await createCue(t, {
        name,
        schedule: { type: 'once', at: new Date(Date.now() + 3_600_000).toISOString() },
        callback: { url: `${rx.url}${path}` },
        retry: { max_attempts: 1 },
        ...extra,
      })
      const fired = await t.json('POST', `/v1/cues/${cue.id}/fire`)
      return fired.body.execution_id as string
    }
    const ids = await Promise.all([
      make('broken', '/broken'),
      make('redirect', '/redirect'),
      make('slow', '/slow', { delivery: { timeout_seconds: 1 } }),
    ])
    const finals = await Promise.all(
      ids.map((id) =>
        waitFor(
          async () => {
            const e = await t.json('GET', `/v1/executions/${id}`)
            return e.body.status === 'failed' ? e.body : null
          },
          { timeoutMs: 15_000, message: `${id} did not fail` },
        ),
      ),
    )
    expect(finals.map((e) => e.error_message)).toEqual([
      'Webhook endpoint rejected request (500)',
      'Webhook endpoint answered 302 (redirects are not followed)',
      'Webhook endpoint timed out',
    ])
    // CueAPI: the last answer's HTTP status, null when there was none (a timeout).
    expect(finals.map((e) => e.http_status)).toEqual([500, 302, null])
    expect(rx.received.filter((r) => r.path === '/redirect')).toHaveLength(1)
  })

  it('refuses at delivery time too: a cue whose host now resolves to loopback is not called', async () => {
    let target = '93.184.216.34'
    const resolve: Resolver = async () => [{ address: target, family: 4 }]
    const t = await makeApp({}, { resolve })
    t.cuekit.startMaintenance()
    const cue = await createCue(t, {
      name: 'rebound',
      schedule: hourly,
      callback: { url: 'http://rebinding.example:9/' },
      retry: { max_attempts: 1 },
    })
    target = '127.0.0.1'
    const fired = await t.json('POST', `/v1/cues/${cue.id}/fire`)
    const failed = await waitFor(
      async () => {
        const e = await t.json('GET', `/v1/executions/${fired.body.execution_id}`)
        return e.body.status === 'failed' ? e.body : null
      },
      { timeoutMs: 10_000 },
    )
    expect(failed.error_message).toMatch(/resolves to a loopback address/)
  })
})

describe('scheduling through the API', () => {
  it('pause stops fires; resume continues from now without a burst', async () => {
    const t = await makeApp()
    t.cuekit.startMaintenance()
    const cue = await createCue(t, {
      name: 'every-second',
      transport: 'worker',
      schedule: { type: 'recurring', cron: '* * * * * *' },
      catch_up: 'replay_all_missed',
    })
    const executions = async () =>
      (await t.json('GET', `/v1/cues/${cue.id}?execution_limit=100`)).body.executions as any[]
    await waitFor(async () => (await executions()).length >= 2, { timeoutMs: 15_000, message: 'no fires' })
    const paused = await t.json('PATCH', `/v1/cues/${cue.id}`, { status: 'paused' })
    const pausedAt = Date.parse(paused.body.updated_at)
    const countAtPause = (await executions()).length
    // Let ticks pass while paused (time passing is the point here, not synchronisation).
    await waitFor(() => Date.now() > pausedAt + 2500, { timeoutMs: 10_000, intervalMs: 100 })
    expect((await executions()).length).toBe(countAtPause)
    const resumed = await t.json('PATCH', `/v1/cues/${cue.id}`, { status: 'active' })
    const resumedNext = Date.parse(resumed.body.next_run)
    expect(resumedNext).toBeGreaterThan(pausedAt + 2000)
    await waitFor(async () => (await executions()).length > countAtPause, { timeoutMs: 15_000 })
    const times = (await executions()).map((e) => Date.parse(e.scheduled_for))
    // Nothing from inside the pause, even under replay_all_missed: those ticks were skipped on purpose.
    expect(times.filter((s) => s > pausedAt && s < resumedNext)).toEqual([])
    expect(new Set(times).size).toBe(times.length)
  })
})
