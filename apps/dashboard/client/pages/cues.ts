import type { CueRecord, ListCuesResponse } from '@cuekit/protocol'
import { ApiError } from '../api.ts'
import { h, patch } from '../dom.ts'
import type { Page, PageContext } from '../page.ts'
import { badge, link, pageHeader, table, timeAgo } from '../ui.ts'
import { cueActions, fires } from './cue-actions.ts'

const LIMIT = 100

export function cuesPage(ctx: PageContext): Page {
  const offset = Math.max(0, Number(ctx.params.get('offset') ?? 0) || 0)
  const region = h('div')
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of cues' })
  const actions = h('div', { class: 'actions' })
  const view = h(
    'section',
    null,
    pageHeader(
      'Cues',
      "Schedules that fire executions. A cue's times are shown in its own time zone, named; hover for the exact UTC instant.",
    ),
    actions,
    region,
    pager,
  )
  let last = ''
  let unavailable = false
  const after = () => {
    last = ''
    ctx.refresher.soon(0)
  }

  return {
    title: 'Cues',
    view,
    liveIntervalMs: 15_000,
    // A fire shows up as an execution event; the cue's last and next run moved with it.
    onEvent: () => !unavailable,
    async refresh() {
      if (unavailable) return
      let res: ListCuesResponse
      try {
        res = await ctx.api.get<ListCuesResponse>('/v1/cues', { limit: LIMIT, offset })
      } catch (error) {
        if (error instanceof ApiError && (error.status === 404 || error.status === 405)) {
          unavailable = true
          patch(
            region,
            h(
              'p',
              { class: 'notice', role: 'status' },
              'Cues are not available on this server: it has no cue API (GET /v1/cues answered 404). Executions, leases and workers work as usual.',
            ),
          )
          return
        }
        throw error
      }
      if (!actions.firstChild) patch(actions, link('#/cues/new', 'New cue', { class: 'button-link primary' }))
      const key = JSON.stringify(res)
      if (key === last) return
      last = key
      const now = ctx.clock.now()
      patch(
        region,
        table({
          caption: `Cues${res.total !== undefined ? ` (${res.total})` : ''}`,
          // The key columns first: on a phone only they are shown (the cue's page has the actions).
          columns: [
            { label: 'Cue' },
            { label: 'Status' },
            { label: 'Fires' },
            { label: 'Next run' },
            { label: 'Schedule', secondary: true },
            { label: 'Last run', secondary: true },
            // The scheduler's fires (CueAPI's fired_count): a manual fire is not one of them.
            { label: 'Fired by schedule', numeric: true, secondary: true },
            { label: 'Actions', hiddenLabel: true, secondary: true },
          ],
          rows: res.cues.map((c) => {
            const tz = c.schedule?.timezone || 'UTC'
            return {
              key: c.id,
              cells: [
                h(
                  'span',
                  { class: 'cue-name' },
                  link(`#/cues/${encodeURIComponent(c.id)}`, h('strong', null, c.name), {
                    'data-key': `open-${c.id}`,
                  }),
                  c.description ? h('span', { class: 'muted block' }, c.description) : null,
                ),
                badge(c.status),
                fires(c),
                timeAgo(c.next_run, now, { timeZone: tz }),
                schedule(c),
                timeAgo(c.last_run, now, { timeZone: tz, empty: 'never' }),
                String(c.fired_count ?? c.run_count ?? 0),
                h(
                  'span',
                  { class: 'row-actions' },
                  link(`#/cues/${encodeURIComponent(c.id)}`, 'Edit', {
                    class: 'button-link',
                    'aria-label': `Edit cue ${c.name}`,
                  }),
                  cueActions(ctx, c, after),
                ),
              ],
            }
          }),
          fitsPhone: true,
          empty: 'No cues yet. Create one with "New cue" (or POST /v1/cues).',
        }),
      )
      const total = res.total ?? res.cues.length
      patch(
        pager,
        offset > 0
          ? link(`#/cues?offset=${Math.max(0, offset - LIMIT)}`, 'Previous page', { class: 'button-link' })
          : null,
        offset + res.cues.length < total
          ? link(`#/cues?offset=${offset + LIMIT}`, 'Next page', { class: 'button-link' })
          : null,
      )
    },
  }
}

function schedule(c: CueRecord): HTMLElement {
  const s = c.schedule
  const tz = s.timezone || 'UTC'
  if (s.type === 'once') return h('span', null, 'once', h('span', { class: 'muted block' }, tz))
  return h('span', null, h('code', null, s.cron ?? '—'), h('span', { class: 'muted block' }, tz))
}
