import type { CueRecord, ListCuesResponse } from '@cuekit/protocol'
import { ApiError } from '../api.ts'
import { h, patch } from '../dom.ts'
import type { Page, PageContext } from '../page.ts'
import { ago, badge, button, pageHeader, table, time } from '../ui.ts'

/** A cue as the API answers it (CueAPI's shape). */
export type CueView = CueRecord

const LIMIT = 100

export function cuesPage(ctx: PageContext): Page {
  const offset = Math.max(0, Number(ctx.params.get('offset') ?? 0) || 0)
  const region = h('div')
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of cues' })
  const view = h(
    'section',
    null,
    pageHeader(
      'Cues',
      "Schedules that fire executions. Times are shown in each cue's own time zone; hover for the exact UTC instant.",
    ),
    region,
    pager,
  )
  let last = ''
  let unavailable = false

  const act = async (cue: CueView, verb: 'pause' | 'resume' | 'fire') => {
    const path = `/v1/cues/${encodeURIComponent(cue.id)}`
    try {
      if (verb === 'fire') {
        const created = await ctx.api.post<{ execution_id?: string; id?: string }>(`${path}/fire`)
        const id = created.execution_id ?? created.id
        ctx.announce(`Fired cue ${cue.name}${id ? `: execution ${id}` : ''}.`)
      } else {
        await ctx.api.patch(path, { status: verb === 'pause' ? 'paused' : 'active' })
        ctx.announce(`Cue ${cue.name} ${verb === 'pause' ? 'paused' : 'resumed'}.`)
      }
    } catch (error) {
      ctx.announce(`Could not ${verb} cue ${cue.name}: ${error instanceof ApiError ? error.message : error}`)
    }
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
      const key = JSON.stringify(res)
      if (key === last) return
      last = key
      const now = ctx.clock.now()
      patch(
        region,
        table({
          caption: `Cues${res.total !== undefined ? ` (${res.total})` : ''}`,
          columns: [
            { label: 'Cue' },
            { label: 'Status' },
            { label: 'Transport' },
            { label: 'Schedule' },
            { label: 'Next run' },
            { label: 'Last run' },
            { label: 'Fired', numeric: true },
            { label: 'Actions', hiddenLabel: true },
          ],
          rows: res.cues.map((c) => {
            const tz = c.schedule?.timezone || 'UTC'
            return {
              key: c.id,
              cells: [
                h(
                  'span',
                  { class: 'cue-name' },
                  h('strong', null, c.name),
                  c.description ? h('span', { class: 'muted block' }, c.description) : null,
                ),
                badge(c.status),
                [
                  c.transport ?? 'worker',
                  c.callback?.url ? h('span', { class: 'muted block' }, c.callback.url) : null,
                ],
                schedule(c),
                c.next_run
                  ? h(
                      'span',
                      null,
                      time(c.next_run, tz),
                      h('span', { class: 'muted block' }, ago(c.next_run, now)),
                    )
                  : h('span', { class: 'muted' }, '—'),
                c.last_run ? time(c.last_run, tz) : h('span', { class: 'muted' }, 'never'),
                String(c.fired_count ?? c.run_count ?? 0),
                h(
                  'span',
                  { class: 'row-actions' },
                  c.status === 'active'
                    ? button('Pause', () => void act(c, 'pause'), {
                        class: 'secondary',
                        'aria-label': `Pause cue ${c.name}`,
                        'data-key': `pause-${c.id}`,
                      })
                    : c.status === 'paused'
                      ? button('Resume', () => void act(c, 'resume'), {
                          class: 'secondary',
                          'aria-label': `Resume cue ${c.name}`,
                          'data-key': `resume-${c.id}`,
                        })
                      : null,
                  button('Fire now', () => void act(c, 'fire'), {
                    'aria-label': `Fire cue ${c.name} now`,
                    'data-key': `fire-${c.id}`,
                  }),
                ),
              ],
            }
          }),
          empty: 'No cues yet. Create one with POST /v1/cues.',
        }),
      )
      const total = res.total ?? res.cues.length
      patch(
        pager,
        offset > 0
          ? button('Previous page', () => ctx.navigate(`#/cues?offset=${Math.max(0, offset - LIMIT)}`), {
              'data-key': 'prev',
            })
          : null,
        offset + res.cues.length < total
          ? button('Next page', () => ctx.navigate(`#/cues?offset=${offset + LIMIT}`), { 'data-key': 'next' })
          : null,
      )
    },
  }
}

function schedule(c: CueView): HTMLElement {
  const s = c.schedule ?? {}
  const tz = s.timezone || 'UTC'
  if (s.type === 'once' || (!s.cron && s.at)) {
    return h('span', null, 'Once at ', s.at ? time(s.at, tz) : '—', h('span', { class: 'muted block' }, tz))
  }
  return h('span', null, h('code', null, s.cron ?? '—'), h('span', { class: 'muted block' }, tz))
}
