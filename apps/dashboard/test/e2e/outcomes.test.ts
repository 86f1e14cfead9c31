import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { duration } from '../../client/format.ts'
import { apiKit, pageKit, type Run, signIn, startRun, stopRun } from './kit.ts'

// Outcomes in the dashboard (issue 12 §6), in chromium against a real server: an execution's
// delivery and its outcome as two facts with the evidence, a cue's outcome settings and stats,
// the outcome filter of the executions list.

let run: Run
const { api, claim, workerCue, report, complete, fail } = apiKit(() => ({
  url: run.server.url,
  apiKey: run.apiKey,
}))
const { go, row, countIs, shot } = pageKit(() => run.page)

/** A webhook receiver on this host that answers 200 and counts deliveries. */
let receiver: Server
let deliveries = 0

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume()
    req.on('end', () => {
      deliveries += 1
      res.writeHead(200, { 'content-type': 'application/json' }).end('{"received":true}')
    })
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  // The receiver is on loopback, which the server refuses as a webhook target by default.
  run = await startRun('outcomes', { CUEKIT_WEBHOOK_ALLOW_PRIVATE: 'true' })
  await signIn(run.page, run.server.url, run.apiKey)
})

afterAll(async () => {
  await stopRun(run)
  await new Promise((resolve) => receiver?.close(resolve))
})

/** A worker cue fired once and its execution claimed: what a worker holds. */
async function firedAndClaimed(name: string, extra: Record<string, unknown> = {}) {
  const cue = await workerCue(name, extra)
  const fired = await api('POST', `/v1/cues/${cue.id}/fire`)
  const held = await claim('worker-o', name, 60)
  expect(held.execution_id).toBe(fired.execution_id)
  return { cue, held }
}

// The rendered text, with a line between a fact's label and value (textContent runs them together).
// biome-ignore lint/performance/useDomNodeTextContent: the line breaks are what the assertions read
const text = (selector: string) => run.page.locator(selector).innerText()

