import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiKit, type Held, pageKit, type Run, signIn, startRun, stopRun } from './kit.ts'

// The Alerts page (issue 12 §6) in chromium against a real server: alerts the engine raises,
// filtered, paged, acknowledged, arriving while the page is open, and counted in the nav.

let run: Run
const { api, claim, workerCue, report } = apiKit(() => ({ url: run.server.url, apiKey: run.apiKey }))
const { go, row, countIs, shot } = pageKit(() => run.page)

beforeAll(async () => {
  run = await startRun('alerts')
  await signIn(run.page, run.server.url, run.apiKey)
})

afterAll(async () => {
  await stopRun(run)
})

/** Fires the cue and reports its execution with `body`; the held execution. */
async function fireAndReport(
  cue: { id: string; task: string },
  body: Record<string, unknown>,
): Promise<Held> {
  await api('POST', `/v1/cues/${cue.id}/fire`)
  const held = await claim('worker-a', cue.task, 60)
  await report(held, body)
  return held
}

const navCount = () => run.page.locator('nav .nav-count')
/** Waits until the nav counts `n` unacknowledged alerts (hidden at 0). */
const navCountIs = (n: number) =>
  run.page.waitForFunction(
    (want) => {
      const el = (globalThis as any).document.querySelector('nav .nav-count')
      return want === 0
        ? el?.hidden === true
        : el?.hidden === false && el.dataset.unacknowledged === String(want)
    },
    n,
    { timeout: 20_000 },
  )

