import { mkdirSync } from 'node:fs'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  apiKit,
  artifacts,
  BROWSER_ZONE,
  inZone,
  newContext,
  pageKit,
  type Run,
  repoRoot,
  signIn,
  startRun,
  stopRun,
} from './kit.ts'

// The dashboard in Debian's chromium against a real server process on a private redis-server:
// sign in, watch leases live, see a dead worker's lease reclaimed, replay failures.

// The README's screenshot is rewritten only on request (npm run docs:screenshots), so that an
// ordinary test run leaves the working tree clean.
const writeDocs = process.env.CUEKIT_DOCS_SCREENSHOTS === '1'

let run: Run
const { api, apiAnswer, enqueue, claim, heartbeat, complete, fail } = apiKit(() => ({
  url: run.server.url,
  apiKey: run.apiKey,
}))
const { go, row, cellReads, countIs, timesIn, expectOneTimeFormat, shot } = pageKit(() => run.page)

beforeAll(async () => {
  run = await startRun('e2e')
})

afterAll(async () => {
  await stopRun(run)
})

describe('dashboard in chromium', () => {
  it('signs in with a key that stays out of URLs, the page and the logs', async () => {
    await run.page.goto(`${run.server.url}/dashboard`)
    await run.page.getByLabel('API key').fill(`cue_sk_${'0'.repeat(32)}`)
    await run.page.getByRole('button', { name: 'Sign in' }).click()
    await run.page.getByRole('alert').filter({ hasText: 'refused' }).waitFor()

    await run.page.getByLabel('API key').fill(run.apiKey)
    await run.page.getByRole('button', { name: 'Sign in' }).click()
    await run.page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
    await run.page.locator('.connection[data-state="live"]').waitFor()

    expect(await run.page.evaluate("sessionStorage.getItem('cuekit.dashboard.apiKey')")).toBe(run.apiKey)
    expect(run.page.url()).not.toContain(run.apiKey)
    expect(await run.page.content()).not.toContain(run.apiKey)
    expect(run.requests.some((u) => u.includes(run.apiKey))).toBe(false)
    expect(run.server.output.join('')).not.toContain(run.apiKey)
    await shot('overview-signed-in')
  })

  it('shows a claimed execution on Leases as it happens, with a countdown and heartbeats', async () => {
    await go('#/leases')
    await run.page.getByRole('heading', { level: 1, name: 'Leases' }).waitFor()
    const id = await enqueue('e2e-report', { report: 'weekly' })
    const held = await claim('worker-a', 'e2e-report', 90)

    // No navigation: the claim's event refreshes the table.
    const r = row(id)
    await r.waitFor()
    await expect(r.textContent()).resolves.toContain('worker-a')
    const countdown = r.locator('.countdown')
    const first = await countdown.textContent()
    expect(first).toMatch(/^in 1m (2\d|30)s$/)
    await run.page.waitForFunction(
      ([sel, before]) => (globalThis as any).document.querySelector(sel)?.textContent !== before,
      [`tr[data-row="${id}"] .countdown`, first] as const,
    )

    await heartbeat(held)
    await cellReads(id, 4, '1') // heartbeats

    // More leases for the README's screenshot: three workers, tasks and expiries.
    for (const [worker, task, seconds, beats] of [
      ['worker-b', 'send-email', 75, 2],
      ['worker-b', 'resize-image', 300, 0],
      ['worker-c', 'charge-card', 120, 1],
      ['worker-c', 'send-email', 600, 3],
    ] as const) {
      await enqueue(task, { to: 'ops@example.com' })
      const held = await claim(worker, task, seconds)
      for (let i = 0; i < beats; i++) await heartbeat(held)
    }
    await run.page.locator('tr.lease').nth(4).waitFor()
    const expiries = await run.page
      .locator('tr.lease .countdown')
      .evaluateAll((els) => els.map((e) => Date.parse(e.getAttribute('data-expires')!)))
    expect(expiries).toEqual([...expiries].sort((a, b) => a - b))
    await shot('leases')
    if (writeDocs) {
      mkdirSync(`${repoRoot}docs`, { recursive: true })
      await run.page.screenshot({ path: `${repoRoot}docs/leases.png` })
    }

    // Filter by worker, then by task.
    await run.page.getByLabel('Worker', { exact: true }).fill('worker-c')
    await run.page.getByRole('button', { name: 'Apply' }).click()
    await countIs('tr.lease', 2)
    expect(run.page.url()).toContain('worker=worker-c')
    await run.page.getByRole('link', { name: 'Clear filters' }).click()
    await run.page.getByLabel('Task', { exact: true }).fill('e2e-report')
    await run.page.getByRole('button', { name: 'Apply' }).click()
    await countIs('tr.lease', 1)
    await row(id).waitFor()

    // Its detail page, live: delivering now, success when the worker reports.
    await go(`#/executions/${id}`)
    await run.page.locator('.actions .badge-delivering').waitFor()
    await complete(held)
    await run.page.locator('.actions .badge-success').waitFor()
    const attempt = run.page.locator('li.attempt[data-attempt="1"]')
    await expect(attempt.textContent()).resolves.toMatch(/Attempt 1.*success.*worker-a/s)
    await run.page.getByText('None: no worker holds this execution now.').waitFor()
    await expect(run.page.locator('pre[aria-label="Payload JSON"]').textContent()).resolves.toContain(
      '"report": "weekly"',
    )
    await shot('execution-success')
  })

  it("reclaims a dead worker's execution after its lease expires: attempt 2 under the same ID", async () => {
    const id = await enqueue('e2e-dead', { n: 1 })
    await go('#/leases?task=e2e-dead')
    await claim('worker-dead', 'e2e-dead', 2)
    await row(id).filter({ hasText: 'worker-dead' }).waitFor()

    // The worker never reports: the reaper re-queues the execution and the row goes.
    await row(id).waitFor({ state: 'detached', timeout: 8000 })
    const again = await claim('worker-b', 'e2e-dead', 60)
    expect(again).toMatchObject({ execution_id: id, attempt: 2 })
    await row(id).filter({ hasText: 'worker-b' }).waitFor()
    await cellReads(id, 7, '2') // epoch

    await go(`#/executions/${id}`)
    const first = run.page.locator('li.attempt[data-attempt="1"]')
    const second = run.page.locator('li.attempt[data-attempt="2"]')
    await second.waitFor()
    await expect(first.textContent()).resolves.toMatch(/lease expired.*worker-dead/s)
    await expect(second.textContent()).resolves.toMatch(/in progress.*worker-b/s)
    await shot('execution-reclaimed')
    await complete(again)
  })

  it('marks expired leases the reaper has not reached yet', async () => {
    const now = Date.now()
    const lease = (id: string, expiresIn: number) => ({
      execution_id: id,
      task: 'e2e-stuck',
      worker_id: 'worker-gone',
      attempt: 1,
      epoch: 1,
      claimed_at: new Date(now - 60_000).toISOString(),
      expires_at: new Date(now + expiresIn).toISOString(),
      remaining_ms: expiresIn,
      lease_seconds: 30,
      heartbeats: 0,
      last_heartbeat_at: null,
      cancel_requested: false,
    })
    // The real reaper re-queues within milliseconds, so this state is staged.
    await run.page.route('**/v1/leases?*', (route) =>
      route.fulfill({
        json: {
          leases: [lease('stuck-1', -4000), lease('fine-1', 50_000)],
          server_time: new Date(now).toISOString(),
        },
      }),
    )
    await go('#/leases?task=e2e-stuck')
    await row('stuck-1').waitFor()
    expect(await row('stuck-1').getAttribute('class')).toContain('expired')
    expect(await row('stuck-1').locator('.countdown').textContent()).toMatch(
      /^expired \d+s ago, awaiting reaper$/,
    )
    expect(await row('fine-1').getAttribute('class')).not.toContain('expired')
    await run.page.getByText('2 live leases, 1 expired and awaiting the reaper').waitFor()
    await shot('leases-expired')
    await run.page.unroute('**/v1/leases?*')
  })

  it('replays failures from the Failed page, one and in bulk, and cancels unfinished work', async () => {
    const failedId = await enqueue('e2e-fail', { card: '4242' })
    await fail(await claim('worker-a', 'e2e-fail', 30), 'card declined')
    const bulk: string[] = []
    for (let i = 0; i < 2; i++) {
      bulk.push(await enqueue('e2e-bulk', { i }))
      await fail(await claim('worker-a', 'e2e-bulk', 30), `bulk failure ${i}`)
    }
    const pendingId = await enqueue('e2e-cancel', {})

    await go('#/failed')
    await row(failedId).filter({ hasText: 'card declined' }).waitFor()
    await run.page.getByRole('button', { name: `Replay ${failedId}` }).click()
    await row(failedId).filter({ hasText: 'Replayed as' }).waitFor()
    const replays = await api('GET', '/v1/executions?task=e2e-fail')
    const replay = replays.executions.find((e: any) => e.replayed_from === failedId)
    expect(replay).toMatchObject({ status: 'pending', task: 'e2e-fail', payload: { card: '4242' } })
    await run.page.locator('#toast', { hasText: `Replayed ${failedId} as ${replay.execution_id}` }).waitFor()

    for (const id of bulk) await run.page.getByLabel(`Select ${id}`).check()
    await run.page.getByRole('button', { name: 'Replay selected (2)' }).click()
    await run.page.locator('#toast', { hasText: 'Replayed 2 of 2 executions.' }).waitFor()
    const after = await api('GET', '/v1/executions?task=e2e-bulk&status=pending')
    expect(after.executions.map((e: any) => e.replayed_from).sort()).toEqual([...bulk].sort())

    run.page.once('dialog', (d) => void d.accept())
    await run.page.getByRole('button', { name: `Cancel ${pendingId}` }).click()
    await waitFor(async () => (await api('GET', `/v1/executions/${pendingId}`)).status === 'cancelled', {
      timeoutMs: 5000,
    })
    await row(pendingId).waitFor({ state: 'detached' })
  })

  it('pages executions with the cursor and filters them by status, task and cue', async () => {
    await api('POST', '/v1/executions/bulk', {
      executions: Array.from({ length: 30 }, (_, i) => ({ task: 'e2e-page', payload: { i } })),
    })
    await go('#/executions?task=e2e-page')
    await run.page.getByRole('heading', { level: 1, name: 'Executions' }).waitFor()
    await countIs('tbody tr[data-row]', 25)
    await run.page.getByRole('button', { name: 'Next page' }).click()
    await run.page.getByText('Page 2', { exact: true }).waitFor()
    await countIs('tbody tr[data-row]', 5)
    expect(await run.page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true)
    await run.page.getByRole('button', { name: 'Previous page' }).click()
    await run.page.getByText('Page 1', { exact: true }).waitFor()
    await countIs('tbody tr[data-row]', 25)

    await run.page.getByLabel('Status', { exact: true }).selectOption('success')
    await run.page.getByRole('button', { name: 'Apply' }).click()
    await run.page.getByText('No executions match.').waitFor()
    expect(run.page.url()).toMatch(/status=success.*task=e2e-page|task=e2e-page.*status=success/)
    await run.page.getByLabel('Task', { exact: true }).fill('e2e-report')
    await run.page.getByRole('button', { name: 'Apply' }).click()
    await countIs('tbody tr[data-row]', 1)
    await run.page.getByLabel('Cue', { exact: true }).fill('cue_that_does_not_exist')
    await run.page.getByRole('button', { name: 'Apply' }).click()
    await run.page.getByText('No executions match.').waitFor()
  })

  it('lists workers with state, handlers, leases in flight and counters', async () => {
    await api('POST', '/v1/worker/heartbeat', { worker_id: 'worker-h', handlers: ['e2e-report', 'e2e-fail'] })
    await go('#/workers')
    const h = row('worker-h')
    await h.waitFor()
    await expect(h.textContent()).resolves.toMatch(/worker-h.*active.*e2e-report, e2e-fail/s)
    await cellReads('worker-b', 2, '2') // in flight
    // worker-a completed one and failed three.
    await cellReads('worker-a', 5, '1')
    await cellReads('worker-a', 6, '3')
    await shot('workers')
  })

  it('shows per-task counts, activity per minute, waiting long-polls and reaper lag', async () => {
    const waiting = new AbortController()
    const longPoll = fetch(`${run.server.url}/v1/executions/claim`, {
      method: 'POST',
      headers: { authorization: `Bearer ${run.apiKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ worker_id: 'worker-poll', task: 'e2e-nothing', wait_seconds: 20 }),
      signal: waiting.signal,
    }).catch(() => null)
    await waitFor(async () => (await api('GET', '/v1/stats')).waiting_long_polls === 1, { timeoutMs: 5000 })

    await go('#/')
    const tile = (label: string) =>
      run.page.locator('.tile', { has: run.page.locator('dt', { hasText: label }) })
    await tile('Waiting long-polls').locator('.value', { hasText: '1' }).waitFor()
    await tile('Reaper lag').locator('.value', { hasText: '0 ms' }).waitFor()
    await tile('Active workers').locator('.value').waitFor()
    waiting.abort()
    await longPoll

    await cellReads('e2e-report', 4, '1') // success
    await cellReads('e2e-page', 0, '30') // pending
    // The chart draws the server's count of claims (GET /v1/stats/rates), one slot a minute.
    const rates = await api('GET', '/v1/stats/rates')
    const claims = rates.minutes.reduce((n: number, m: { claims: number }) => n + m.claims, 0)
    expect(claims).toBeGreaterThanOrEqual(8)
    await run.page.locator(`figure[data-chart="claims"][data-total="${claims}"]`).waitFor()
    expect(await run.page.locator('figure[data-chart="claims"] svg[role="img"] g.slot').count()).toBe(15)
    await shot('overview')
  })

  it('renders cues in their own time zone, and pauses, resumes and fires them through the API', async () => {
    const api = async (method: string, path: string, body?: unknown) => {
      const res = await fetch(`${run.server.url}${path}`, {
        method,
        headers: { authorization: `Bearer ${run.apiKey}`, 'content-type': 'application/json' },
        body: body === undefined ? undefined : JSON.stringify(body),
      })
      return res.json() as Promise<any>
    }
    const cue = await api('POST', '/v1/cues', {
      name: 'nightly-report',
      description: 'Builds the nightly report',
      transport: 'worker',
      schedule: { type: 'recurring', cron: '0 2 * * *', timezone: 'Europe/Paris' },
      payload: { task: 'e2e-report' },
    })
    expect(cue.next_run).toBeTruthy()
    await go('#/')
    await go('#/cues')
    const r = row(cue.id)
    await r.waitFor()
    // What it fires, and the next run in the cue's own zone: 02:00 in Paris, whatever the date.
    await expect(r.textContent()).resolves.toMatch(
      /nightly-report.*e2e-report.*worker task.*\d{4}-\d\d-\d\d 02:00:00 CES?T.*0 2 \* \* \*.*Europe\/Paris/s,
    )
    await run.page.getByRole('button', { name: 'Pause cue nightly-report' }).click()
    await run.page.getByRole('button', { name: 'Resume cue nightly-report' }).waitFor()
    expect((await api('GET', `/v1/cues/${cue.id}`)).status).toBe('paused')
    await run.page.getByRole('button', { name: 'Resume cue nightly-report' }).click()
    await run.page.getByRole('button', { name: 'Pause cue nightly-report' }).waitFor()
    expect((await api('GET', `/v1/cues/${cue.id}`)).status).toBe('active')
    await run.page.getByRole('button', { name: 'Fire cue nightly-report now' }).click()
    await run.page.locator('#toast', { hasText: 'execution' }).waitFor()
    const detail = await api('GET', `/v1/cues/${cue.id}`)
    expect(detail.executions).toEqual([expect.objectContaining({ cue_id: cue.id, task: 'e2e-report' })])
  })

  it("shows every time one way: the browser's zone named, ISO 8601 UTC on hover; due times and last workers", async () => {
    const later = await enqueue('e2e-later', { n: 1 }, { delay_seconds: 3600 })
    const failedId = await enqueue('e2e-lastworker', {})
    await fail(await claim('worker-z', 'e2e-lastworker', 30), 'disk full')
    await enqueue('e2e-now', {})
    await heartbeat(await claim('worker-now', 'e2e-now', 300))

    const pages = [
      ['#/leases', 'Leases'],
      ['#/workers', 'Workers'],
      ['#/executions', 'Executions'],
      ['#/failed', 'Failed'],
    ] as const
    for (const [hash, title] of pages) {
      await go(hash)
      await run.page.getByRole('heading', { level: 1, name: title }).waitFor()
      await run.page.locator('main tbody time').first().waitFor()
      expect(await expectOneTimeFormat('main', BROWSER_ZONE), `${hash} shows times`).toBeGreaterThan(0)
    }
    // The old Leases "Claimed" showed a bare 16:21:21: every lease time (expires, last heartbeat,
    // claimed) now has a date and a zone.
    await go('#/leases?task=e2e-now')
    await row((await api('GET', '/v1/leases?task=e2e-now')).leases[0].execution_id).waitFor()
    expect(await expectOneTimeFormat('tbody', BROWSER_ZONE)).toBe(3)

    // Scheduled rows say when they are due.
    await go('#/executions?status=scheduled')
    const due = row(later).locator('td').nth(1)
    await due.locator('time').waitFor()
    expect(await due.textContent()).toMatch(/^scheduled\s*due in (59m \d\ds|1h 00m)/)
    const record = await api('GET', `/v1/executions/${later}`)
    expect(await due.locator('time').getAttribute('title')).toBe(
      record.next_attempt_at ?? record.scheduled_for,
    )
    await go('#/failed')
    await row(later).locator('time').waitFor()
    expect(await row(later).textContent()).toContain('due in')

    // Failed rows name the worker of their last attempt, on Failed and on Executions.
    await row(failedId).locator('code', { hasText: 'worker-z' }).waitFor()
    await shot('failed')
    await go('#/executions?status=failed&task=e2e-lastworker')
    await row(failedId).locator('code', { hasText: 'worker-z' }).waitFor()

    // The detail page: the browser's zone too (not UTC).
    await go(`#/executions/${later}`)
    await run.page.locator('.actions .badge-scheduled').waitFor()
    expect(await expectOneTimeFormat('main', BROWSER_ZONE)).toBeGreaterThanOrEqual(4)

    // A cue's times are in the cue's own zone, named the same way.
    const cues = (await api('GET', '/v1/cues')).cues
    const nightly = cues.find((c: any) => c.name === 'nightly-report')
    await go('#/cues')
    await row(nightly.id).locator('time').first().waitFor()
    expect(await expectOneTimeFormat(`tr[data-row="${nightly.id}"]`, 'Europe/Paris')).toBeGreaterThan(0)

    await go('#/executions')
    await run.page.locator('main tbody time').first().waitFor()
    await shot('executions')
  })

  it('keeps the key columns of Leases, Executions and Workers on a 420 px screen', async () => {
    await claim(
      'worker-phone-with-a-long-name',
      await enqueue('e2e-phone-task', {}).then(() => 'e2e-phone-task'),
      600,
    )
    await run.page.setViewportSize({ width: 420, height: 900 })
    try {
      for (const [hash, title, keys] of [
        ['#/leases', 'Leases', ['Execution', 'Task', 'Worker', 'Expires']],
        ['#/executions', 'Executions', ['Execution', 'Task', 'Status', 'Worker']],
        ['#/workers', 'Workers', ['Worker', 'State', 'Last seen', 'In flight']],
        ['#/cues', 'Cues', ['Cue', 'Status', 'Fires', 'Next run']],
      ] as const) {
        await go(hash)
        await run.page.getByRole('heading', { level: 1, name: title }).waitFor()
        await run.page.locator('tbody tr[data-row]').first().waitFor()
        const columns = await run.page
          .locator('table')
          .first()
          .evaluate((table: any, labels: readonly string[]) => {
            const heads = [...table.querySelectorAll('thead th')] as any[]
            const rows = [...table.querySelectorAll('tbody tr[data-row]')] as any[]
            return labels.map((label) => {
              const i = heads.findIndex((th) => th.textContent.trim() === label)
              const boxes = [heads[i], ...rows.map((r) => r.children[i])].map((el) =>
                el.getBoundingClientRect(),
              )
              return {
                label,
                found: i >= 0,
                left: Math.min(...boxes.map((b) => b.left)),
                right: Math.max(...boxes.map((b) => b.right)),
                width: Math.min(...boxes.map((b) => b.width)),
              }
            })
          }, keys)
        for (const c of columns) {
          expect(c.found, `${hash}: column ${c.label}`).toBe(true)
          expect(c.width, `${hash}: ${c.label} is shown`).toBeGreaterThan(0)
          expect(c.left, `${hash}: ${c.label} starts on screen`).toBeGreaterThanOrEqual(0)
          expect(c.right, `${hash}: ${c.label} ends on screen`).toBeLessThanOrEqual(420)
        }
        expect(
          await run.page.evaluate('document.documentElement.scrollWidth'),
          `${hash} fits 420 px`,
        ).toBeLessThanOrEqual(420)
        await shot(`${title.toLowerCase()}-420`)
      }
      // The cue form fits too.
      await go('#/cues/new')
      await run.page.getByRole('heading', { level: 1, name: 'New cue' }).waitFor()
      await run.page.getByLabel('Cron').fill('*/15 9-17 * * 1-5')
      await countIs('.preview[data-preview="ok"] li', 5)
      expect(
        await run.page.evaluate('document.documentElement.scrollWidth'),
        'the cue form fits 420 px',
      ).toBeLessThanOrEqual(420)
      await shot('cue-new-420')
    } finally {
      await run.page.setViewportSize({ width: 1280, height: 800 })
    }
  })

  it("creates, previews, edits, pauses, fires and deletes a cue from the dashboard, with the API's own messages", async () => {
    await go('#/cues')
    await run.page.getByRole('link', { name: 'New cue' }).click()
    await run.page.getByRole('heading', { level: 1, name: 'New cue' }).waitFor()
    // A new cue starts in the browser's zone.
    expect(await run.page.getByLabel('Time zone').inputValue()).toBe(BROWSER_ZONE)
    await run.page.getByLabel('Name', { exact: true }).fill('e2e-form-cue')
    await run.page.getByLabel('Task', { exact: true }).fill('e2e-report')
    await run.page.getByLabel('Time zone').fill('America/New_York')
    await run.page.getByLabel('Cron').fill('30 9 * * 1-5')

    // The preview: the next five runs as the server computes them, in the cue's zone.
    const schedule = { type: 'recurring', cron: '30 9 * * 1-5', timezone: 'America/New_York' }
    const expected: string[] = (await api('POST', '/v1/cues/preview', { schedule })).next_runs
    await countIs('.preview[data-preview="ok"] li', 5)
    const shown = await timesIn('.preview')
    expect(shown.map((t) => t.title)).toEqual(expected)
    for (const t of shown) {
      expect(t.text).toBe(inZone(t.title!, 'America/New_York'))
      expect(t.text).toMatch(/ 09:30:00 E[SD]T$/)
    }
    const days = await run.page.locator('.preview li .weekday').allTextContents()
    expect(
      days.every((d) => ['Mon', 'Tue', 'Wed', 'Thu', 'Fri'].includes(d)),
      days.join(),
    ).toBe(true)
    await run.page.getByText('Next 5 runs, in America/New_York:').waitFor()
    await shot('cue-new')

    // A bad expression: the preview says what the API says, as the user types.
    await run.page.getByLabel('Cron').fill('61 * * * *')
    const badCron = await apiAnswer('POST', '/v1/cues/preview', {
      schedule: { ...schedule, cron: '61 * * * *' },
    })
    expect(badCron.status).toBe(400)
    await run.page
      .locator('.preview[data-preview="error"]', { hasText: badCron.body.error.message })
      .waitFor()

    // Submitted anyway: refused with creation's own message, next to the Cron field; nothing created.
    await run.page.getByRole('button', { name: 'Create cue' }).click()
    const refused = await apiAnswer('POST', '/v1/cues', {
      name: 'e2e-form-cue',
      transport: 'worker',
      task: 'e2e-report',
      schedule: { ...schedule, cron: '61 * * * *' },
    })
    await run.page.getByRole('alert').filter({ hasText: refused.body.error.message }).waitFor()
    expect(await run.page.getByLabel('Cron').getAttribute('aria-invalid')).toBe('true')
    expect(await run.page.locator('[data-field="schedule.cron"] .field-error').textContent()).toBe(
      refused.body.error.message,
    )

    // A 422 with field details: each detail by the field it names.
    await run.page.getByLabel('Cron').fill('30 9 * * 1-5')
    await run.page.locator('.preview[data-preview="ok"]:not([aria-busy])').waitFor()
    await run.page.getByLabel('Max attempts').fill('11')
    await run.page.getByLabel('Payload (JSON object)').fill('[1, 2]')
    await run.page.getByRole('button', { name: 'Create cue' }).click()
    const invalid = await apiAnswer('POST', '/v1/cues', {
      name: 'e2e-form-cue',
      transport: 'worker',
      task: 'e2e-report',
      schedule,
      payload: [1, 2],
      retry: { max_attempts: 11 },
    })
    expect(invalid.status).toBe(422)
    const alert = run.page.getByRole('alert').filter({ hasText: invalid.body.error.message })
    await alert.waitFor()
    for (const d of invalid.body.error.details) {
      await alert.locator('li', { hasText: d.message }).waitFor()
      const field = d.path.startsWith('retry') ? 'retry.max_attempts' : 'payload'
      expect(await run.page.locator(`[data-field="${field}"] .field-error`).textContent()).toContain(
        d.message,
      )
    }
    expect(await run.page.getByLabel('Max attempts').getAttribute('aria-invalid')).toBe('true')
    expect(await run.page.getByLabel('Cron').getAttribute('aria-invalid')).toBeNull()
    await shot('cue-form-errors')
    // Edited, a field stops saying what was wrong with it.
    await run.page.getByLabel('Max attempts').fill('2')
    expect(await run.page.getByLabel('Max attempts').getAttribute('aria-invalid')).toBeNull()
    expect(await run.page.locator('[data-field="retry.max_attempts"] .field-error').textContent()).toBe('')
    expect((await api('GET', '/v1/cues')).cues.some((c: any) => c.name === 'e2e-form-cue')).toBe(false)

    // Fixed, it is created and its page opens.
    await run.page.getByLabel('Payload (JSON object)').fill('{"report": "weekday"}')
    await run.page.getByRole('button', { name: 'Create cue' }).click()
    await run.page.getByRole('heading', { level: 1, name: 'Cue e2e-form-cue' }).waitFor()
    await run.page.locator('.notice', { hasText: 'Created cue e2e-form-cue.' }).waitFor()
    const created = (await api('GET', '/v1/cues')).cues.find((c: any) => c.name === 'e2e-form-cue')
    expect(created).toMatchObject({
      status: 'active',
      transport: 'worker',
      task: 'e2e-report',
      payload: { report: 'weekday' },
      schedule,
      retry: { max_attempts: 2 },
    })

    // Edited: only what changed is sent; everything else stays as it was.
    await run.page.getByLabel('Cron').fill('0 18 * * *')
    await countIs('.preview[data-preview="ok"] li', 5)
    await run.page.getByRole('button', { name: 'Save changes' }).click()
    await run.page.locator('.notice', { hasText: 'Saved schedule.' }).waitFor()
    const edited = await api('GET', `/v1/cues/${created.id}`)
    expect(edited).toMatchObject({
      schedule: { ...schedule, cron: '0 18 * * *' },
      retry: { max_attempts: 2 },
    })
    expect(edited.retry.backoff_seconds).toEqual(created.retry.backoff_seconds)

    // A name taken by another cue: 409, said next to the name.
    await run.page.getByLabel('Name', { exact: true }).fill('nightly-report')
    await run.page.getByRole('button', { name: 'Save changes' }).click()
    const taken = await apiAnswer('PATCH', `/v1/cues/${created.id}`, { name: 'nightly-report' })
    expect(taken.status).toBe(409)
    await run.page.getByRole('alert').filter({ hasText: taken.body.error.message }).waitFor()
    expect(await run.page.locator('[data-field="name"] .field-error').textContent()).toBe(
      taken.body.error.message,
    )
    await run.page.getByLabel('Name', { exact: true }).fill('e2e-form-cue')
    await shot('cue-edit')

    // Pause, resume and fire from its run.page.
    await run.page.getByRole('button', { name: 'Pause cue e2e-form-cue' }).click()
    await run.page.getByRole('button', { name: 'Resume cue e2e-form-cue' }).waitFor()
    expect((await api('GET', `/v1/cues/${created.id}`)).status).toBe('paused')
    await run.page.getByRole('button', { name: 'Resume cue e2e-form-cue' }).click()
    await run.page.getByRole('button', { name: 'Pause cue e2e-form-cue' }).waitFor()
    await run.page.getByRole('button', { name: 'Fire cue e2e-form-cue now' }).click()
    await run.page.locator('#toast', { hasText: 'Fired cue e2e-form-cue: execution' }).waitFor()
    const fired = await api('GET', `/v1/cues/${created.id}`)
    expect(fired.status).toBe('active')
    expect(fired.executions).toEqual([
      expect.objectContaining({ task: 'e2e-report', payload: { report: 'weekday' } }),
    ])

    // The list says what each cue fires: a worker cue its task, a webhook cue its URL's host.
    const hook = await api('POST', '/v1/cues', {
      name: 'e2e-hook',
      schedule: { type: 'recurring', cron: '0 3 * * *' },
      callback: { url: 'https://93.184.216.34:8443/hooks/nightly' },
    })
    await go('#/cues')
    await row(hook.id).waitFor()
    await expect(row(hook.id).textContent()).resolves.toMatch(
      /e2e-hook.*93\.184\.216\.34:8443.*webhook POST/s,
    )
    await expect(row(created.id).textContent()).resolves.toMatch(/e2e-form-cue.*e2e-report.*worker task/s)
    await shot('cues')

    // Delete asks first: dismissed, nothing happens; accepted, the cue is gone.
    let asked = ''
    run.page.once('dialog', (d) => {
      asked = d.message()
      void d.dismiss()
    })
    await run.page.getByRole('button', { name: 'Delete cue e2e-hook' }).click()
    expect(asked).toContain('Delete cue e2e-hook?')
    expect((await apiAnswer('GET', `/v1/cues/${hook.id}`)).status).toBe(200)
    run.page.once('dialog', (d) => void d.accept())
    await run.page.getByRole('button', { name: 'Delete cue e2e-hook' }).click()
    await row(hook.id).waitFor({ state: 'detached' })
    expect((await apiAnswer('GET', `/v1/cues/${hook.id}`)).status).toBe(404)
  })

  it('says on each attempt of the timeline how its report was authorised', async () => {
    const report = async (
      task: string,
      workerId: string,
      headers: Record<string, string>,
      token: boolean,
    ) => {
      const id = await enqueue(task, {})
      const held = await claim(workerId, task, 60)
      const answer = await apiAnswer(
        'POST',
        `/v1/executions/${id}/outcome`,
        { success: true, ...(token ? { lease_token: held.token } : {}) },
        headers,
      )
      expect(answer.status, JSON.stringify(answer.body)).toBe(200)
      return id
    }
    const withToken = await report('e2e-auth-token', 'worker-t', {}, true)
    const withWorker = await report('e2e-auth-worker', 'worker-w', { 'x-worker-id': 'worker-w' }, false)
    const withKey = await report('e2e-auth-key', 'worker-k', {}, false)
    // A first attempt nobody reported (its lease expired), then one reported with the token.
    const expired = await enqueue('e2e-auth-expired', {})
    await claim('worker-gone', 'e2e-auth-expired', 1)
    await waitFor(async () => (await api('GET', `/v1/executions/${expired}`)).status === 'pending', {
      timeoutMs: 8000,
    })
    await complete(await claim('worker-t', 'e2e-auth-expired', 60))

    const said = async (id: string, attempt: number) => {
      await go(`#/executions/${id}`)
      const el = run.page.locator(`li.attempt[data-attempt="${attempt}"] [data-reported-with]`)
      await el.waitFor()
      return { text: await el.textContent(), title: await el.getAttribute('title') }
    }
    expect(await said(withToken, 1)).toEqual({
      text: 'reported with lease token',
      title: expect.stringContaining('fenced'),
    })
    expect(await said(withWorker, 1)).toEqual({
      text: 'worker id only',
      title: expect.stringContaining('only the worker id'),
    })
    const byKey = await said(withKey, 1)
    expect(byKey).toEqual({
      text: 'API key only — not fenced',
      title: expect.stringContaining('anyone holding the key'),
    })
    await shot('execution-reported-with-api-key')
    expect(await said(expired, 1)).toEqual({
      text: 'no report',
      title: expect.stringContaining('Nobody reported'),
    })
    expect(await said(expired, 2)).toMatchObject({ text: 'reported with lease token' })
    await shot('execution-reported-with')
  })

  it('is usable with the keyboard and labelled for screen readers', async () => {
    await go('#/leases')
    await run.page.getByRole('heading', { level: 1, name: 'Leases' }).waitFor()
    await run.page.reload()
    // Still signed in after a reload (sessionStorage), and the first Tab reaches the skip link.
    await run.page.getByRole('heading', { level: 1, name: 'Leases' }).waitFor()
    await run.page.keyboard.press('Tab')
    expect(await run.page.evaluate('document.activeElement.textContent')).toBe('Skip to content')
    await run.page.keyboard.press('Enter')
    expect(await run.page.evaluate('document.activeElement.tagName')).toBe('H1')

    await run.page.getByRole('banner').waitFor()
    await run.page.getByRole('navigation', { name: 'Dashboard pages' }).waitFor()
    await run.page.getByRole('main').waitFor()
    expect(
      await run.page.getByRole('link', { name: 'Leases', exact: true }).getAttribute('aria-current'),
    ).toBe('page')
    expect(await run.page.locator('[aria-live="polite"]').count()).toBeGreaterThan(0)
    for (const [hash, title] of [
      ['#/', 'Overview'],
      ['#/leases', 'Leases'],
      ['#/workers', 'Workers'],
      ['#/executions', 'Executions'],
      ['#/failed', 'Failed'],
    ] as const) {
      await go(hash)
      await run.page.getByRole('heading', { level: 1, name: title }).waitFor()
      await run.page.locator('table').first().waitFor()
      const uncaptioned = await run.page.locator('table:not(:has(caption))').count()
      expect(uncaptioned, `${hash}: every table has a caption`).toBe(0)
      const headless = await run.page.locator('thead th:not([scope="col"])').count()
      expect(headless, `${hash}: column headers are scoped`).toBe(0)
    }

    // Keyboard navigation through the nav, with a visible focus ring.
    await go('#/')
    await run.page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
    await run.page.getByRole('link', { name: 'Workers', exact: true }).focus()
    const outline = await run.page.evaluate('getComputedStyle(document.activeElement).outlineStyle')
    expect(outline).not.toBe('none')
    await run.page.keyboard.press('Enter')
    await run.page.getByRole('heading', { level: 1, name: 'Workers' }).waitFor()
    expect(await run.page.evaluate('document.activeElement.tagName')).toBe('H1')
  })

  it('reads at 390 px and in dark mode', async () => {
    await run.page.setViewportSize({ width: 390, height: 844 })
    await run.page.emulateMedia({ colorScheme: 'dark' })
    for (const [hash, title] of [
      ['#/', 'Overview'],
      ['#/leases', 'Leases'],
      ['#/failed', 'Failed'],
    ] as const) {
      await go(hash)
      await run.page.getByRole('heading', { level: 1, name: title }).waitFor()
      await run.page.locator('table').first().waitFor()
      const width = await run.page.evaluate('document.documentElement.scrollWidth')
      expect(width, `${hash} fits 390 px`).toBeLessThanOrEqual(390)
      await shot(`${title.toLowerCase()}-390-dark`)
    }
    const bg = String(await run.page.evaluate('getComputedStyle(document.documentElement).backgroundColor'))
    const [r, g, b] = (bg.match(/\d+/g) ?? []).map(Number)
    expect((r ?? 255) + (g ?? 255) + (b ?? 255), `dark background, got ${bg}`).toBeLessThan(150)
    await run.page.setViewportSize({ width: 1280, height: 800 })
    await run.page.emulateMedia({ colorScheme: 'light' })
  })

  it('falls back to polling when the event stream is blocked, without a request storm', async () => {
    const blocked = await newContext(run.browser, 'UTC')
    let streamAttempts = 0
    await blocked.route('**/v1/events', (route) => {
      streamAttempts += 1
      return route.abort('blockedbyclient')
    })
    const p = await blocked.newPage()
    p.on('pageerror', (e) => run.pageErrors.push(String(e)))
    const queueReads: number[] = []
    p.on('request', (r) => {
      if (r.url().endsWith('/v1/queues')) queueReads.push(Date.now())
    })
    await signIn(p, run.server.url, run.apiKey)
    await p.getByText('Polling every 5 s').waitFor()

    const started = Date.now()
    await enqueue('e2e-poll', {})
    await p.locator('tr[data-row="e2e-poll"]').waitFor({ timeout: 8000 })
    const elapsed = Date.now() - started
    const reads = queueReads.filter((t) => t >= started).length
    // One read per 5 s poll (and the first), never one per event or per component.
    expect(reads).toBeLessThanOrEqual(Math.ceil(elapsed / 5000) + 1)
    expect(streamAttempts).toBeLessThanOrEqual(5)
    await p.screenshot({ path: `${artifacts}/overview-polling.png`, fullPage: true })
    await blocked.close()
  })

  it('raised no script errors or CSP violations', () => {
    expect(run.pageErrors).toEqual([])
  })
})