describe('outcomes in the dashboard', () => {
  it('shows delivery and outcome as two facts, with the evidence and a safe result link', async () => {
    const { held } = await firedAndClaimed('o-evidence')
    await go(`#/executions/${held.execution_id}`)
    // Claimed, nothing reported: a delivery in progress and no outcome yet.
    await run.page.locator('[data-fact="outcome"] [data-outcome-state=""]').waitFor()
    expect(await text('[data-fact="outcome"]')).toContain('none reported yet')

    await report(held, {
      success: true,
      result: 'report sent to 3 recipients',
      metadata: { recipients: 3 },
      external_id: 'msg-4711',
      result_url: 'https://mail.example.com/sent/4711',
      result_ref: 'outbox/4711',
      result_type: 'email',
      summary: 'Weekly report mailed',
      artifacts: [{ name: 'report.pdf', bytes: 20_480 }],
    })
    // Live: the outcome's event re-renders the page.
    await run.page.locator('[data-fact="outcome"] [data-outcome-state="reported_success"]').waitFor()
    const delivery = await text('[data-fact="delivery"]')
    expect(delivery).toMatch(/Status\s+success/)
    expect(delivery).toMatch(/Delivered\s+(just now|\d+s ago)/)
    expect(delivery).toMatch(/Triggered by\s+manual fire/)
    expect(delivery).toContain('worker-o')
    const outcome = await text('[data-fact="outcome"]')
    for (const want of [
      'reported success',
      'Success\nyes',
      'report sent to 3 recipients',
      'reported with lease token',
      'msg-4711',
      'outbox/4711',
      'email',
      'Weekly report mailed',
      'report.pdf',
      '"recipients": 3',
    ])
      expect(outcome).toContain(want)
    // The outcome's badge sits beside the status in the header, each its own fact.
    await run.page.locator('.page-header .badge-reported_success').waitFor()
    await run.page.locator('.page-header .badge-success').waitFor()
    const link = run.page.locator('a.result-url')
    expect(await link.getAttribute('href')).toBe('https://mail.example.com/sent/4711')
    expect(await link.getAttribute('rel')).toBe('noopener noreferrer nofollow')
    expect(await link.getAttribute('target')).toBe('_blank')
    await shot('execution-outcome')

    // On a phone the two facts stack and nothing widens the page.
    await run.page.setViewportSize({ width: 420, height: 900 })
    try {
      expect(await run.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420)
      await shot('execution-outcome-420')
    } finally {
      await run.page.setViewportSize({ width: 1280, height: 800 })
    }
  })

  it('shows a delivered webhook without an outcome, then the outcome its handler reports beside it', async () => {
    const { port } = receiver.address() as AddressInfo
    const cue = await api('POST', '/v1/cues', {
      name: 'o-webhook',
      transport: 'webhook',
      callback: { url: `http://127.0.0.1:${port}/hook` },
      schedule: { type: 'recurring', cron: '0 3 * * *', timezone: 'UTC' },
      verification: { mode: 'require_result_url' },
    })
    const fired = await api('POST', `/v1/cues/${cue.id}/fire`)
    const id = fired.execution_id
    await go(`#/executions/${id}`)
    // Delivered (the receiver answered 200): the delivery is a success, the outcome still unknown.
    await run.page.locator('[data-fact="delivery"] .badge-success').waitFor()
    expect(deliveries).toBeGreaterThanOrEqual(1)
    expect(await text('[data-fact="delivery"]')).toMatch(/HTTP status\s+200/)
    const pending = await text('[data-fact="outcome"]')
    expect(pending).toContain('none reported yet')
    // The dispatcher's report of the delivery is not an outcome report.
    expect(pending).not.toContain('Report')
    await shot('execution-webhook-delivered')

    // The handler reports later with the API key alone (as CueAPI's clients do); the status stays.
    await api('POST', `/v1/executions/${id}/outcome`, {
      success: true,
      result_url: 'https://tickets.example.com/T-7',
      summary: 'ticket filed',
    })
    // No event says so (the status stays): the page re-reads a delivered, unreported one often.
    await run.page.locator('[data-fact="outcome"] [data-outcome-state="verified_success"]').waitFor()
    const reported = await text('[data-fact="outcome"]')
    expect(reported).toMatch(/Validation\s+valid/)
    expect(reported).not.toContain('lease token')
    expect(await text('[data-fact="delivery"]')).toMatch(/Status\s+success/)
    expect(await run.page.locator('a.result-url').getAttribute('href')).toBe(
      'https://tickets.example.com/T-7',
    )
    await shot('execution-webhook-outcome')
  })

  it('shows a chained execution with its parent, and a failure reported as such', async () => {
    const child = await workerCue('o-child')
    const { held } = await firedAndClaimed('o-parent', { on_success_fire: child.id })
    await report(held, { success: true })
    const childHeld = await claim('worker-o', 'o-child', 60)
    await report(childHeld, {
      success: false,
      error: 'upstream said 503',
      retry: false,
    })
    await go(`#/executions/${childHeld.execution_id}`)
    await run.page.locator('[data-outcome-state="reported_failure"]').waitFor()
    const delivery = await text('[data-fact="delivery"]')
    expect(delivery).toMatch(/Triggered by\s+chain/)
    expect(delivery).toContain(`${held.execution_id} (depth 1)`)
    expect(delivery).toContain('upstream said 503')
    expect(await text('[data-fact="outcome"]')).toMatch(/Success\s+no[\s\S]*Error\s+upstream said 503/)
    await run.page.locator(`[data-fact="delivery"] a[href="#/executions/${held.execution_id}"]`).click()
    await run.page.getByRole('heading', { level: 1, name: `Execution ${held.execution_id}` }).waitFor()
  })

  it('filters the executions list by outcome state', async () => {
    const { held } = await firedAndClaimed('o-manual', { verification: { mode: 'manual' } })
    await report(held, { success: true })
    const e = await api('GET', `/v1/executions/${held.execution_id}`)
    expect(e.outcome_state).toBe('verification_pending')

    await go('#/executions')
    await run.page.getByRole('heading', { level: 1, name: 'Executions' }).waitFor()
    await run.page.getByLabel('Outcome', { exact: true }).selectOption('verification_pending')
    await run.page.getByRole('button', { name: 'Apply' }).click()
    await countIs('tbody tr', 1)
    await row(held.execution_id).waitFor()
    expect(run.page.url()).toContain('outcome_state=verification_pending')
    expect(await row(held.execution_id).textContent()).toContain('verification pending')
    expect(await run.page.locator('caption').textContent()).toContain('outcome verification pending')
    await shot('executions-outcome-filter')

    await run.page.getByLabel('Outcome', { exact: true }).selectOption('reported_failure')
    await run.page.getByRole('button', { name: 'Apply' }).click()
    await run.page.locator('caption', { hasText: 'outcome reported failure' }).waitFor()
    await countIs('tbody tr[data-row]', 1)
    expect(await run.page.locator('tbody tr[data-row]').textContent()).toContain('reported failure')
  })

  it("shows a cue's outcome settings and stats, and edits them through the API", async () => {
    const target = await workerCue('o-next')
    const { cue, held } = await firedAndClaimed('o-settings', {
      delivery: { timeout_seconds: 20, outcome_deadline_seconds: 600 },
      alerts: { consecutive_failures: 5 },
      on_failure: { email: false, webhook: null, pause: true },
    })
    await report(held, { success: true })

    await go(`#/cues/${cue.id}`)
    await run.page.locator('[data-setting="verification"]').waitFor()
    expect(await text('[data-setting="verification"]')).toBe('None: a reported success stands')
    // A worker cue: no webhook to answer, so only the claim deadline is shown.
    expect(await text('[data-setting="delivery"]')).toBe('missed unless claimed within 600 s of firing')
    expect(await text('[data-setting="alerts"]')).toBe('after 5 consecutive failures')
    expect(await text('[data-setting="on_failure"]')).toBe('pause the cue')
    const stats = await text('[data-stats]')
    expect(stats).toContain('Last 7 days')
    expect(stats).toMatch(/Success rate\s+100%/)
    expect(stats).toMatch(/Failures\s+0/)
    expect(stats).toMatch(/Misses\s+0/)

    // The form holds the same values, and saving a change sends only what changed.
    const label = (name: string) => run.page.getByLabel(name, { exact: true })
    expect(await label('Outcome deadline (s)').inputValue()).toBe('600')
    expect(await label('Alert after consecutive failures').inputValue()).toBe('5')
    expect(await label('Pause the cue (a one-time cue becomes failed)').isChecked()).toBe(true)
    await label('Verification').selectOption('manual')
    await label('Outcome deadline (s)').fill('900')
    await label('Alert after consecutive failures').fill('2')
    await label('Send an email (when the server has SMTP)').check()
    await label('On success, fire cue').fill(target.id)
    await run.page.getByRole('button', { name: 'Save changes' }).click()
    await run.page.locator('.notice', { hasText: 'Saved' }).waitFor()
    expect(await text('.notice:not(.warn)')).toBe(
      'Saved verification, on_failure, on_success_fire, delivery, alerts.',
    )
    // The server has no SMTP: it says so instead of silently sending nothing.
    expect(await text('.notice.warn')).toContain('on_failure.email is skipped')
    const saved = await api('GET', `/v1/cues/${cue.id}`)
    expect(saved).toMatchObject({
      verification: { mode: 'manual' },
      delivery: { timeout_seconds: 20, outcome_deadline_seconds: 900 },
      alerts: { consecutive_failures: 2 },
      on_failure: { email: true, webhook: null, pause: true },
      on_success_fire: target.id,
    })
    await run.page.locator('[data-setting="verification"]', { hasText: 'Manual' }).waitFor()
    expect(await text('[data-setting="on_failure"]')).toBe('email, pause the cue')
    await run.page.locator(`a[data-setting="on_success_fire"][href="#/cues/${target.id}"]`).waitFor()

    // Clearing the count goes back to the API's default (the PATCH replaces `alerts` whole).
    await label('Alert after consecutive failures').fill('')
    await run.page.getByRole('button', { name: 'Save changes' }).click()
    await run.page.locator('.notice', { hasText: 'Saved alerts.' }).waitFor()
    expect((await api('GET', `/v1/cues/${cue.id}`)).alerts?.consecutive_failures).toBeUndefined()
    await run.page.locator('[data-setting="alerts"]', { hasText: 'default' }).waitFor()
    expect(await text('[data-setting="alerts"]')).toBe(
      "after the API's default number of consecutive failures (3)",
    )
    expect(await label('Alert after consecutive failures').inputValue()).toBe('')

    // A value the API refuses is shown by its field, with the API's message.
    await label('Outcome deadline (s)').fill('0')
    await run.page.getByRole('button', { name: 'Save changes' }).click()
    await run.page.locator('.form-errors [role="alert"]').waitFor()
    expect(await label('Outcome deadline (s)').getAttribute('aria-invalid')).toBe('true')
    await shot('cue-outcome-settings')
    expect(run.pageErrors).toEqual([])
  })
  it('approves and rejects a manually verified outcome, and shows the API refusing a late verdict', async () => {
    const { cue, held: first } = await firedAndClaimed('o-review', { verification: { mode: 'manual' } })
    await report(first, { success: true, summary: 'draft posted' })
    await api('POST', `/v1/cues/${cue.id}/fire`)
    const second = await claim('worker-o', 'o-review', 60)
    await report(second, { success: true })

    await go(`#/executions/${first.execution_id}`)
    await run.page.locator('[data-outcome-state="verification_pending"]').waitFor()
    await shot('execution-verification-pending')
    await run.page.setViewportSize({ width: 420, height: 900 })
    try {
      expect(await run.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420)
      await shot('execution-verification-pending-420')
    } finally {
      await run.page.setViewportSize({ width: 1280, height: 800 })
    }
    // A reject needs a reason; the dashboard asks before sending anything.
    await run.page.getByRole('button', { name: 'Reject' }).click()
    await run.page.locator('.verify [role="alert"]', { hasText: 'Say why' }).waitFor()
    expect(await run.page.getByLabel('Reason').getAttribute('aria-invalid')).toBe('true')
    expect((await api('GET', `/v1/executions/${first.execution_id}`)).outcome_state).toBe(
      'verification_pending',
    )
    await run.page.getByLabel('Reason').fill('the post links a dead page')
    await run.page.getByRole('button', { name: 'Reject' }).click()
    await run.page.locator('[data-fact="outcome"] [data-outcome-state="verification_failed"]').waitFor()
    await run.page.locator('.verify').waitFor({ state: 'detached' })
    const rejected = await api('GET', `/v1/executions/${first.execution_id}`)
    expect(rejected.outcome_state).toBe('verification_failed')
    expect(rejected.outcome.validation_state).toBe('invalid')
    expect(await text('[data-fact="outcome"]')).toContain('the post links a dead page')
    expect(rejected.status).toBe('success') // the delivery stands: a verdict is about the outcome only

    await go(`#/executions/${second.execution_id}`)
    await run.page.locator('[data-outcome-state="verification_pending"]').waitFor()
    await run.page.getByRole('button', { name: 'Approve' }).click()
    await run.page.locator('[data-fact="outcome"] [data-outcome-state="verified_success"]').waitFor()
    expect((await api('GET', `/v1/executions/${second.execution_id}`)).outcome_state).toBe('verified_success')
    await run.page.locator('.page-header .badge-verified_success').waitFor()
    await shot('execution-verified')

    // Someone else decided first: the API's 409 is shown by the buttons, and the page catches up.
    await api('POST', `/v1/cues/${cue.id}/fire`)
    const third = await claim('worker-o', 'o-review', 60)
    await report(third, { success: true })
    await go(`#/executions/${third.execution_id}`)
    await run.page.locator('[data-outcome-state="verification_pending"]').waitFor()
    await api('POST', `/v1/executions/${third.execution_id}/verify`, { valid: true })
    await run.page.getByRole('button', { name: 'Approve' }).click()
    await run.page.locator('#toast', { hasText: 'invalid_state' }).waitFor()
    expect(await text('#toast')).toMatch(/^Not approved: .+ \(409 invalid_state\)$/)
    await run.page.locator('[data-fact="outcome"] [data-outcome-state="verified_success"]').waitFor()
    await shot('execution-verify-refused')
    // The message was about this execution: it does not follow the viewer to another page.
    await run.page.getByRole('link', { name: 'Cues', exact: true }).first().click()
    await run.page.getByRole('heading', { level: 1, name: 'Cues' }).waitFor()
    expect(await run.page.locator('#toast').textContent()).toBe('')
    expect(run.pageErrors).toEqual([])
  })

  it("shows a cue's 7-day stats from real executions: successes, a failure, a miss", async () => {
    const cue = await workerCue('o-stats')
    const finish = async (success: boolean) => {
      await api('POST', `/v1/cues/${cue.id}/fire`)
      const held = await claim('worker-o', 'o-stats', 60)
      await (success ? complete(held) : fail(held, 'disk full'))
    }
    for (const success of [true, true, true, false]) await finish(success)
    // A miss: a tick nobody claims by the cue's outcome deadline (one second from now on).
    await api('PATCH', `/v1/cues/${cue.id}`, {
      delivery: { timeout_seconds: 30, outcome_deadline_seconds: 1 },
    })
    await api('POST', `/v1/cues/${cue.id}/fire`)
    await waitFor(async () => (await api('GET', `/v1/cues/${cue.id}`)).stats.misses === 1, {
      timeoutMs: 15_000,
      message: 'the unclaimed tick is missed',
      intervalMs: 200,
    })
    const { stats } = await api('GET', `/v1/cues/${cue.id}`)
    expect(stats).toMatchObject({ period_days: 7, executions: 5, successes: 3, failures: 1, misses: 1 })
    expect(stats.success_rate).toBe(0.75)
    expect(stats.p50_duration_ms).toEqual(expect.any(Number))

    await go(`#/cues/${cue.id}`)
    await run.page.locator('[data-stats]').waitFor()
    const shown = await text('[data-stats]')
    for (const want of [
      /Last 7 days/,
      /Success rate\s+75%/,
      /Executions\s+5/,
      /Successes\s+3/,
      /Failures\s+1/,
      /Misses\s+1/,
      new RegExp(`Median duration\\s+${duration(stats.p50_duration_ms)}`),
    ])
      expect(shown).toMatch(want)
    // No on_failure given: the API's default (an email) is what the page says and the form holds.
    expect(await text('[data-setting="on_failure"]')).toBe("email (the API's default)")
    expect(await run.page.getByLabel('Send an email (when the server has SMTP)').isChecked()).toBe(true)
    await shot('cue-stats')
    expect(run.pageErrors).toEqual([])
  })
})
