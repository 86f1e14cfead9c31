import type { ExecutionStatus, ListQueuesResponse, QueueCounts, StatsResponse } from '@cuekit/protocol'
import { EXECUTION_STATUSES as STATUSES } from '@cuekit/protocol/lifecycle'
import { h, patch, svg, uid } from '../dom.ts'
import { duration, rate } from '../format.ts'
import type { Page, PageContext } from '../page.ts'
import type { RateKind, RateSeries } from '../rates.ts'
import { link, pageHeader, table } from '../ui.ts'

export function overviewPage(ctx: PageContext): Page {
  const tiles = h('div', { class: 'tiles-region' })
  const charts = h('div', { class: 'charts' })
  const queues = h('div')
  const view = h(
    'section',
    { 'aria-labelledby': 'overview-title' },
    pageHeader(
      'Overview',
      'Executions per task, throughput over the last 15 minutes, and how the system is keeping up.',
    ),
    h('h2', { class: 'visually-hidden' }, 'At a glance'),
    tiles,
    h('h2', null, 'Throughput, last 15 minutes'),
    charts,
    h('h2', null, 'Executions by task'),
    queues,
  )
  view.querySelector('h1')!.id = 'overview-title'
  let lastQueues = ''
  let lastTiles = ''

  const renderCharts = () => {
    const now = ctx.clock.now()
    patch(
      charts,
      chart(ctx.rates, 'claims', 'Claims per second', now),
      chart(ctx.rates, 'completions', 'Completions per second', now),
    )
  }
  // The series grows with events between refreshes; redraw on a slow local timer, no requests.
  const redraw = setInterval(renderCharts, 5000)

  return {
    title: 'Overview',
    view,
    liveIntervalMs: 10_000,
    onEvent: () => true,
    dispose: () => clearInterval(redraw),
    async refresh() {
      const [q, stats] = await Promise.all([
        ctx.api.get<ListQueuesResponse>('/v1/queues'),
        ctx.api.get<StatsResponse>('/v1/stats'),
      ])
      ctx.clock.sync(stats.server_time)
      if (!ctx.isLive()) ctx.rates.addTotals(stats.totals, Date.parse(stats.server_time))
      const tilesKey = JSON.stringify([stats.waiting_long_polls, stats.reaper, stats.workers, sums(q.queues)])
      if (tilesKey !== lastTiles) {
        lastTiles = tilesKey
        patch(tiles, renderTiles(stats, q.queues))
      }
      const queuesKey = JSON.stringify(q.queues)
      if (queuesKey !== lastQueues) {
        lastQueues = queuesKey
        patch(queues, renderQueues(q.queues))
      }
      renderCharts()
    },
  }
}

function sums(queues: QueueCounts[]): Record<ExecutionStatus, number> {
  const out = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<ExecutionStatus, number>
  for (const q of queues) for (const s of STATUSES) out[s] += q[s]
  return out
}

function tile(label: string, value: string, detail?: string, href?: string, warn = false): HTMLElement {
  const body = [
    h('dt', null, label),
    h('dd', { class: 'value' }, value),
    detail ? h('dd', { class: 'detail' }, detail) : null,
  ]
  return h(
    'div',
    { class: warn ? 'tile warn' : 'tile' },
    href ? link(href, h('dl', null, body)) : h('dl', null, body),
  )
}

function renderTiles(stats: StatsResponse, queues: QueueCounts[]): HTMLElement {
  const total = sums(queues)
  const r = stats.reaper
  const overdue = r.overdue_leases > 0
  return h(
    'div',
    { class: 'tiles' },
    tile(
      'Active workers',
      String(stats.workers.active),
      `${stats.workers.stale} stale, ${stats.workers.dead} dead`,
      '#/workers',
    ),
    tile('Live leases', String(total.delivering), 'executions being delivered', '#/leases'),
    tile(
      'Pending',
      String(total.pending),
      `${total.scheduled} scheduled, ${total.retrying} retrying`,
      '#/executions?status=pending',
    ),
    tile('Failed', String(total.failed), 'terminal failures kept for replay', '#/failed', total.failed > 0),
    tile('Waiting long-polls', String(stats.waiting_long_polls), 'claims waiting on this server'),
    tile(
      'Reaper lag',
      overdue ? duration(r.oldest_overdue_ms ?? 0) : '0 ms',
      overdue
        ? `${r.overdue_leases} expired lease${r.overdue_leases === 1 ? '' : 's'} not yet reaped`
        : r.last_pass_lag_ms === null
          ? 'no expired leases'
          : `no expired leases; last pass ${r.last_pass_lag_ms} ms late`,
      '#/leases',
      overdue && (r.oldest_overdue_ms ?? 0) > 5000,
    ),
  )
}

function renderQueues(queues: QueueCounts[]): HTMLElement {
  return table({
    caption: 'Executions by task and status',
    columns: [
      { label: 'Task' },
      ...STATUSES.map((s) => ({ label: s[0]!.toUpperCase() + s.slice(1), numeric: true })),
      { label: 'Oldest pending', numeric: true },
    ],
    rows: queues.map((q) => ({
      key: q.task,
      cells: [
        link(`#/executions?task=${encodeURIComponent(q.task)}`, q.task, { 'data-key': `task-${q.task}` }),
        ...STATUSES.map((s) =>
          q[s] > 0 && s !== 'success'
            ? link(`#/executions?task=${encodeURIComponent(q.task)}&status=${s}`, String(q[s]))
            : String(q[s]),
        ),
        q.oldest_pending_age_ms === null ? '—' : duration(q.oldest_pending_age_ms),
      ],
    })),
    empty: 'No executions yet.',
  })
}

/** A bar chart of one series: each bar a 10 s bucket, as a labelled image plus its numbers in text. */
function chart(rates: RateSeries, kind: RateKind, title: string, now: number): HTMLElement {
  const series = rates.series(kind, now)
  const s = rates.summary(kind, now)
  const max = Math.max(1, ...series)
  const width = 300
  const height = 60
  const barW = width / series.length
  const bars = series.map((n, i) => {
    const bh = n === 0 ? 0 : Math.max(1.5, (n / max) * (height - 4))
    return svg('rect', {
      x: (i * barW).toFixed(2),
      y: (height - bh).toFixed(2),
      width: Math.max(0.5, barW - 0.6).toFixed(2),
      height: bh.toFixed(2),
      class: 'bar',
    })
  })
  const captionId = uid('chart')
  const summary = `now ${rate(s.current)}, peak ${rate(s.peak)}, ${s.total} in the last 15 minutes`
  return h(
    'figure',
    { class: 'chart', 'data-chart': kind },
    h(
      'figcaption',
      { id: captionId },
      h('strong', null, title),
      ' ',
      h('span', { 'data-summary': kind }, summary),
    ),
    svg(
      'svg',
      {
        viewBox: `0 0 ${width} ${height}`,
        preserveAspectRatio: 'none',
        role: 'img',
        'aria-labelledby': captionId,
        focusable: 'false',
      },
      svg('line', { x1: 0, y1: height - 0.5, x2: width, y2: height - 0.5, class: 'axis' }),
      ...bars,
    ),
    h(
      'div',
      { class: 'chart-scale', 'aria-hidden': 'true' },
      h('span', null, '15 min ago'),
      h('span', null, `max ${rate(max / (rates.bucketMs / 1000))}`),
      h('span', null, 'now'),
    ),
  )
}
