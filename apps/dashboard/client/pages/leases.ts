import type { LeaseRecord, ListLeasesResponse, ListWorkersResponse } from '@cuekit/protocol'
import { h, patch } from '../dom.ts'
import type { Page, PageContext } from '../page.ts'
import { badge, executionLink, field, leaseCountdown, link, pageHeader, table, timeAgo } from '../ui.ts'

export function leasesPage(ctx: PageContext): Page {
  const worker = ctx.params.get('worker') ?? ''
  const task = ctx.params.get('task') ?? ''
  const workerInput = h('input', {
    name: 'worker',
    value: worker,
    list: 'lease-workers',
    autocomplete: 'off',
  })
  const taskInput = h('input', { name: 'task', value: task, autocomplete: 'off' })
  const workerList = h('datalist', { id: 'lease-workers' })
  const form = h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Filter leases',
      onSubmit: (e: Event) => {
        e.preventDefault()
        const q = new URLSearchParams()
        if (workerInput.value.trim()) q.set('worker', workerInput.value.trim())
        if (taskInput.value.trim()) q.set('task', taskInput.value.trim())
        ctx.navigate(`#/leases${q.size ? `?${q}` : ''}`)
      },
    },
    field('Worker', workerInput),
    workerList,
    field('Task', taskInput),
    h('button', { type: 'submit' }, 'Apply'),
    worker || task ? link('#/leases', 'Clear filters', { class: 'button-link' }) : null,
  )
  const summary = h('p', { class: 'summary' })
  const region = h('div')
  const view = h(
    'section',
    null,
    pageHeader(
      'Leases',
      'Who holds which execution until when, earliest expiry first. A lease that expired but is not reaped yet is marked: its execution goes back to pending as soon as the reaper runs.',
    ),
    form,
    summary,
    region,
  )
  let last = ''
  let lastSummary = ''
  let workersLoaded = false

  return {
    title: 'Leases',
    view,
    // Heartbeats move expiries without any state-change event, so the table re-reads every 5 s.
    liveIntervalMs: 5000,
    onEvent: (e) => e.status === 'delivering' || rowsHave(last, e.execution_id),
    async refresh() {
      const res = await ctx.api.get<ListLeasesResponse>('/v1/leases', {
        worker_id: worker || undefined,
        task: task || undefined,
        limit: 500,
      })
      ctx.clock.sync(res.server_time)
      const now = ctx.clock.now()
      if (!workersLoaded) {
        workersLoaded = true
        void ctx.api
          .get<ListWorkersResponse>('/v1/workers')
          .then((w) =>
            patch(
              workerList,
              w.workers.map((x) => h('option', { value: x.worker_id })),
            ),
          )
          .catch(() => {})
      }
      const key = JSON.stringify(res.leases.map(({ remaining_ms: _, ...l }) => l))
      if (key !== last) {
        last = key
        patch(region, renderLeases(res.leases, now, worker || task ? 'matching the filters' : ''))
      }
      const expired = res.leases.filter((l) => Date.parse(l.expires_at) <= now).length
      const text =
        `${res.leases.length} live lease${res.leases.length === 1 ? '' : 's'}` +
        (expired ? `, ${expired} expired and awaiting the reaper` : '') +
        (worker ? `, worker ${worker}` : '') +
        (task ? `, task ${task}` : '')
      summary.textContent = text
      if (text !== lastSummary) {
        if (lastSummary) ctx.announce(text, false)
        lastSummary = text
      }
      // Look again just after the next expiry, so a reaped or reclaimed lease shows without delay.
      const next = res.leases.map((l) => Date.parse(l.expires_at)).find((t) => t > now)
      if (next !== undefined) ctx.refresher.at(ctx.clock.toLocal(next) + 300)
    },
  }
}

function rowsHave(key: string, executionId: string): boolean {
  return key.includes(`"execution_id":${JSON.stringify(executionId)}`)
}

function renderLeases(leases: LeaseRecord[], now: number, qualifier: string): HTMLElement {
  return table({
    caption: `Live leases${qualifier ? ` ${qualifier}` : ''}, earliest expiry first`,
    // The key columns first: on a phone only they are shown.
    columns: [
      { label: 'Execution' },
      { label: 'Task' },
      { label: 'Worker' },
      { label: 'Expires' },
      { label: 'Last heartbeat', secondary: true },
      { label: 'Heartbeats', numeric: true, secondary: true },
      { label: 'Claimed', secondary: true },
      { label: 'Attempt', numeric: true, secondary: true },
      { label: 'Epoch', numeric: true, secondary: true },
    ],
    rows: leases.map((l) => ({
      key: l.execution_id,
      class: Date.parse(l.expires_at) <= now ? 'lease expired' : 'lease',
      cells: [
        [
          executionLink(l.execution_id),
          l.cancel_requested ? [' ', badge('cancel requested', 'cancel')] : null,
        ],
        link(`#/leases?task=${encodeURIComponent(l.task)}`, l.task),
        link(`#/leases?worker=${encodeURIComponent(l.worker_id)}`, l.worker_id),
        leaseCountdown(l.expires_at, now),
        timeAgo(l.last_heartbeat_at, now, { empty: 'none yet' }),
        String(l.heartbeats),
        timeAgo(l.claimed_at, now),
        String(l.attempt),
        String(l.epoch),
      ],
    })),
    fitsPhone: true,
    empty: 'No live leases.',
  })
}
