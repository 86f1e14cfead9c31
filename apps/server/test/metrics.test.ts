import { readFileSync } from 'node:fs'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { parse } from 'yaml'
import { Metrics } from '../src/metrics.ts'
import { boundedTasks, QueueSnapshot, type TaskTotals } from '../src/snapshot.ts'
import { makeApp, type TestApp } from './helpers.ts'

// /metrics: O(1) in tenants per scrape (issue 11 §6), an optional token, names prefixed once,
// queue gauges and the lease wait (issue 15 point 14), and the example alerts and dashboard.

const TOKEN = 'metrics-token-0123456789'

async function scrape(t: TestApp, headers: Record<string, string> = {}) {
  const res = await t.cuekit.app.request('/metrics', { headers })
  return { status: res.status, text: await res.text() }
}

/** Sample value of `name{labels}` in a scrape, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `))
  return line === undefined ? undefined : Number(line.slice(series.length + 1))
}

/** Every name a scrape declares: metric families, plus their sample names (`_bucket`...). */
function declaredNames(text: string): Set<string> {
  const names = new Set<string>()
  for (const line of text.split('\n')) {
    const type = /^# TYPE (\S+) (\w+)/.exec(line)
    if (type) {
      names.add(type[1]!)
      if (type[2] === 'histogram') for (const s of ['_bucket', '_sum', '_count']) names.add(type[1]! + s)
      continue
    }
    const name = /^([a-zA-Z_:][\w:]*)[{ ]/.exec(line)
    if (name) names.add(name[1]!)
  }
  return names
}

async function enqueue(t: TestApp, task: string, key = t.apiKey) {
  const r = await t.cuekit.app.request('/v1/executions', {
    method: 'POST',
    headers: { authorization: `Bearer ${key}` },
    body: JSON.stringify({ task }),
  })
  expect(r.status).toBe(201)
}

afterEach(() => {
  vi.restoreAllMocks()
})

describe('/metrics', () => {
  it('a scrape reads the snapshot: no per-tenant read, however many scrapes', async () => {
    const t = await makeApp({ metricsRefreshMs: 60_000 })
    for (let i = 0; i < 3; i++) await enqueue(t, 'report', (await t.newTenant()).apiKey)
    await t.cuekit.services.snapshot?.refresh()
    const queues = vi.spyOn(t.engine, 'queues')
    const list = vi.spyOn(t.cuekit.services.tenants, 'list')
    const scrapes = await Promise.all(Array.from({ length: 10 }, () => scrape(t)))
    expect(queues).not.toHaveBeenCalled()
    expect(list).not.toHaveBeenCalled()
    for (const s of scrapes) expect(sample(s.text, 'cuekit_task_pending_executions{task="report"}')).toBe(3)
  })

  it('one walk at a time, started by scrapes, stopped by close', async () => {
    const t = await makeApp({ metricsRefreshMs: 20 })
    await enqueue(t, 'a')
    const list = vi.spyOn(t.cuekit.services.tenants, 'list')
    const snapshot = t.cuekit.services.snapshot
    // Concurrent refreshes join one walk.
    await Promise.all([snapshot.refresh(), snapshot.refresh(), snapshot.refresh()])
    expect(list).toHaveBeenCalledTimes(1)
    // A scrape keeps the loop going in the background: the snapshot gets renewed.
    const first = snapshot.latest()!.takenAt
    await waitFor(() => snapshot.latest()!.takenAt > first)
    await snapshot.close()
    expect(snapshot.looping).toBe(false)
    snapshot.latest()
    expect(snapshot.looping).toBe(false)
  })

  it('the loop pauses when nobody scrapes and resumes with the next scrape', async () => {
    let walks = 0
    const snapshot = new QueueSnapshot({
      refreshMs: 5,
      idleMs: 100,
      async *walk() {
        walks += 1
        yield []
      },
    })
    expect(snapshot.latest()).toBeNull()
    expect(snapshot.looping).toBe(true)
    await waitFor(() => !snapshot.looping, { message: 'the loop did not pause' })
    const paused = walks
    expect(paused).toBeGreaterThan(0)
    expect(snapshot.latest()).not.toBeNull()
    expect(snapshot.looping).toBe(true)
    await waitFor(() => walks > paused)
    await snapshot.close()
  })

  it('queue gauges per task, executions by status, lease wait, and the snapshot age', async () => {
    const t = await makeApp({ metricsRefreshMs: 60_000 })
    for (const task of ['a', 'a', 'a', 'b']) await enqueue(t, task)
    const claim = await t.json('POST', '/v1/executions/claim', { worker_id: 'w', task: 'a' })
    expect(claim.body.claimed).toBe(true)
    await t.cuekit.services.snapshot.refresh()
    const { text } = await scrape(t)
    expect(sample(text, 'cuekit_task_pending_executions{task="a"}')).toBe(2)
    expect(sample(text, 'cuekit_task_leased_executions{task="a"}')).toBe(1)
    expect(sample(text, 'cuekit_task_pending_executions{task="b"}')).toBe(1)
    expect(sample(text, 'cuekit_task_oldest_pending_age_seconds{task="a"}')).toBeGreaterThanOrEqual(0)
    expect(sample(text, 'cuekit_executions{status="pending"}')).toBe(3)
    expect(sample(text, 'cuekit_executions{status="delivering"}')).toBe(1)
    expect(sample(text, 'cuekit_lease_wait_seconds_count')).toBe(1)
    expect(sample(text, 'cuekit_claims_total')).toBe(1)
    expect(sample(text, 'cuekit_metrics_snapshot_age_seconds')).toBeGreaterThanOrEqual(0)
  })

  it('lease wait: from scheduled_for to the grant, first attempts only, for every lease of a claim', async () => {
    const metrics = new Metrics({ waitingLongPolls: () => 0, snapshot: () => null })
    const at = (ms: number) => new Date(Date.UTC(2026, 0, 1) + ms).toISOString()
    const lease = (grantedMs: number, seconds: number) => ({
      token: 't',
      epoch: 1,
      expires_at: at(grantedMs + seconds * 1000),
      lease_seconds: seconds,
    })
    const execution = (scheduledMs: number, attempt: number, l: ReturnType<typeof lease>) => ({
      execution_id: 'x',
      id: 'x',
      cue_id: null,
      cue_name: null,
      task: 'a',
      payload: null,
      scheduled_for: at(scheduledMs),
      attempt,
      max_attempts: 3,
      lease: l,
    })
    // Granted at 10 s: waits of 10, 4 and (another lease length, same expiry) 7 s; a retry is left out.
    metrics.claimed([
      execution(0, 1, lease(10_000, 60)),
      execution(6_000, 1, lease(10_000, 60)),
      execution(0, 2, lease(10_000, 60)),
      execution(0, 1, lease(7_000, 63)),
    ])
    const { values } = await metrics.leaseWait.get()
    const value = (name: string) => values.find((v) => v.metricName === name)?.value
    expect(value('cuekit_lease_wait_seconds_count')).toBe(3)
    expect(value('cuekit_lease_wait_seconds_sum')).toBe(21)
  })

  it('default metrics carry the prefix once', async () => {
    const t = await makeApp()
    const { text } = await scrape(t)
    expect(text).toContain('cuekit_process_cpu_seconds_total')
    expect(text).toContain('cuekit_nodejs_eventloop_lag_seconds')
    expect(text).not.toContain('cuekit_process_process_')
    expect(text).not.toContain('cuekit_process_nodejs_')
  })

  it('CUEKIT_METRICS_TOKEN: 401 without it or with a wrong one; open when unset', async () => {
    const guarded = await makeApp({ metricsToken: TOKEN })
    const refused: Record<string, string>[] = [
      {},
      { authorization: 'Bearer wrong-token-0123456789' },
      { authorization: TOKEN },
    ]
    for (const headers of refused) {
      const r = await scrape(guarded, headers)
      expect(r.status).toBe(401)
      expect(JSON.parse(r.text).error.code).toBe('unauthorized')
    }
    const ok = await scrape(guarded, { authorization: `Bearer ${TOKEN}` })
    expect(ok.status).toBe(200)
    expect(ok.text).toContain('cuekit_claims_total')
    expect((await scrape(await makeApp())).status).toBe(200)
  })

  it('every metric the example alerts and the Grafana dashboard use exists in a real scrape', async () => {
    const t = await makeApp({ metricsRefreshMs: 60_000 })
    await enqueue(t, 'a')
    await t.json('POST', '/v1/executions/claim', { worker_id: 'w', task: 'a' })
    await t.cuekit.services.snapshot.refresh()
    const names = declaredNames((await scrape(t)).text)

    const root = new URL('../../../docs/', import.meta.url)
    const alerts = parse(readFileSync(new URL('prometheus-alerts.yml', root), 'utf8')) as {
      groups: { rules: { alert: string; expr: string; annotations: { summary: string } }[] }[]
    }
    const rules = alerts.groups.flatMap((g) => g.rules)
    expect(rules.length).toBeGreaterThan(3)
    for (const r of rules) expect(r.alert && r.expr && r.annotations.summary, JSON.stringify(r)).toBeTruthy()
    const dashboard = JSON.parse(readFileSync(new URL('grafana-dashboard.json', root), 'utf8')) as {
      panels: { title: string; targets: { expr: string }[] }[]
    }
    const exprs = [
      ...rules.map((r) => r.expr),
      ...dashboard.panels.flatMap((p) => p.targets.map((target) => target.expr)),
    ]
    const used = new Set(exprs.flatMap((e) => e.match(/\bcuekit_\w+/g) ?? []))
    expect(used).toContain('cuekit_task_oldest_pending_age_seconds')
    expect(used).toContain('cuekit_reaper_lag_seconds')
    expect(used).toContain('cuekit_lease_expirations_total')
    expect([...used].filter((n) => !names.has(n))).toEqual([])
  })
})

describe('task series are bounded', () => {
  it('keeps the busiest tasks and sums the rest into _other', () => {
    const byTask = new Map<string, TaskTotals>()
    for (let i = 0; i < 10; i++) byTask.set(`t${i}`, { pending: i, leased: 1, oldestPendingAgeMs: i * 10 })
    byTask.set('idle', { pending: 0, leased: 0, oldestPendingAgeMs: null })
    const rows = boundedTasks(byTask, 4)
    expect(rows.map(([task]) => task)).toEqual(['t9', 't8', 't7', '_other'])
    expect(rows[3]![1]).toEqual({ pending: 0 + 1 + 2 + 3 + 4 + 5 + 6, leased: 7, oldestPendingAgeMs: 60 })
    expect(boundedTasks(byTask, 20).map(([task]) => task)).not.toContain('idle')
  })
})
