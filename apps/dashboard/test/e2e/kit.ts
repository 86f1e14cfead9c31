import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { createTenant, type ServerProcess, startServerProcess } from '@cuekit/scripts/lib/server-process'
import { type Browser, type BrowserContext, chromium, type Page, type Request } from 'playwright-core'
import { expect, inject } from 'vitest'

// What the dashboard's browser tests share: a real server process on the project's redis-server
// with a tenant, Debian's chromium, a worker made of fetch calls, and helpers to read the page.

const CHROMIUM = '/usr/bin/chromium'
export const repoRoot = fileURLToPath(new URL('../../../../', import.meta.url))
export const artifacts = `${repoRoot}artifacts/e2e`
/** Not UTC: a time shown in UTC instead of the viewer's zone would be caught. */
export const BROWSER_ZONE = 'Europe/Berlin'
export const ISO_UTC = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

export interface Run {
  server: ServerProcess
  apiKey: string
  browser: Browser
  context: BrowserContext
  page: Page
  /** Script errors and CSP violations of every watched page. */
  pageErrors: string[]
  /** Every URL a watched page requested. */
  requests: string[]
}

/**
 * A server (with `env` added to its environment), a tenant named `tenantName`, chromium and a first
 * (watched) page at 1280×800.
 */
export async function startRun(tenantName: string, env: Record<string, string> = {}): Promise<Run> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `${CHROMIUM} is missing: the e2e tests drive Debian's chromium (apt-get install chromium).`,
    )
  }
  mkdirSync(artifacts, { recursive: true })
  const server = await startServerProcess({ redisUrl: inject('redisUrl'), env })
  const apiKey = (await createTenant(server.url, server.adminKey, tenantName)).api_key
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  })
  const context = await newContext(browser)
  const page = await context.newPage()
  const run: Run = { server, apiKey, browser, context, page, pageErrors: [], requests: [] }
  watch(run, page)
  return run
}

export async function stopRun(run: Run | undefined): Promise<void> {
  await run?.browser.close()
  await run?.server.stop()
}

export async function newContext(browser: Browser, timezoneId = BROWSER_ZONE): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, timezoneId })
  context.setDefaultTimeout(10_000)
  return context
}

/** Records a page's script errors, CSP violations and requests in the run. */
export function watch(run: Pick<Run, 'pageErrors' | 'requests'>, p: Page): void {
  p.on('pageerror', (e) => run.pageErrors.push(String(e)))
  p.on('console', (m) => {
    // Chromium logs every 4xx answer (the refused key, the API refusing a form) and every request
    // a test blocks on purpose (the event stream).
    if (m.type() === 'error' && !/status of 4\d\d|ERR_BLOCKED_BY_CLIENT/.test(m.text())) {
      run.pageErrors.push(m.text())
    }
  })
  p.on('request', (r: Request) => run.requests.push(r.url()))
}

export async function signIn(p: Page, url: string, key: string): Promise<void> {
  await p.goto(`${url}/dashboard`)
  await p.getByLabel('API key').fill(key)
  await p.getByRole('button', { name: 'Sign in' }).click()
  await p.getByRole('heading', { level: 1, name: 'Overview' }).waitFor()
}

// ------------------------------------------------------------------ a worker made of fetch calls

export interface Held {
  execution_id: string
  token: string
  attempt: number
}

