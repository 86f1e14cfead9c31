import type { ListWorkersResponse, WorkerRecord } from '@cuekit/protocol'
import { ApiError } from '../api.ts'
import { h, patch } from '../dom.ts'
import type { Page, PageContext } from '../page.ts'
import { badge, button, link, pageHeader, table, timeAgo } from '../ui.ts'

export function workersPage(ctx: PageContext): Page {
  const summary = h('p', { class: 'summary' })
  const region = h('div')
  const view = h(
    'section',
    null,
    pageHeader(
      'Workers',
      'Every worker seen by this tenant: active (seen within 3 minutes), stale (within 15), or dead. Counters are totals since the worker was first seen.',
    ),
    summary,
    region,
  )
  let last = ''

  const forget = async (w: WorkerRecord) => {
    if (!window.confirm(`Forget worker ${w.worker_id}? Its leases, if any, end as usual.`)) return
    try {
      await ctx.api.del(`/v1/workers/${encodeURIComponent(w.worker_id)}`)
      ctx.announce(`Forgot worker ${w.worker_id}.`)
    } catch (error) {
      ctx.announce(
        `Could not forget worker ${w.worker_id}: ${error instanceof ApiError ? error.message : error}`,
      )
    }
    ctx.refresher.soon(0)
  }

  return {
    title: 'Workers',
    view,
    liveIntervalMs: 10_000,
    onEvent: (e) => e.worker_id !== null,
    async refresh() {
      const res = await ctx.api.get<ListWorkersResponse>('/v1/workers')
      const now = ctx.clock.now()
      const count = (s: string) => res.workers.filter((w) => w.state === s).length
      summary.textContent = `${count('active')} active, ${count('stale')} stale, ${count('dead')} dead`
      const key = JSON.stringify(res.workers.map(({ seconds_since_heartbeat: _, ...w }) => w))
      if (key === last) return
      last = key
      patch(
        region,
        table({
          caption: 'Workers, most recently seen first',
          // The key columns first: on a phone only they are shown.
          columns: [
            { label: 'Worker' },
            { label: 'State' },
            { label: 'Last seen' },
            { label: 'In flight', numeric: true },
            { label: 'Handlers', secondary: true },
            { label: 'Claimed', numeric: true, secondary: true },
            { label: 'Completed', numeric: true, secondary: true },
            { label: 'Failed', numeric: true, secondary: true },
            { label: 'Actions', hiddenLabel: true, secondary: true },
          ],
          rows: res.workers.map((w) => ({
            key: w.worker_id,
            class: `worker state-${w.state}`,
            cells: [
              h('code', null, w.worker_id),
              badge(w.state),
              timeAgo(w.last_seen_at, now),
              w.in_flight > 0
                ? link(`#/leases?worker=${encodeURIComponent(w.worker_id)}`, String(w.in_flight), {
                    'aria-label': `${w.in_flight} leases held by ${w.worker_id}`,
                  })
                : '0',
              w.handlers.length ? w.handlers.join(', ') : h('span', { class: 'muted' }, 'any task'),
              String(w.claimed),
              String(w.completed),
              String(w.failed),
              button('Forget', () => void forget(w), {
                class: 'secondary',
                'aria-label': `Forget worker ${w.worker_id}`,
                'data-key': `forget-${w.worker_id}`,
              }),
            ],
          })),
          fitsPhone: true,
          empty:
            'No workers yet. A worker appears when it claims, heartbeats a lease, or sends POST /v1/worker/heartbeat.',
        }),
      )
    },
  }
}
