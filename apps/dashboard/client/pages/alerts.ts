import type { Alert, ListAlertsResponse } from '@cuekit/protocol'
import { ALERT_TYPES } from '@cuekit/protocol/lifecycle'
import { ApiError } from '../api.ts'
import { h, patch } from '../dom.ts'
import type { Page, PageContext } from '../page.ts'
import { badge, button, errorBox, executionLink, field, link, pageHeader, table, timeAgo } from '../ui.ts'

export const ALERTS_PAGE_SIZE = 25
/** Sent on `window` after an acknowledge, so the nav's count follows at once. */
export const ALERTS_CHANGED = 'cuekit:alerts-changed'

/**
 * The tenant's alerts (GET /v1/alerts), newest first, with filters and acknowledge. The event stream
 * carries execution changes only, not alerts; the failures and verdicts that raise alerts are such
 * changes, so each event asks for a refresh, and a timer catches the rest (outcome deadlines).
 */
export function alertsPage(ctx: PageContext): Page {
  const type = ctx.params.get('alert_type') ?? ''
  const cue = ctx.params.get('cue') ?? ''
  const acknowledged = ctx.params.get('acknowledged') ?? ''
  const offset = Math.max(0, Number.parseInt(ctx.params.get('offset') ?? '0', 10) || 0)

  const typeSelect = h(
    'select',
    { name: 'alert_type' },
    h('option', { value: '' }, 'Any type'),
    ALERT_TYPES.map((t) => h('option', { value: t, selected: t === type }, t.replace(/_/g, ' '))),
  )
  const ackSelect = h(
    'select',
    { name: 'acknowledged' },
    [
      ['', 'Any'],
      ['false', 'Unacknowledged'],
      ['true', 'Acknowledged'],
    ].map(([v, label]) => h('option', { value: v!, selected: v === acknowledged }, label!)),
  )
  const cueInput = h('input', { name: 'cue', value: cue, autocomplete: 'off', placeholder: 'cue ID' })
  const go = (params: Record<string, string>) => {
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries(params)) if (v && v !== '0') q.set(k, v)
    ctx.navigate(`#/alerts${q.size ? `?${q}` : ''}`)
  }
  const filtered = Boolean(type || cue || acknowledged)
  const form = h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Filter alerts',
      onSubmit: (e: Event) => {
        e.preventDefault()
        go({ alert_type: typeSelect.value, cue: cueInput.value.trim(), acknowledged: ackSelect.value })
      },
    },
    field('Type', typeSelect),
    field('State', ackSelect),
    field('Cue', cueInput),
    h('button', { type: 'submit' }, 'Apply'),
    filtered ? link('#/alerts', 'Clear filters', { class: 'button-link' }) : null,
  )
  const region = h('div')
  const result = h('div', { 'aria-live': 'polite' })
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of alerts' })
  const view = h(
    'section',
    null,
    pageHeader(
      'Alerts',
      'Raised by consecutive failures, failed verifications and outcome deadlines, newest first. Acknowledge one once it is handled.',
    ),
    form,
    result,
    region,
    pager,
  )
  let last = ''

  const acknowledge = async (a: Alert) => {
    try {
      await ctx.api.post(`/v1/alerts/${encodeURIComponent(a.id)}/acknowledge`)
      patch(result)
      ctx.announce(`Alert ${a.alert_type.replace(/_/g, ' ')} acknowledged.`)
      window.dispatchEvent(new Event(ALERTS_CHANGED))
    } catch (error) {
      patch(
        result,
        errorBox(
          error instanceof ApiError
            ? `Not acknowledged: ${error.message} (${error.status} ${error.code})`
            : `Could not reach the server: ${error instanceof Error ? error.message : String(error)}`,
        ),
      )
    }
    ctx.refresher.soon(0)
  }

  return {
    title: 'Alerts',
    view,
    liveIntervalMs: 10_000,
    onEvent: () => true,
    async refresh() {
      const res = await ctx.api.get<ListAlertsResponse>('/v1/alerts', {
        alert_type: type || undefined,
        cue_id: cue || undefined,
        acknowledged: acknowledged || undefined,
        limit: ALERTS_PAGE_SIZE,
        offset,
      })
      const key = JSON.stringify(res)
      if (key === last) return
      last = key
      const now = ctx.clock.now()
      const from = res.total === 0 ? 0 : res.offset + 1
      const to = res.offset + res.alerts.length
      patch(
        region,
        table({
          caption: `Alerts ${from}–${to} of ${res.total}${filtered ? ' (filtered)' : ''}`,
          columns: [
            { label: 'Alert' },
            { label: 'Severity', secondary: true },
            { label: 'Raised' },
            { label: 'State' },
            { label: 'Message', secondary: true },
            { label: 'Cue', secondary: true },
            { label: 'Execution', secondary: true },
          ],
          rows: res.alerts.map((a) => ({
            key: a.id,
            class: a.acknowledged ? 'alert-acknowledged' : 'alert-unacknowledged',
            cells: [
              badge(a.alert_type, 'alert'),
              badge(a.severity),
              timeAgo(a.created_at, now),
              a.acknowledged
                ? h(
                    'span',
                    { class: 'muted', 'data-ack': 'yes' },
                    'acknowledged',
                    a.acknowledged_at ? [' ', timeAgo(a.acknowledged_at, now)] : null,
                  )
                : button('Acknowledge', () => void acknowledge(a), {
                    class: 'ack-button',
                    'data-key': `ack-${a.id}`,
                    'aria-label': `Acknowledge alert ${a.alert_type.replace(/_/g, ' ')} of ${a.created_at}`,
                  }),
              a.message,
              a.cue_id ? link(`#/cues/${encodeURIComponent(a.cue_id)}`, h('code', null, a.cue_id)) : '',
              a.execution_id ? executionLink(a.execution_id) : '',
            ],
          })),
          fitsPhone: true,
          empty: filtered
            ? 'No alerts match.'
            : 'No alerts: nothing has failed, missed a deadline or failed verification.',
        }),
      )
      const base = { alert_type: type, cue, acknowledged }
      patch(
        pager,
        button(
          'Previous page',
          () => go({ ...base, offset: String(Math.max(0, offset - ALERTS_PAGE_SIZE)) }),
          {
            disabled: offset > 0 ? null : true,
            'data-key': 'prev',
          },
        ),
        h('span', { class: 'page-no' }, `Page ${Math.floor(offset / ALERTS_PAGE_SIZE) + 1}`),
        button('Next page', () => go({ ...base, offset: String(offset + ALERTS_PAGE_SIZE) }), {
          disabled: offset + res.alerts.length < res.total ? null : true,
          'data-key': 'next',
        }),
      )
    },
  }
}