describe('the Alerts page', () => {
  let evidenceCue: { id: string; task: string }
  let evidenceAlert: string
  let failuresAlert: string

  it('lists the alerts the server raised, with the unacknowledged count in the nav', async () => {
    await navCountIs(0)
    await run.page
      .locator('.tile:not(.warn) a[href="#/alerts?acknowledged=false"]', { hasText: 'none unacknowledged' })
      .waitFor()
    evidenceCue = await workerCue('a-evidence', { verification: { mode: 'require_external_id' } })
    const unproven = await fireAndReport(evidenceCue, { success: true, result: 'done, trust me' })
    const flaky = await workerCue('a-flaky', { alerts: { consecutive_failures: 2 } })
    for (let i = 0; i < 2; i++)
      await fireAndReport(flaky, { success: false, error: `boom ${i}`, retry: false })
    const { alerts } = await api('GET', '/v1/alerts')
    expect(alerts.map((a: any) => a.alert_type).sort()).toEqual([
      'consecutive_failures',
      'verification_failed',
    ])
    evidenceAlert = alerts.find((a: any) => a.alert_type === 'verification_failed').id
    failuresAlert = alerts.find((a: any) => a.alert_type === 'consecutive_failures').id

    // The count arrives on Overview without opening Alerts.
    await navCountIs(2)
    expect(await navCount().textContent()).toBe('2 unacknowledged')
    // Overview itself says so, and leads to the alerts still to handle.
    const tile = run.page.locator('.tile a[href="#/alerts?acknowledged=false"]')
    await tile.filter({ hasText: 'newest:' }).waitFor({ timeout: 20_000 })
    // biome-ignore lint/performance/useDomNodeTextContent: the line breaks separate label and value
    expect(await tile.innerText()).toMatch(
      /^Alerts\n2\nunacknowledged; newest: (verification failed|consecutive failures)$/,
    )
    expect(await tile.locator('..').getAttribute('class')).toBe('tile warn')
    await shot('overview-alerts')
    await tile.click()
    await run.page.locator('caption', { hasText: 'Alerts 1–2 of 2 (filtered)' }).waitFor()
    expect(await run.page.getByLabel('State', { exact: true }).inputValue()).toBe('false')
    await run.page.getByRole('link', { name: 'Alerts 2 unacknowledged' }).click()
    await run.page.getByRole('heading', { level: 1, name: 'Alerts' }).waitFor()
    await countIs('tbody tr[data-row]', 2)
    const evidence = await row(evidenceAlert).textContent()
    expect(evidence).toContain('verification failed')
    expect(evidence).toContain('warning')
    expect(evidence).toContain(evidenceCue.id)
    expect(evidence).toContain(unproven.execution_id)
    await row(evidenceAlert).locator(`a[href="#/executions/${unproven.execution_id}"]`).waitFor()
    await row(failuresAlert).locator(`a[href="#/cues/${flaky.id}"]`).waitFor()
    expect(await run.page.locator('caption').textContent()).toBe('Alerts 1–2 of 2')
    await shot('alerts')
  })

  it('filters by type, cue and state', async () => {
    await run.page.getByLabel('Type', { exact: true }).selectOption('verification_failed')
    await run.page.getByRole('button', { name: 'Apply' }).click()
    await run.page.locator('caption', { hasText: 'Alerts 1–1 of 1 (filtered)' }).waitFor()
    await row(evidenceAlert).waitFor()
    expect(run.page.url()).toContain('alert_type=verification_failed')

    // Each filter change is a new page: wait for it before typing into its form.
    await run.page.getByRole('link', { name: 'Clear filters' }).click()
    await run.page.locator('caption', { hasText: /^Alerts 1–2 of 2$/ }).waitFor()
    await run.page.getByLabel('Cue', { exact: true }).fill('cue_nothing_here')
    await run.page.getByRole('button', { name: 'Apply' }).click()
    await run.page.getByText('No alerts match.').waitFor()
    await run.page.getByRole('link', { name: 'Clear filters' }).click()
    await countIs('tbody tr[data-row]', 2)
  })

  it('acknowledges an alert, and shows the API refusing one', async () => {
    await row(failuresAlert)
      .getByRole('button', { name: /^Acknowledge alert consecutive failures/ })
      .click()
    await row(failuresAlert).locator('[data-ack="yes"]').waitFor()
    await navCountIs(1)
    await go('#/')
    await run.page
      .locator('.tile a[href="#/alerts?acknowledged=false"]', {
        hasText: /Alerts\s*1\s*unacknowledged; newest: verification failed/,
      })
      .waitFor()
    await go('#/alerts')
    await countIs('tbody tr[data-row]', 2)
    const acked = await api('GET', `/v1/alerts/${failuresAlert}`)
    expect(acked.acknowledged).toBe(true)
    expect(acked.acknowledged_at).not.toBeNull()
    expect((await api('GET', `/v1/alerts/${evidenceAlert}`)).acknowledged).toBe(false)

    await run.page.getByLabel('State', { exact: true }).selectOption('false')
    await run.page.getByRole('button', { name: 'Apply' }).click()
    await run.page.locator('caption', { hasText: 'of 1 (filtered)' }).waitFor()
    await row(evidenceAlert).waitFor()

    // The request reaches the server for an alert it does not have: its 404 is shown as it said it.
    await run.page.route('**/v1/alerts/*/acknowledge', (route) =>
      route.continue({ url: route.request().url().replace(evidenceAlert, 'alert_gone') }),
    )
    await row(evidenceAlert)
      .getByRole('button', { name: /^Acknowledge/ })
      .click()
    await run.page.getByRole('alert').filter({ hasText: 'alert_not_found' }).waitFor()
    expect(await run.page.getByRole('alert').filter({ hasText: 'alert_not_found' }).textContent()).toMatch(
      /^Not acknowledged: .+ \(404 alert_not_found\)$/,
    )
    await run.page.unroute('**/v1/alerts/*/acknowledge')
    expect((await api('GET', `/v1/alerts/${evidenceAlert}`)).acknowledged).toBe(false)
    await shot('alerts-refused')
  })

  it('shows a new alert while open, without navigation, and pages through many', async () => {
    await go('#/alerts')
    await countIs('tbody tr[data-row]', 2)
    const before = run.requests.length
    const fresh = await fireAndReport(evidenceCue, { success: true })
    const { alerts } = await api('GET', `/v1/alerts?alert_type=verification_failed&limit=1`)
    expect(alerts[0].execution_id).toBe(fresh.execution_id)
    await row(alerts[0].id).waitFor()
    await navCountIs(2)
    // It came through a refresh of this page, not a reload.
    expect(run.requests.slice(before).some((u) => u.endsWith('/dashboard'))).toBe(false)

    // 27 alerts in all: 25 on the first page, 2 on the second.
    for (let i = 0; i < 24; i++) await fireAndReport(evidenceCue, { success: true })
    await run.page.locator('caption', { hasText: 'Alerts 1–25 of 27' }).waitFor()
    await countIs('tbody tr[data-row]', 25)
    await run.page.getByRole('button', { name: 'Next page' }).click()
    await run.page.locator('caption', { hasText: 'Alerts 26–27 of 27' }).waitFor()
    await countIs('tbody tr[data-row]', 2)
    expect(run.page.url()).toContain('offset=25')
    expect(await run.page.getByRole('button', { name: 'Next page' }).isDisabled()).toBe(true)
    // The oldest two are on the last page.
    await row(evidenceAlert).waitFor()
    await row(failuresAlert).waitFor()
    await run.page.getByRole('button', { name: 'Previous page' }).click()
    await run.page.locator('caption', { hasText: 'Alerts 1–25 of 27' }).waitFor()
    await navCountIs(26)
    await shot('alerts-paged')

    // On a phone the key columns and the acknowledge button stay on screen.
    await run.page.setViewportSize({ width: 420, height: 900 })
    try {
      const newest = (await api('GET', '/v1/alerts?limit=1')).alerts[0].id
      const button = await row(newest)
        .getByRole('button', { name: /^Acknowledge/ })
        .boundingBox()
      expect(button!.x + button!.width).toBeLessThanOrEqual(420)
      expect(await run.page.evaluate('document.documentElement.scrollWidth')).toBeLessThanOrEqual(420)
      await shot('alerts-420')
    } finally {
      await run.page.setViewportSize({ width: 1280, height: 800 })
    }
    expect(run.pageErrors).toEqual([])
  })
})
