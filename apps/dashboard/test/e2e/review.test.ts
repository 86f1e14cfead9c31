import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { apiKit, pageKit, type Run, signIn, startRun, stopRun } from './kit.ts'

// Every dashboard page with real data in it, at desktop width and on a phone (420 px): nothing
// widens the page, every control has a label, and the text keeps the project's vocabulary
// (docs/architecture.md#vocabulary). The screenshots (artifacts/e2e/review-*.png) are what a reviewer looks at.

let run: Run
const { api, enqueue, claim, workerCue, report, complete, fail } = apiKit(() => ({
  url: run.server.url,
  apiKey: run.apiKey,
}))
const { go, shot } = pageKit(() => run.page)

let receiver: Server

beforeAll(async () => {
  receiver = createServer((req, res) => {
    req.resume()
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end('{}'))
  })
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve))
  run = await startRun('review', { CUEKIT_WEBHOOK_ALLOW_PRIVATE: 'true' })
})

afterAll(async () => {
  await stopRun(run)
  await new Promise((resolve) => receiver?.close(resolve))
})

/** Synonyms the vocabulary (docs/architecture.md#vocabulary) rules out of UI text. */
const SYNONYMS = /\b(jobs?|task runs?|runs? of a task|messages? queue)\b/i

/** What is wrong with the page as shown: widening, unlabelled controls, synonyms. */
async function problems(width: number): Promise<string[]> {
  return run.page.evaluate((w) => {
    const d = (globalThis as any).document
    const out: string[] = []
    if (d.documentElement.scrollWidth > w) out.push(`page is ${d.documentElement.scrollWidth}px wide`)
    // A table meant to fit a phone neither scrolls sideways nor cuts a word into letters.
    for (const t of d.querySelectorAll('table.fits-phone')) {
      const wrap = t.closest('.table-wrap')
      // The table itself, not scrollWidth: visually hidden labels sit outside it on purpose.
      // One pixel is rounding (clientWidth is whole pixels).
      const width = Math.round(t.getBoundingClientRect().width)
      if (wrap && width > wrap.clientWidth + 1)
        out.push(`${t.caption?.textContent} scrolls sideways (${width} > ${wrap.clientWidth})`)
      for (const cell of t.querySelectorAll('tbody td')) {
        const lines = cell.getClientRects().length && cell.firstChild?.nodeType === 3 ? cell : null
        if (!lines) continue
        const range = d.createRange()
        range.selectNodeContents(cell.firstChild)
        const words = cell.firstChild.textContent.trim().split(/\s+/).length
        const rows = new Set([...range.getClientRects()].map((r: any) => Math.round(r.top))).size
        if (rows > words + 1) out.push(`"${cell.textContent}" is cut into ${rows} lines`)
      }
    }
    // A row's buttons (replay, cancel, acknowledge, forget) are on screen without scrolling.
    for (const b of d.querySelectorAll('tbody button')) {
      const r = b.getBoundingClientRect()
      if (r.width > 0 && r.right > w)
        out.push(`${b.getAttribute('aria-label') ?? b.textContent} is off-screen`)
    }
    for (const el of d.querySelectorAll('input, select, textarea')) {
      if (el.type === 'hidden' || el.closest('[hidden]')) continue
      const named = el.labels?.length || el.getAttribute('aria-label') || el.getAttribute('aria-labelledby')
      if (!named) out.push(`unlabelled ${el.tagName.toLowerCase()} ${el.name ?? ''}`)
    }
    for (const el of d.querySelectorAll('button, a')) {
      if (!(el.textContent.trim() || el.getAttribute('aria-label') || el.getAttribute('title')))
        out.push(`nameless ${el.tagName.toLowerCase()}`)
    }
    return out
  }, width)
}

/** Screenshots the page at 1280 and at 420 px, checking each. */
async function review(name: string, ready: () => Promise<unknown>): Promise<void> {
  await ready()
  // biome-ignore lint/performance/useDomNodeTextContent: the visible text is what is checked
  const text = await run.page.locator('body').innerText()
  // The screenshots come first, so that a failing check has them to look at.
  await shot(`review-${name}`)
  expect(text, name).not.toMatch(SYNONYMS)
  expect(await problems(1280), name).toEqual([])
  await run.page.setViewportSize({ width: 420, height: 900 })
  try {
    await ready()
    expect(await problems(420), `${name} at 420 px`).toEqual([])
    await shot(`review-${name}-420`)
  } finally {
    await run.page.setViewportSize({ width: 1280, height: 800 })
  }
}

