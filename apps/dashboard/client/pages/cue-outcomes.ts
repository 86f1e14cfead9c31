import type { CueDetail, CueRecord, CueStats } from '@cuekit/protocol'
import { type Child, h } from '../dom.ts'
import { duration, percent } from '../format.ts'
import { facts, link } from '../ui.ts'
import { VERIFICATION_LABELS } from './cue-form.ts'

// A cue's outcome settings and its last seven days, on its page (issue 12 §6).

/** Verification, delivery deadlines, alerting and what runs on failure or success. */
export function outcomeFacts(cue: CueRecord): [string, Child][] {
  const mode = cue.verification?.mode ?? 'none'
  const failures = cue.alerts?.consecutive_failures
  // A cue without on_failure gets the API's default (an email), which the form shows checked too.
  const f = cue.on_failure ?? { email: true, webhook: null, pause: false }
  const onFailure = [f.email ? 'email' : null, f.pause ? 'pause the cue' : null, f.webhook ? 'webhook' : null]
    .filter((x): x is string => x !== null)
    .join(', ')
  return [
    ['Verification', h('span', { 'data-setting': 'verification' }, VERIFICATION_LABELS[mode])],
    [
      'Delivery',
      h(
        'span',
        { 'data-setting': 'delivery' },
        // A worker cue has no webhook to answer: its deadline is for the claim (docs/outcomes.md).
        cue.transport === 'worker'
          ? `missed unless claimed within ${cue.delivery.outcome_deadline_seconds} s of firing`
          : `${cue.delivery.timeout_seconds} s to answer; outcome due ${cue.delivery.outcome_deadline_seconds} s after delivery`,
      ),
    ],
    [
      'Alerts',
      h(
        'span',
        { 'data-setting': 'alerts' },
        failures === undefined || failures === null
          ? "after the API's default number of consecutive failures (3)"
          : `after ${String(failures)} consecutive failures`,
      ),
    ],
    [
      'On failure',
      h(
        'span',
        { 'data-setting': 'on_failure' },
        onFailure || 'nothing',
        cue.on_failure ? null : " (the API's default)",
        f.webhook ? [' ', h('code', null, f.webhook)] : null,
      ),
    ],
    [
      'On success, fires',
      cue.on_success_fire
        ? link(`#/cues/${encodeURIComponent(cue.on_success_fire)}`, h('code', null, cue.on_success_fire), {
            'data-setting': 'on_success_fire',
          })
        : null,
    ],
  ]
}

/** The 7-day stats the API computes (`stats` on GET /v1/cues/{id}); absent from an older server. */
export function statsSection(cue: CueDetail & { stats?: CueStats | null }): HTMLElement | null {
  const s = cue.stats
  if (!s) return null
  return h(
    'section',
    { 'aria-labelledby': 'cue-stats', class: 'stats', 'data-stats': '' },
    h('h2', { id: 'cue-stats' }, `Last ${s.period_days} days`),
    facts([
      ['Success rate', s.success_rate === null ? 'no finished executions' : percent(s.success_rate)],
      ['Executions', String(s.executions)],
      ['Successes', String(s.successes)],
      ['Failures', String(s.failures)],
      ['Misses', String(s.misses)],
      ['Median duration', s.p50_duration_ms === null ? 'no data' : duration(s.p50_duration_ms)],
    ]),
  )
}
