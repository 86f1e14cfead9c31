import type { AttemptRecord, ExecutionRecord, VerifyResponse } from '@cuekit/protocol'
import { isTerminal, OUTCOME_STATE } from '@cuekit/protocol/lifecycle'
import { ApiError } from '../api.ts'
import { type Child, h, patch } from '../dom.ts'
import { json, safeUrl } from '../format.ts'
import type { PageContext } from '../page.ts'
import { badge, button, errorBox, executionLink, facts, timeAgo } from '../ui.ts'

/**
 * An execution's two separate facts (issue 12 §2): how its delivery went (its status, the HTTP
 * answer, when it was delivered) and what its handler reported as the outcome, with the evidence and
 * where verification stands. A delivered webhook is not a finished piece of work, so they never share a
 * section.
 */

/** The delivery: what moved the execution's status, and why it exists. */
export function deliverySection(r: ExecutionRecord, now: number): HTMLElement {
  // A failed or cancelled execution will not be started or delivered: "not yet" would promise it.
  const missing = isTerminal(r.status) ? 'never' : 'not yet'
  return h(
    'section',
    { 'aria-labelledby': 'exec-delivery', class: 'delivery', 'data-fact': 'delivery' },
    h('h2', { id: 'exec-delivery' }, 'Delivery'),
    facts([
      ['Status', badge(r.status)],
      ['HTTP status', r.http_status === null ? null : h('code', null, String(r.http_status))],
      ['Started', timeAgo(r.started_at, now, { empty: missing })],
      ['Delivered', timeAgo(r.delivered_at, now, { empty: missing })],
      ['Last attempt', r.last_attempt_at ? timeAgo(r.last_attempt_at, now) : null],
      ['Claims', String(r.attempts)],
      ['Claimed by', r.claimed_by_worker ? h('code', null, r.claimed_by_worker) : null],
      ['Error', r.error_message ? h('span', { class: 'error-text' }, r.error_message) : null],
      ['Triggered by', r.triggered_by.replace(/_/g, ' ')],
      [
        'Chain parent',
        r.chain_parent_id ? [executionLink(r.chain_parent_id), ` (depth ${r.chain_depth})`] : null,
      ],
    ]),
  )
}

/**
 * The attempt whose report was the outcome: a worker's lease report ends its attempt as it records
 * the outcome (the two times differ by the request's own latency). A webhook's attempts are its
 * deliveries, reported by the dispatcher, and an answered delivery has an HTTP status; its handler's
 * outcome arrives on its own, so no attempt stands for it.
 */
function reportOf(r: ExecutionRecord): AttemptRecord | null {
  const recorded = r.outcome ? Date.parse(r.outcome.recorded_at) : Number.NaN
  if (Number.isNaN(recorded) || r.http_status !== null) return null
  const a = r.history.at(-1)
  return a?.reported_with && a.ended_at && Math.abs(Date.parse(a.ended_at) - recorded) < 1000 ? a : null
}

export function resultLink(value: string): Child {
  const url = safeUrl(value)
  if (!url) return h('code', { class: 'unsafe-url', title: 'Not an http(s) URL: not a link' }, value)
  return h(
    'a',
    { href: url.href, target: '_blank', rel: 'noopener noreferrer nofollow', class: 'result-url' },
    url.href,
  )
}

const pre = (value: unknown, label: string): HTMLElement =>
  h(
    'pre',
    { class: 'code', tabindex: 0, 'aria-label': label },
    typeof value === 'string' ? value : json(value),
  )

/**
 * The outcome: state, the report (success, result, error, when, how it was authorised), evidence,
 * and for a `verification_pending` one the approve and reject controls.
 */
export function outcomeSection(
  r: ExecutionRecord,
  now: number,
  reportedWith: (a: AttemptRecord) => HTMLElement,
  verify: HTMLElement | null,
): HTMLElement {
  const o = r.outcome
  const report = reportOf(r)
  return h(
    'section',
    { 'aria-labelledby': 'exec-outcome', class: 'outcome', 'data-fact': 'outcome' },
    h('h2', { id: 'exec-outcome' }, 'Outcome'),
    facts([
      [
        'Outcome state',
        r.outcome_state
          ? h('span', { 'data-outcome-state': r.outcome_state }, badge(r.outcome_state))
          : h('span', { class: 'muted', 'data-outcome-state': '' }, 'none reported yet'),
      ],
      ['Success', o ? (o.success ? 'yes' : 'no') : null],
      ['Reported', o ? timeAgo(o.recorded_at, now) : null],
      ['Report', report ? reportedWith(report) : null],
    ]),
    o && o.result !== undefined && o.result !== null
      ? [h('h3', null, 'Result'), pre(o.result, 'Result')]
      : null,
    o?.error ? [h('h3', null, 'Error'), h('pre', { class: 'code error-text' }, o.error)] : null,
    o ? evidence(o) : null,
    o?.metadata && Object.keys(o.metadata).length
      ? [h('h3', null, 'Metadata'), pre(o.metadata, 'Metadata')]
      : null,
    verify,
  )
}