/**
 * The unacknowledged count beside the nav's Alerts entry: re-read on execution events (at most
 * every few seconds), after an acknowledge, and on a timer. A server without alerts shows nothing.
 */
export class AlertCount {
  readonly el = h('span', { class: 'nav-count', hidden: true, 'data-unacknowledged': '' })
  private timer: ReturnType<typeof setInterval> | null = null
  private pending: ReturnType<typeof setTimeout> | null = null
  private readonly changed = () => this.soon(0)

  constructor(
    private readonly read: () => Promise<ListAlertsResponse>,
    private readonly everyMs = 15_000,
  ) {}

  start(): void {
    window.addEventListener(ALERTS_CHANGED, this.changed)
    this.timer = setInterval(() => this.soon(0), this.everyMs)
    this.soon(0)
  }

  stop(): void {
    window.removeEventListener(ALERTS_CHANGED, this.changed)
    if (this.timer) clearInterval(this.timer)
    if (this.pending) clearTimeout(this.pending)
  }

  soon(ms = 2000): void {
    if (this.pending || document.hidden) return
    this.pending = setTimeout(() => {
      this.pending = null
      void this.update()
    }, ms)
  }

  private async update(): Promise<void> {
    try {
      const { total } = await this.read()
      this.el.hidden = total === 0
      this.el.replaceChildren(String(total), h('span', { class: 'visually-hidden' }, ' unacknowledged'))
      this.el.dataset.unacknowledged = String(total)
      this.el.title = `${total} unacknowledged alert${total === 1 ? '' : 's'}`
    } catch {
      // Not served (an older server) or unreachable: the pages say so; the count just goes.
      this.el.hidden = true
    }
  }
}
