import type { AttemptRecord, ExecutionRecord, TransitionResponse } from '@cuekit/protocol'
import { isTerminal } from '@cuekit/protocol/lifecycle'
import { ApiError } from '../api.ts'
import { h, patch } from '../dom.ts'
import { duration, json } from '../format.ts'
import type { Page, PageContext } from '../page.ts'
import { badge, button, errorBox, executionLink, facts, leaseCountdown, link, timeAgo } from '../ui.ts'
import { deliverySection, outcomeSection, verifyPanel } from './execution-outcome.ts'

export function executionPage(ctx: PageContext): Page {
  const id = decodeURIComponent(ctx.rest[0] ?? '')
  const heading = h('h1', { tabindex: -1 }, 'Execution ', h('code', null, id))
  const actions = h('div', { class: 'actions' })
  const region = h('div')
  const view = h(
    'section',
    null,
    h(
      'div',
      { class: 'page-header' },
      h('p', { class: 'crumbs' }, link('#/executions', 'Executions')),
      heading,
      actions,
    ),
    region,
  )
  let last = ''
  let record: ExecutionRecord | null = null
  // Kept across re-renders while the outcome awaits verification, so a reason being typed survives.
  let verify: { key: string; el: HTMLElement | null } = { key: '', el: null }

  const act = async (verb: 'cancel' | 'replay') => {
    try {
      if (verb === 'replay') {
        const created = await ctx.api.post<ExecutionRecord>(`/v1/executions/${encodeURIComponent(id)}/replay`)
        ctx.announce(`Replayed as execution ${created.execution_id}.`)
        ctx.navigate(`#/executions/${encodeURIComponent(created.execution_id)}`)
        return
      }
      if (!window.confirm(`Cancel execution ${id}?`)) return
      const res = await ctx.api.post<TransitionResponse>(`/v1/executions/${encodeURIComponent(id)}/cancel`)
      ctx.announce(
        res.status === 'cancelled'
          ? `Execution ${id} cancelled.`
          : `Cancel requested: the worker learns it on its next heartbeat.`,
      )
    } catch (error) {
      ctx.announce(`Could not ${verb} ${id}: ${error instanceof ApiError ? error.message : error}`)
    }
    ctx.refresher.soon(0)
  }

  return {
    title: `Execution ${id}`,
    view,
    get liveIntervalMs() {
      // A lease's heartbeats emit no events, nor does an outcome reported on a delivered webhook or
      // another reviewer's verdict (the status stays); otherwise the record changes with events.
      if (record?.status === 'delivering') return 5000
      if (
        record?.status === 'success' &&
        (!record.outcome_state || record.outcome_state === 'verification_pending')
      )
        return 5000
      return 30_000
    },
    onEvent: (e) => e.execution_id === id,
    async refresh() {
      try {
        record = await ctx.api.get<ExecutionRecord>(`/v1/executions/${encodeURIComponent(id)}`)
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          patch(region, errorBox(`No execution ${id} in this tenant (it may have passed its retention).`))
          patch(actions)
          return
        }
        throw error
      }
      const key = JSON.stringify({ ...record, lease: record.lease && { ...record.lease, remaining_ms: 0 } })
      if (key === last) return
      last = key
      const now = ctx.clock.now()
      const r = record
      const verifyKey = `${r.outcome_state}:${r.outcome?.recorded_at}`
      if (verify.key !== verifyKey)
        verify = { key: verifyKey, el: verifyPanel(ctx, r, () => ctx.refresher.soon(0)) }
      patch(
        actions,
        badge(r.status),
        r.outcome_state ? h('span', { title: 'Outcome state' }, badge(r.outcome_state)) : null,
        r.cancel_requested && !isTerminal(r.status) ? badge('cancel requested', 'cancel') : null,
        isTerminal(r.status)
          ? button('Replay', () => void act('replay'), { 'data-key': 'replay' })
          : button('Cancel execution', () => void act('cancel'), {
              class: 'danger',
              'data-key': 'cancel',
              disabled: r.cancel_requested ? true : null,
            }),
      )
      patch(
        region,
        h(
          'div',
          { class: 'detail-grid' },
          h(
            'section',
            { 'aria-labelledby': 'exec-facts' },
            h('h2', { id: 'exec-facts' }, 'Details'),
            facts([
              ['Task', link(`#/executions?task=${encodeURIComponent(r.task)}`, r.task)],
              ['Attempt', `${r.attempt} of ${r.max_attempts}`],
              ['Priority', String(r.priority)],
              [
                'Cue',
                r.cue_id
                  ? link(`#/executions?cue=${encodeURIComponent(r.cue_id)}`, r.cue_name ?? r.cue_id)
                  : null,
              ],
              ['Scheduled for', timeAgo(r.scheduled_for, now)],
              ['Created', timeAgo(r.created_at, now)],
              ['Updated', timeAgo(r.updated_at, now)],
              ['Finished', r.finished_at ? timeAgo(r.finished_at, now) : null],
              ['Next attempt', r.next_attempt_at ? timeAgo(r.next_attempt_at, now) : null],
              ['Replayed from', r.replayed_from ? executionLink(r.replayed_from) : null],
              ['Idempotency key', r.idempotency_key ? h('code', null, r.idempotency_key) : null],
              ['Failure reason', r.failure_reason?.replace(/_/g, ' ') ?? null],
            ]),
          ),
          h(
            'section',
            { 'aria-labelledby': 'exec-lease' },
            h('h2', { id: 'exec-lease' }, 'Current lease'),
            r.lease
              ? h(
                  'div',
                  { class: Date.parse(r.lease.expires_at) <= now ? 'lease expired' : 'lease' },
                  facts([
                    [
                      'Worker',
                      link(`#/leases?worker=${encodeURIComponent(r.lease.worker_id)}`, r.lease.worker_id),
                    ],
                    ['Epoch', String(r.lease.epoch)],
                    ['Claimed', timeAgo(r.lease.claimed_at, now)],
                    ['Expires', leaseCountdown(r.lease.expires_at, now)],
                    ['Lease length', duration(r.lease.lease_seconds * 1000)],
                    ['Heartbeats', String(r.lease.heartbeats)],
                    ['Last heartbeat', timeAgo(r.lease.last_heartbeat_at, now, { empty: 'none yet' })],
                  ]),
                )
              : h('p', { class: 'muted' }, 'None: no worker holds this execution now.'),
          ),
        ),
        h(
          'div',
          { class: 'detail-grid outcome-grid' },
          deliverySection(r, now),
          outcomeSection(r, now, reportedWith, verify.el),
        ),
        h(
          'section',
          { 'aria-labelledby': 'exec-attempts' },
          h('h2', { id: 'exec-attempts' }, 'Attempt history'),
          r.history.length
            ? h(
                'ol',
                { class: 'timeline', 'aria-label': `${r.history.length} attempts, oldest first` },
                r.history.map((a) => attemptItem(a, now)),
              )
            : h('p', { class: 'muted' }, 'Not claimed yet.'),
        ),
        h(
          'section',
          { 'aria-labelledby': 'exec-payload' },
          h('h2', { id: 'exec-payload' }, 'Payload'),
          h('pre', { class: 'code', tabindex: 0, 'aria-label': 'Payload JSON' }, json(r.payload)),
        ),
      )
    },
  }
}

