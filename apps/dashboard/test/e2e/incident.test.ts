import { waitFor } from '@cuekit/scripts/lib/wait'
import type { Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  apiKit,
  artifacts,
  BROWSER_ZONE,
  newContext,
  pageKit,
  type Run,
  signIn,
  startRun,
  stopRun,
  watch,
} from './kit.ts'

// The dashboard as an on-call engineer opens it during an incident: the activity before the tab
// was opened, and a worker that died holding a lease (issue 15 §8, §9).

let run: Run
const { api, enqueue, claim, complete, fail } = apiKit(() => ({ url: run.server.url, apiKey: run.apiKey }))
const { go, row, expectOneTimeFormat, shot } = pageKit(() => run.page)

beforeAll(async () => {
  run = await startRun('incident')
})

afterAll(async () => {
  await stopRun(run)
})

/** The tenant's total of one kind over a window, as the API counts it. */
async function total(kind: string, window = '15m'): Promise<number> {
  const res = await api('GET', `/v1/stats/rates?window=${window}`)
  return res.minutes.reduce((n: number, m: Record<string, number>) => n + m[kind]!, 0)
}

describe('the dashboard in an incident', () => {
  it('shows on a tab opened afterwards what happened in the minutes before, over 15 min, 1 h and 24 h', async () => {
    // The incident, before anyone looks: claims, completions, failures, and a lease that expires.
    await api('POST', '/v1/executions/bulk', {
      executions: Array.from({ length: 10 }, (_, i) => ({ task: 'incident-work', payload: { i } })),
    })
    for (let i = 0; i < 10; i++) {
      const held = await claim('worker-busy', 'incident-work', 60)
      if (i < 7) await complete(held)
      else await fail(held, 'upstream timeout')
    }
    await enqueue('incident-stall', {})
    await claim('worker-stalled', 'incident-stall', 1)
    await waitFor(async () => (await total('reclaims')) === 1, { timeoutMs: 10_000 })
    const claims = await total('claims')
    expect(claims).toBe(11)

    // A new tab, opened now, whose event stream is blocked: what it shows can only come from
    // what the server kept (a tab-local series would start at zero here).
    const context = await newContext(run.browser)
    await context.route('**/v1/events', (route) => route.abort('blockedbyclient'))
    const p: Page = await context.newPage()
    watch(run, p)
    const fresh = pageKit(() => p)
    await signIn(p, run.server.url, run.apiKey)
    const figure = (kind: string) => p.locator(`figure[data-chart="${kind}"]`)
    await figure('claims')
      .and(p.locator(`[data-total="${claims}"]`))
      .waitFor()
    expect(await figure('completions').getAttribute('data-total')).toBe('7')
    expect(await figure('failures').getAttribute('data-total')).toBe('3')
    expect(await figure('reclaims').getAttribute('data-total')).toBe('1')
    // Non-zero rates in the past minutes, said in words and drawn as bars.
    const said = await figure('claims').locator('[data-summary]').textContent()
    expect(said).toMatch(
      new RegExp(`^now (\\d\\.\\d+|\\d+)/s, peak \\S+/s, ${claims} in the last 15 minutes$`),
    )
    expect(said).not.toMatch(/^now 0\/s/)
    const drawn = await figure('claims')
      .locator('g.slot')
      .evaluateAll((els) => els.map((e) => Number(e.getAttribute('data-count'))))
    expect(drawn).toHaveLength(15)
    expect(drawn.reduce((a, b) => a + b, 0)).toBe(claims)
    expect(await figure('claims').locator('rect.bar').count()).toBeGreaterThan(0)
    // Hovering a bar names its minute in the one time format, and its count.
    const hover = await figure('claims')
      .locator('g.slot', { has: p.locator('rect.bar') })
      .last()
      .locator('title')
    expect(await hover.textContent()).toMatch(
      /^\d+ claims in the minute from \d{4}-\d\d-\d\d \d\d:\d\d:00 CES?T( \(.*\))?$/,
    )
    expect(await figure('failures').getAttribute('class')).toContain('trouble')
    expect(await figure('failures').locator('[data-summary]').textContent()).toBe(
      '3 in the last 15 minutes, at most 3 in a minute',
    )
    await p.getByRole('heading', { name: 'Activity, last 15 minutes' }).waitFor()
    await p.screenshot({ path: `${artifacts}/overview-incident.png`, fullPage: true })

    // The switch: the same activity over an hour (a bar a minute) and a day (a bar per ten minutes).
    const windowButton = (label: string) =>
      p.getByRole('group', { name: 'Time window' }).getByRole('button', { name: label })
    await windowButton('1 h').click()
    await p.getByRole('heading', { name: 'Activity, last hour' }).waitFor()
    expect(await windowButton('1 h').getAttribute('aria-pressed')).toBe('true')
    expect(await windowButton('15 min').getAttribute('aria-pressed')).toBe('false')
    await fresh.countIs('figure[data-chart="claims"] g.slot', 60)
    expect(await figure('claims').getAttribute('data-total')).toBe(String(claims))
    await windowButton('24 h').click()
    await p.getByRole('heading', { name: 'Activity, last 24 hours' }).waitFor()
    await p.waitForFunction(() => {
      const n = (globalThis as any).document.querySelectorAll('figure[data-chart="claims"] g.slot').length
      // 1440 minutes on ten-minute boundaries: 144 bars, or 145 with a partial one at each end.
      return n === 144 || n === 145
    })
    expect(await figure('claims').getAttribute('data-total')).toBe(String(claims))
    expect(await figure('failures').locator('[data-summary]').textContent()).toBe(
      '3 in the last 24 hours, at most 3 in a minute',
    )
    await p.screenshot({ path: `${artifacts}/overview-24h.png`, fullPage: true })
    // The choice outlives a reload of the tab.
    await p.reload()
    await p.getByRole('heading', { name: 'Activity, last 24 hours' }).waitFor()
    await context.close()
  })

  it('shows a worker whose lease expired unreported as lost, with when and which execution', async () => {
    await signIn(run.page, run.server.url, run.apiKey)
    const id = await enqueue('incident-lost', { order: 42 })
    // A worker claims with a one-second lease and never reports again (a SIGKILL looks like this).
    await claim('worker-lost', 'incident-lost', 1)
    await waitFor(
      async () => {
        const { workers } = await api('GET', '/v1/workers')
        return workers.find((w: any) => w.worker_id === 'worker-lost')?.state === 'lost'
      },
      { timeoutMs: 10_000 },
    )

    await go('#/workers')
    const r = row('worker-lost')
    await r.locator('.badge-lost').waitFor()
    expect(await r.getAttribute('class')).toContain('state-lost')
    expect(await r.locator('td').first().textContent()).toMatch(
      new RegExp(`^lostlease of ${id} expired unreported (just now|\\d+s ago)\\d{4}-`),
    )
    const lostAt = (await api('GET', '/v1/workers')).workers.find(
      (w: any) => w.worker_id === 'worker-lost',
    ).lost_at
    expect(await r.locator('td').first().locator('time').getAttribute('title')).toBe(lostAt)
    expect(await expectOneTimeFormat('tr[data-row="worker-lost"]', BROWSER_ZONE)).toBe(2)
    await run.page.locator('.summary', { hasText: /, [1-9]\d* lost,/ }).waitFor()
    await shot('workers-lost')

    // The execution it lost: its page says the attempt ended lease_expired under this worker.
    await r.getByRole('link', { name: id }).click()
    await run.page.locator('li.attempt[data-attempt="1"]', { hasText: 'worker-lost' }).waitFor()
    expect(await run.page.locator('li.attempt[data-attempt="1"]').textContent()).toMatch(/lease expired/)

    // Its executions: the rows it claimed last, each with how its last attempt ended.
    await go('#/workers')
    await r.getByRole('link', { name: 'Executions last claimed by worker-lost' }).click()
    await run.page.getByRole('heading', { level: 1, name: 'Executions' }).waitFor()
    expect(run.page.url()).toContain('worker=worker-lost')
    expect(await run.page.getByLabel('Worker', { exact: true }).inputValue()).toBe('worker-lost')
    const lostRow = row(id)
    await lostRow
      .locator('.last-attempt', { hasText: 'worker-lost' })
      .locator('.badge-lease_expired')
      .waitFor()
    expect(await run.page.locator('tbody tr[data-row]').count()).toBe(1)
    await shot('executions-worker-lost')

    // Overview counts it (with worker-stalled of the test before).
    const lost = (await api('GET', '/v1/stats')).workers.lost
    expect(lost).toBe(2)
    await go('#/')
    const tile = run.page.locator('.tile', { has: run.page.locator('dt', { hasText: 'Active workers' }) })
    await tile.locator('.detail', { hasText: /^2 lost, 0 stale, 0 dead$/ }).waitFor()
    expect(await tile.locator('.detail strong').textContent()).toBe('2 lost')
    await shot('overview-lost-worker')

    // Seen again, it is active, and the lost lease stays on its row as a past incident.
    await api('POST', '/v1/worker/heartbeat', { worker_id: 'worker-lost' })
    await go('#/workers')
    await r.locator('.badge-active').waitFor()
    expect(await r.getAttribute('class')).not.toContain('state-lost')
    expect(await r.locator('td').first().textContent()).toContain(`lost a lease of ${id}`)
  })

  it('raised no script errors or CSP violations', () => {
    expect(run.pageErrors).toEqual([])
  })
})
