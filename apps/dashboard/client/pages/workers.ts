import type { ListWorkersResponse, WorkerRecord } from '@cuekit/protocol'
import { ApiError } from '../api.ts'
import { type Child, h, patch } from '../dom.ts'
import { relative } from '../format.ts'
import type { Page, PageContext } from '../page.ts'
import { badge, button, executionLink, link, pageHeader, table, time, timeAgo } from '../ui.ts'

export function workersPage(ctx: PageContext): Page {
  const summary = h('p', { class: 'summary' })
  const region = h('div')
  const view = h(
    'section',
    null,
    pageHeader(
      'Workers',
      'Every worker seen by this tenant: active (seen within 3 minutes), lost (a lease of it expired unreported and it has not been seen since: crashed or stuck), stale (seen within 15 minutes), or dead. Counters are totals since the worker was first seen; Failed includes leases that expired under it.',
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
      summary.textContent = `${count('active')} active, ${count('lost')} lost, ${count('stale')} stale, ${count('dead')} dead`
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
            { label: 'Executions', secondary: true },
            { label: 'Actions', hiddenLabel: true, secondary: true },
          ],
          rows: res.workers.map((w) => ({
            key: w.worker_id,
            class: `worker state-${w.state}`,
            cells: [
              h('code', null, w.worker_id),
              stateCell(w, now),
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
              link(`#/executions?worker=${encodeURIComponent(w.worker_id)}`, 'its executions', {
                'aria-label': `Executions last claimed by ${w.worker_id}`,
                title: 'The executions this worker claimed last, each with how its last attempt ended',
                class: 'nowrap',
                'data-key': `executions-${w.worker_id}`,
              }),
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

/**
 * The state, and when a lease of the worker last expired unreported, on which execution: for a
 * lost worker that is what made it lost; for one seen since, a past incident worth knowing about.
 */
function stateCell(w: WorkerRecord, now: number): Child {
  if (!w.lost_at || !w.lost_execution_id) return badge(w.state)
  const lost = w.state === 'lost'
  return h(
    'div',
    { class: lost ? 'lost-lease' : 'lost-lease muted' },
    badge(w.state),
    h(
      'span',
      { class: 'when' },
      h(
        'span',
        { class: 'rel' },
        lost ? 'lease of ' : 'lost a lease of ',
        executionLink(w.lost_execution_id),
        lost ? ' expired unreported ' : ' ',
        h('span', { 'data-relative': w.lost_at }, relative(w.lost_at, now)),
      ),
      h('span', { class: 'abs' }, time(w.lost_at)),
    ),
  )
}