function attemptItem(a: AttemptRecord, now: number): HTMLElement {
  const ended = a.ended_at ? Date.parse(a.ended_at) : null
  const took = (ended ?? now) - Date.parse(a.claimed_at)
  return h(
    'li',
    { class: `attempt outcome-${a.outcome ?? 'open'}`, 'data-attempt': a.attempt },
    h(
      'p',
      { class: 'attempt-head' },
      h('strong', null, `Attempt ${a.attempt}`),
      ' ',
      badge(a.outcome ?? 'in progress', a.outcome ?? 'delivering'),
    ),
    facts([
      ['Worker', h('code', null, a.worker_id)],
      ['Epoch', String(a.epoch)],
      ['Claimed', timeAgo(a.claimed_at, now)],
      ['Ended', a.ended_at ? timeAgo(a.ended_at, now) : 'still running'],
      [a.ended_at ? 'Took' : 'Running for', duration(took)],
      ['Report', reportedWith(a)],
    ]),
    a.error ? h('pre', { class: 'code error-text' }, a.error) : null,
  )
}

/** How an attempt's report was authorised (the server records it), said plainly, explained on hover. */
const REPORTED_WITH: Record<NonNullable<AttemptRecord['reported_with']>, [string, string, string]> = {
  lease_token: [
    'reported with lease token',
    'fenced',
    "The report carried this attempt's lease token. It is fenced: a worker whose lease had expired or been reclaimed could not have sent it.",
  ],
  worker_id: [
    'worker id only',
    'worker-id',
    'The report carried no lease token, only the worker id, which was checked against the worker holding the lease. Anyone with the API key who knows that worker id could have sent it.',
  ],
  api_key: [
    'API key only — not fenced',
    'unfenced',
    "The report carried neither lease token nor worker id (CueAPI clients send neither). It was accepted on the tenant's API key alone: anyone holding the key could have ended this attempt. The tenant setting require_lease_token refuses such reports.",
  ],
}

export function reportedWith(a: AttemptRecord): HTMLElement {
  const how = a.reported_with ? REPORTED_WITH[a.reported_with] : null
  if (how) {
    const [text, kind, why] = how
    return h(
      'span',
      { class: `reported reported-${kind}`, title: why, 'data-reported-with': a.reported_with },
      text,
    )
  }
  return a.ended_at
    ? h(
        'span',
        {
          class: 'reported muted',
          title: 'Nobody reported this attempt: it ended by lease expiry or cancellation.',
          'data-reported-with': 'none',
        },
        'no report',
      )
    : h('span', { class: 'muted', 'data-reported-with': 'open' }, 'not reported yet')
}