/** The API as a client sees it; `target` is read on each call (the run starts in beforeAll). */
export function apiKit(target: () => { url: string; apiKey: string }) {
  async function api<T = any>(method: string, path: string, body?: unknown, key?: string): Promise<T> {
    const res = await fetch(`${target().url}${path}`, {
      method,
      headers: { authorization: `Bearer ${key ?? target().apiKey}`, 'content-type': 'application/json' },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    if (!res.ok) throw new Error(`${method} ${path}: ${res.status} ${text}`)
    return (text ? JSON.parse(text) : null) as T
  }

  /** The API's answer as it is, refusals included. */
  async function apiAnswer(
    method: string,
    path: string,
    body?: unknown,
    headers: Record<string, string> = {},
  ): Promise<{ status: number; body: any }> {
    const res = await fetch(`${target().url}${path}`, {
      method,
      headers: {
        authorization: `Bearer ${target().apiKey}`,
        'content-type': 'application/json',
        ...headers,
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }

  const enqueue = async (task: string, payload: unknown = {}, extra: Record<string, unknown> = {}) =>
    (await api<{ execution_id: string }>('POST', '/v1/executions', { task, payload, ...extra })).execution_id

  async function claim(workerId: string, task: string, leaseSeconds: number): Promise<Held> {
    const res = await api('POST', '/v1/executions/claim', {
      worker_id: workerId,
      task,
      lease_seconds: leaseSeconds,
    })
    expect(res.claimed, `${workerId} claims ${task}`).toBe(true)
    const e = res.executions[0]
    return { execution_id: e.execution_id, token: e.lease.token, attempt: e.attempt }
  }

  /** A worker cue of its own task, daily at 03:00 UTC (it never fires by itself during a test). */
  const workerCue = (name: string, extra: Record<string, unknown> = {}) =>
    api('POST', '/v1/cues', {
      name,
      transport: 'worker',
      task: name,
      schedule: { type: 'recurring', cron: '0 3 * * *', timezone: 'UTC' },
      ...extra,
    })

  return {
    api,
    apiAnswer,
    enqueue,
    claim,
    workerCue,
    /** The lease holder's outcome report with `body` (success, result, evidence…). */
    report: (h: Held, body: Record<string, unknown>) =>
      api('POST', `/v1/executions/${h.execution_id}/outcome`, { lease_token: h.token, ...body }),
    heartbeat: (h: Held) =>
      api('POST', `/v1/executions/${h.execution_id}/heartbeat`, { lease_token: h.token }),
    complete: (h: Held) =>
      api('POST', `/v1/executions/${h.execution_id}/outcome`, {
        lease_token: h.token,
        success: true,
        result: 'ok',
      }),
    fail: (h: Held, error: string) =>
      api('POST', `/v1/executions/${h.execution_id}/outcome`, {
        lease_token: h.token,
        success: false,
        error,
        retry: false,
      }),
  }
}

// ------------------------------------------------------------------ reading the page

/** Helpers on the page `current` returns (read on each call). */
export function pageKit(current: () => Page) {
  // Functions passed to waitForFunction run in the page (the CSP forbids string evaluation there);
  // this file is type-checked for Node without the DOM, hence `(globalThis as any).document`.
  /** Every <time> under `selector`: what it says, and what hovering shows. */
  const timesIn = (selector: string) =>
    current()
      .locator(`${selector} time`)
      .evaluateAll((els) =>
        els.map((e) => ({
          text: e.textContent ?? '',
          title: e.getAttribute('title'),
          datetime: e.getAttribute('datetime'),
        })),
      )
  return {
    go: async (hash: string) => {
      await current().evaluate(`location.hash = ${JSON.stringify(hash)}`)
    },
    row: (id: string) => current().locator(`tr[data-row="${id}"]`),
    /** Waits until a data cell (0 = the first after the row header) of a row reads `text`. */
    cellReads: (id: string, index: number, text: string) =>
      current().waitForFunction(
        ([rowId, i, want]) =>
          (globalThis as any).document.querySelectorAll(`tr[data-row="${rowId}"] td`)[i]?.textContent ===
          want,
        [id, index, text] as const,
      ),
    /** Waits until exactly `n` elements match `selector`. */
    countIs: (selector: string, n: number) =>
      current().waitForFunction(
        ([sel, want]) => (globalThis as any).document.querySelectorAll(sel).length === want,
        [selector, n] as const,
      ),
    timesIn,
    /** Every time under `selector` is in the one format, in `timeZone`; how many there are. */
    async expectOneTimeFormat(selector: string, timeZone: string): Promise<number> {
      const times = await timesIn(selector)
      for (const t of times) {
        expect(t.title, `${selector}: ${t.text}`).toMatch(ISO_UTC)
        expect(t.datetime).toBe(t.title)
        expect(t.text, `${selector}: ${t.title}`).toBe(inZone(t.title!, timeZone))
      }
      return times.length
    },
    shot: (name: string) => current().screenshot({ path: `${artifacts}/${name}.png`, fullPage: true }),
  }
}

/**
 * An instant as the dashboard must show it in `timeZone`: `2026-11-27 16:21:21 CET`; the zone by
 * its English abbreviation where there is one (CET in en-GB, EST in en-US), else its offset.
 */
export function inZone(iso: string, timeZone: string): string {
  const parts = (locale: string) =>
    Object.fromEntries(
      new Intl.DateTimeFormat(locale, {
        timeZone,
        year: 'numeric',
        month: '2-digit',
        day: '2-digit',
        hour: '2-digit',
        minute: '2-digit',
        second: '2-digit',
        hourCycle: 'h23',
        timeZoneName: 'short',
      })
        .formatToParts(Date.parse(iso))
        .map((p) => [p.type, p.value]),
    )
  const gb = parts('en-GB')
  const us = parts('en-US').timeZoneName ?? ''
  const offset = /^GMT[+\-−]/
  const zone = offset.test(gb.timeZoneName ?? '') && !offset.test(us) ? us : gb.timeZoneName
  return `${gb.year}-${gb.month}-${gb.day} ${gb.hour}:${gb.minute}:${gb.second} ${zone}`
}
