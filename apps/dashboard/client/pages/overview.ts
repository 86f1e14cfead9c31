import type {
  ExecutionStatus,
  ListAlertsResponse,
  ListQueuesResponse,
  QueueCounts,
  RatesResponse,
  StatsResponse,
} from '@cuekit/protocol'
import { EXECUTION_STATUSES as STATUSES } from '@cuekit/protocol/lifecycle'
import { DEFAULT_WINDOW, isWindow, type RateWindow, WINDOWS } from '../activity.ts'
import { activityCharts } from '../charts.ts'
import { type Child, h, patch, uid } from '../dom.ts'
import { duration } from '../format.ts'
import type { Page, PageContext } from '../page.ts'
import { button, link, pageHeader, table } from '../ui.ts'

const WINDOW_KEY = 'cuekit.dashboard.window'
/** Re-read at most this often over 24 h (1440 minutes); the shorter windows on every refresh. */
const LONG_WINDOW_MS = 15_000

export function overviewPage(ctx: PageContext): Page {
  const tiles = h('div', { class: 'tiles-region' })
  const charts = h('div', { class: 'charts' })
  const queues = h('div')
  const chartsTitle = h('h2', { id: uid('activity') })
  // The last choice in this tab, so a reload or a visit to another page keeps it.
  const saved = sessionStorage.getItem(WINDOW_KEY)
  let selected: RateWindow = isWindow(saved) ? saved : DEFAULT_WINDOW
  const switcher = h('div', { class: 'segmented', role: 'group', 'aria-label': 'Time window' })
  const view = h(
    'section',
    { 'aria-labelledby': 'overview-title' },
    pageHeader(
      'Overview',
      'How the system is keeping up, what happened in the last 15 minutes to 24 hours (as the server counted it, however recently this page was opened), and executions per task.',
    ),
    h('h2', { class: 'visually-hidden' }, 'At a glance'),
    tiles,
    h('div', { class: 'section-head' }, chartsTitle, switcher),
    charts,
    h('h2', null, 'Executions by task'),
    queues,
  )
  view.querySelector('h1')!.id = 'overview-title'
  charts.setAttribute('aria-labelledby', chartsTitle.id)
  let lastQueues = ''
  let lastTiles = ''
  let rates: RatesResponse | null = null
  let ratesReadAt = 0

  const renderSwitch = () => {
    chartsTitle.textContent = `Activity, last ${WINDOWS[selected].span}`
    patch(
      switcher,
      Object.entries(WINDOWS).map(([w, spec]) =>
        button(spec.label, () => choose(w as RateWindow), {
          class: 'secondary',
          'aria-pressed': w === selected ? 'true' : 'false',
          'data-key': `window-${w}`,
        }),
      ),
    )
  }
  const choose = (w: RateWindow) => {
    if (w === selected) return
    selected = w
    sessionStorage.setItem(WINDOW_KEY, w)
    renderSwitch()
    // The bars still shown are the old window's until the new one arrives.
    charts.setAttribute('aria-busy', 'true')
    ctx.refresher.soon(0)
  }
  renderSwitch()

  const readRates = async (): Promise<void> => {
    const fresh =
      rates?.window === selected && Date.now() - ratesReadAt < (selected === '24h' ? LONG_WINDOW_MS : 0)
    if (fresh) return
    const asked = selected
    const res = await ctx.api.get<RatesResponse>('/v1/stats/rates', { window: asked })
    // A switch while the request was out: the next refresh reads the new window.
    if (asked !== selected) return
    rates = res
    ratesReadAt = Date.now()
  }

  return {
    title: 'Overview',
    view,
    liveIntervalMs: 10_000,
    onEvent: () => true,
    async refresh() {
      const [q, stats, alerts] = await Promise.all([
        ctx.api.get<ListQueuesResponse>('/v1/queues'),
        ctx.api.get<StatsResponse>('/v1/stats'),
        // The newest unacknowledged alert and how many there are; an older server has no alerts.
        ctx.api.get<ListAlertsResponse>('/v1/alerts', { acknowledged: 'false', limit: 1 }).catch(() => null),
        readRates(),
      ])
      ctx.clock.sync(stats.server_time)
      const unacknowledged = alerts && { total: alerts.total, newest: alerts.alerts[0]?.alert_type ?? null }
      const tilesKey = JSON.stringify([
        stats.waiting_long_polls,
        stats.reaper,
        stats.workers,
        sums(q.queues),
        unacknowledged,
      ])
      if (tilesKey !== lastTiles) {
        lastTiles = tilesKey
        patch(tiles, renderTiles(stats, q.queues, unacknowledged))
      }
      const queuesKey = JSON.stringify(q.queues)
      if (queuesKey !== lastQueues) {
        lastQueues = queuesKey
        patch(queues, renderQueues(q.queues))
      }
      if (rates?.window === selected) {
        patch(charts, activityCharts(rates, ctx.clock.now()))
        charts.removeAttribute('aria-busy')
      }
    },
  }
}

function sums(queues: QueueCounts[]): Record<ExecutionStatus, number> {
  const out = Object.fromEntries(STATUSES.map((s) => [s, 0])) as Record<ExecutionStatus, number>
  for (const q of queues) for (const s of STATUSES) out[s] += q[s]
  return out
}

function tile(label: string, value: string, detail?: Child, href?: string, warn = false): HTMLElement {
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

interface Unacknowledged {
  total: number
  newest: string | null
}

function renderTiles(
  stats: StatsResponse,
  queues: QueueCounts[],
  alerts: Unacknowledged | null,
): HTMLElement {
  const total = sums(queues)
  const r = stats.reaper
  const w = stats.workers
  const overdue = r.overdue_leases > 0
  return h(
    'div',
    { class: 'tiles' },
    tile(
      'Active workers',
      String(w.active),
      [
        // Lost first: a worker whose lease expired unreported is the one to look at.
        w.lost > 0 ? h('strong', { class: 'error-text' }, `${w.lost} lost`) : '0 lost',
        `, ${w.stale} stale, ${w.dead} dead`,
      ],
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
    alerts
      ? tile(
          // Short, so the tile's value lines up with its neighbours'.
          'Alerts',
          String(alerts.total),
          alerts.newest
            ? `unacknowledged; newest: ${alerts.newest.replace(/_/g, ' ')}`
            : 'none unacknowledged',
          '#/alerts?acknowledged=false',
          alerts.total > 0,
        )
      : null,
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