function evidence(o: NonNullable<ExecutionRecord['outcome']>): HTMLElement {
  const list = facts([
    ['External ID', o.external_id ? h('code', null, o.external_id) : null],
    ['Result URL', o.result_url ? resultLink(o.result_url) : null],
    ['Result ref', o.result_ref ? h('code', null, o.result_ref) : null],
    ['Result type', o.result_type ?? null],
    ['Summary', o.summary ?? null],
    [
      'Validation',
      o.validation_state
        ? badge(o.validation_state, o.validation_state === 'valid' ? 'success' : 'failed')
        : null,
    ],
  ])
  const artifacts = o.artifacts?.length ? pre(o.artifacts, 'Artifacts') : null
  return h(
    'div',
    { class: 'evidence' },
    h('h3', null, 'Evidence'),
    list.childElementCount || artifacts
      ? [list, artifacts ? [h('h4', null, `Artifacts (${o.artifacts!.length})`), artifacts] : null]
      : h('p', { class: 'muted' }, 'None attached.'),
  )
}

/**
 * Approve or reject a `verification_pending` outcome (`POST /v1/executions/{id}/verify`). A reject
 * takes a reason, stored with the evidence. The API's refusal is shown by the buttons; when another
 * reviewer was first (409 invalid_state) it is announced and the page shows their verdict.
 */
export function verifyPanel(ctx: PageContext, r: ExecutionRecord, after: () => void): HTMLElement | null {
  if (r.outcome_state !== OUTCOME_STATE.verification_pending) return null
  const id = r.execution_id
  const reason = h('input', {
    id: 'verify-reason',
    name: 'reason',
    autocomplete: 'off',
    maxlength: 500,
    'data-key': 'verify-reason',
    'aria-describedby': 'verify-hint',
  })
  const result = h('div', { class: 'verify-result', 'aria-live': 'polite' })
  const send = async (valid: boolean) => {
    const text = reason.value.trim()
    if (!valid && !text) {
      patch(result, errorBox('Say why it is rejected: the reason is kept with the evidence.'))
      reason.setAttribute('aria-invalid', 'true')
      reason.focus()
      return
    }
    for (const b of panel.querySelectorAll('button')) b.disabled = true
    patch(result)
    try {
      const res = await ctx.api.post<VerifyResponse>(`/v1/executions/${encodeURIComponent(id)}/verify`, {
        valid,
        ...(text ? { reason: text } : {}),
      })
      ctx.announce(`Execution ${id}: ${res.outcome_state.replace(/_/g, ' ')}.`)
      after()
    } catch (error) {
      const message =
        error instanceof ApiError
          ? `Not ${valid ? 'approved' : 'rejected'}: ${error.message} (${error.status} ${error.code})`
          : `Could not reach the server: ${error instanceof Error ? error.message : String(error)}`
      if (error instanceof ApiError && error.code === 'invalid_state') {
        // Someone decided first: say so where it outlives this panel, and show what stands now.
        ctx.announce(message)
        after()
        return
      }
      for (const b of panel.querySelectorAll('button')) b.disabled = false
      patch(result, errorBox(message))
    }
  }
  const panel = h(
    'div',
    { class: 'verify', role: 'group', 'aria-labelledby': 'verify-title' },
    h('h3', { id: 'verify-title' }, 'Manual verification'),
    h(
      'p',
      { id: 'verify-hint', class: 'hint' },
      'This cue verifies outcomes by hand. Approve marks it verified success; reject marks it verification failed and needs a reason.',
    ),
    h('div', { class: 'field' }, h('label', { for: 'verify-reason' }, 'Reason'), reason),
    h(
      'div',
      { class: 'actions' },
      button('Approve', () => void send(true), { 'data-key': 'approve' }),
      button('Reject', () => void send(false), { class: 'danger', 'data-key': 'reject' }),
    ),
    result,
  )
  reason.addEventListener('input', () => reason.removeAttribute('aria-invalid'))
  return panel
}