// biome-ignore lint/performance/useDomNodeTextContent: the line breaks separate label and value
const deliveryText = () => run.page.locator('[data-fact="delivery"]').innerText()
const h1 = (name: string | RegExp) => () => run.page.getByRole('heading', { level: 1, name }).waitFor()

describe('every page, reviewed', () => {
  const ids: Record<string, string> = {}

  it('sets up a tenant with something on every page', async () => {
    // Worker executions: successes, a terminal failure, pending, scheduled, a live lease.
    const report1 = await workerCue('nightly-report')
    ids.cue = report1.id
    for (let i = 0; i < 3; i++) {
      await api('POST', `/v1/cues/${report1.id}/fire`)
      const held = await claim('worker-a', 'nightly-report', 60)
      if (i === 0) ids.success = held.execution_id
      await (i < 2 ? complete(held) : fail(held, 'upstream said 503'))
    }
    ids.failed = (await api('GET', '/v1/executions?status=failed')).executions[0].execution_id
    await enqueue('resize-image', { file: 'a-rather-long-file-name-that-could-widen-a-table-cell.png' })
    await enqueue('resize-image', {}, { delay_seconds: 3600 })
    await enqueue('send-invoice', { invoice: 17 })
    const live = await claim('worker-with-a-long-descriptive-name-01', 'send-invoice', 300)
    ids.live = live.execution_id
    // Verification pending: a manual cue whose success awaits a reviewer.
    const manual = await workerCue('publish-post', { verification: { mode: 'manual' } })
    await api('POST', `/v1/cues/${manual.id}/fire`)
    const pending = await claim('worker-a', 'publish-post', 60)
    await report(pending, {
      success: true,
      summary: 'draft posted',
      result_url: 'https://blog.example.com/p/1',
    })
    ids.pending = pending.execution_id
    // A webhook cue, delivered.
    const { port } = receiver.address() as AddressInfo
    const hook = await api('POST', '/v1/cues', {
      name: 'notify-slack',
      transport: 'webhook',
      callback: { url: `http://127.0.0.1:${port}/hook` },
      schedule: { type: 'recurring', cron: '*/15 * * * *', timezone: 'Europe/Berlin' },
    })
    ids.webhook = (await api('POST', `/v1/cues/${hook.id}/fire`)).execution_id
    await waitFor(async () => (await api('GET', `/v1/executions/${ids.webhook}`)).status === 'success', {
      timeoutMs: 15_000,
      intervalMs: 100,
      message: 'the webhook is delivered',
    })
    // A webhook whose handler reported later, awaiting a reviewer.
    const reviewed = await api('POST', '/v1/cues', {
      name: 'post-to-blog',
      transport: 'webhook',
      callback: { url: `http://127.0.0.1:${port}/blog` },
      schedule: { type: 'recurring', cron: '0 9 * * 1', timezone: 'America/New_York' },
      verification: { mode: 'manual' },
    })
    ids.webhookPending = (await api('POST', `/v1/cues/${reviewed.id}/fire`)).execution_id
    await waitFor(
      async () => (await api('GET', `/v1/executions/${ids.webhookPending}`)).status === 'success',
      { timeoutMs: 15_000, intervalMs: 100, message: 'the reviewed webhook is delivered' },
    )
    await api('POST', `/v1/executions/${ids.webhookPending}/outcome`, {
      success: true,
      result_url: 'https://blog.example.com/p/2',
      summary: 'post published',
    })
    expect((await api('GET', `/v1/executions/${ids.webhookPending}`)).outcome_state).toBe(
      'verification_pending',
    )
    // Alerts: two failures in a row.
    const flaky = await workerCue('sync-crm', { alerts: { consecutive_failures: 2 } })
    for (let i = 0; i < 2; i++) {
      await api('POST', `/v1/cues/${flaky.id}/fire`)
      await fail(await claim('worker-b', 'sync-crm', 60), `timeout ${i}`)
    }
    // A lost worker: its lease expires unreported.
    await enqueue('crunch-numbers', {})
    await claim('worker-lost', 'crunch-numbers', 1)
    await waitFor(
      async () =>
        (await api('GET', '/v1/workers')).workers.find((w: any) => w.worker_id === 'worker-lost')?.state ===
        'lost',
      { timeoutMs: 15_000, intervalMs: 200, message: 'worker-lost is lost' },
    )
  })

  it('sign-in', async () => {
    await run.page.goto(`${run.server.url}/dashboard`)
    await review('sign-in', () => run.page.getByLabel('API key').waitFor())
    await run.page.getByLabel('API key').fill(`cue_sk_${'0'.repeat(32)}`)
    await run.page.getByRole('button', { name: 'Sign in' }).click()
    await review('sign-in-refused', () =>
      run.page.getByRole('alert').filter({ hasText: 'refused' }).waitFor(),
    )
    await signIn(run.page, run.server.url, run.apiKey)
  })

  it('overview', async () => {
    await review('overview', async () => {
      await h1('Overview')()
      await run.page.locator('.tile').first().waitFor()
      await run.page.locator('.charts figure.chart').first().waitFor()
    })
  })

  it('executions, filtered, and each kind of execution page', async () => {
    await go('#/executions')
    await review('executions', async () => {
      await h1('Executions')()
      await run.page.locator('tbody tr[data-row]').first().waitFor()
    })
    await go('#/executions?status=failed')
    await review('executions-failed-filter', async () => {
      await h1('Executions')()
      await run.page.locator(`tr[data-row="${ids.failed}"]`).waitFor()
    })
    for (const [name, id] of [
      ['execution-worker', ids.success],
      ['execution-failed', ids.failed],
      ['execution-delivering', ids.live],
      ['execution-webhook', ids.webhook],
      ['execution-verification-pending', ids.pending],
      ['execution-webhook-verification-pending', ids.webhookPending],
    ] as const) {
      await go(`#/executions/${id}`)
      await review(name, async () => {
        await h1(`Execution ${id}`)()
        await run.page.locator('[data-fact="outcome"]').waitFor()
      })
    }
    // A failed execution was never delivered; one being delivered is not delivered yet.
    await go(`#/executions/${ids.failed}`)
    await run.page.locator('[data-fact="delivery"] .badge-failed').waitFor()
    expect(await deliveryText()).toMatch(/Delivered\s+never/)
    // A replay opens the new execution, and the message saying so comes along.
    await run.page.getByRole('button', { name: 'Replay', exact: true }).click()
    await run.page
      .getByRole('heading', { level: 1, name: /^Execution / })
      .filter({ hasNotText: ids.failed })
      .waitFor()
    expect(await run.page.locator('#toast').textContent()).toMatch(/^Replayed as execution \S+\.$/)
    await go(`#/executions/${ids.live}`)
    await run.page.locator('[data-fact="delivery"] .badge-delivering').waitFor()
    expect(await deliveryText()).toMatch(/Delivered\s+not yet/)
  })

  it('failed, leases, workers', async () => {
    await go('#/failed')
    await review('failed', async () => {
      await h1('Failed')()
      await run.page.locator(`tr[data-row="${ids.failed}"]`).waitFor()
    })
    await go('#/leases')
    await review('leases', async () => {
      await h1('Leases')()
      await run.page.locator(`tr[data-row="${ids.live}"]`).waitFor()
    })
    await go('#/workers')
    await review('workers', async () => {
      await h1('Workers')()
      await run.page.locator('tr[data-row="worker-lost"] .badge-lost').waitFor()
    })
  })

  it('cues, a cue with its editor, a new cue, alerts', async () => {
    await go('#/cues')
    await review('cues', async () => {
      await h1('Cues')()
      await run.page.locator(`tr[data-row="${ids.cue}"]`).waitFor()
    })
    // Fired by hand only: the count is the scheduler's, and the header says so.
    await run.page.getByRole('columnheader', { name: 'Fired by schedule' }).waitFor()
    await go(`#/cues/${ids.cue}`)
    await review('cue', async () => {
      await h1('Cue nightly-report')()
      await run.page.locator('[data-stats]').waitFor()
      await run.page.getByRole('heading', { level: 2, name: 'Edit this cue' }).waitFor()
    })
    await go('#/cues/new')
    await review('cue-new', () => run.page.getByRole('button', { name: 'Create cue' }).waitFor())
    await go('#/alerts')
    await review('alerts', async () => {
      await h1('Alerts')()
      await run.page.locator('tbody tr[data-row]').first().waitFor()
    })
    expect(run.pageErrors).toEqual([])
  })
})
