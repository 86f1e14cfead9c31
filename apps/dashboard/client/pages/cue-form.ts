import type { CueRecord } from '@cuekit/protocol'
import { VERIFICATION_MODES } from '@cuekit/protocol/lifecycle'
import type { ApiError, ErrorDetail } from '../api.ts'
import { h, patch, uid } from '../dom.ts'

/**
 * The cue form's fields and what goes between them and the API: the request body they make (a
 * draft), filling them from a cue, and the API's refusal shown by the fields it names. The form
 * checks nothing itself, so the dashboard and the API can never disagree on a rule.
 */

const CATCH_UP = [
  ['run_once_if_missed', 'Run once if missed (default)'],
  ['skip_missed', 'Skip missed runs'],
  ['replay_all_missed', 'Replay every missed run (up to 100)'],
] as const
const METHODS = ['POST', 'GET', 'PUT', 'PATCH'] as const

/** What each verification mode asks of an outcome, in the words of the fact sheet's table. */
export const VERIFICATION_LABELS: Record<(typeof VERIFICATION_MODES)[number], string> = {
  none: 'None: a reported success stands',
  require_external_id: 'Require an external ID',
  require_result_url: 'Require a result URL',
  require_artifacts: 'Require artifacts',
  manual: 'Manual: approve or reject each success',
}

/** The form's fields, each named by the path the API uses for it in error details. */
export interface Controls {
  name: HTMLInputElement
  description: HTMLInputElement
  transport: HTMLSelectElement
  task: HTMLInputElement
  url: HTMLInputElement
  method: HTMLSelectElement
  type: HTMLSelectElement
  cron: HTMLInputElement
  at: HTMLInputElement
  timezone: HTMLInputElement
  payload: HTMLTextAreaElement
  maxAttempts: HTMLInputElement
  catchUp: HTMLSelectElement
  verification: HTMLSelectElement
  timeoutSeconds: HTMLInputElement
  deadlineSeconds: HTMLInputElement
  consecutiveFailures: HTMLInputElement
  failureEmail: HTMLInputElement
  failureWebhook: HTMLInputElement
  failurePause: HTMLInputElement
  successFire: HTMLInputElement
}

/** A request body in the API's create shape; an edit sends the keys that differ from the cue's. */
export type Draft = Record<string, unknown>

/** A problem the form finds before it can send anything at all (the payload is not JSON). */
export class FormProblem extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message)
  }
}

export function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}

let zones: string[] | null = null
export function zoneOptions(): HTMLElement[] {
  zones ??= ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')]
  return zones.map((z) => h('option', { value: z }))
}

/** Numbers as numbers; anything else is sent as typed, and the API says what is wrong with it. */
function numberOrText(value: string): unknown {
  const v = value.trim()
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v
}

export function draftOf(c: Controls, baseline: CueRecord | null): Draft {
  const worker = c.transport.value === 'worker'
  const recurring = c.type.value === 'recurring'
  let payload: unknown = {}
  if (c.payload.value.trim() !== '') {
    try {
      payload = JSON.parse(c.payload.value)
    } catch (error) {
      throw new FormProblem(
        'payload',
        `payload: not valid JSON (${error instanceof Error ? error.message : String(error)}).`,
      )
    }
  }
  const draft: Draft = {
    name: c.name.value,
    description: c.description.value === '' ? null : c.description.value,
    transport: c.transport.value,
    schedule: {
      type: c.type.value,
      // Empty means "not given", so the API answers with its own message for a missing field.
      ...(recurring ? { cron: c.cron.value.trim() || null } : { at: c.at.value.trim() || null }),
      ...(c.timezone.value.trim() ? { timezone: c.timezone.value.trim() } : {}),
    },
    payload,
    catch_up: c.catchUp.value,
  }
  if (worker) draft.task = c.task.value.trim() || null
  else
    draft.callback = {
      url: c.url.value.trim() || null,
      method: c.method.value,
      // The form does not edit headers: the cue's own are kept.
      headers: baseline?.callback.headers ?? {},
    }
  if (c.maxAttempts.value.trim() !== '') {
    draft.retry = {
      max_attempts: numberOrText(c.maxAttempts.value),
      // The form does not edit the backoff: the cue's own is kept (the API's default for a new one).
      ...(baseline ? { backoff_seconds: baseline.retry.backoff_seconds } : {}),
    }
  }
  Object.assign(draft, outcomeDraft(c, baseline))
  return draft
}

/** Verification, deadlines, alerts and what runs on failure or success (issue 12 §3–5). */
function outcomeDraft(c: Controls, baseline: CueRecord | null): Draft {
  const draft: Draft = {
    verification: { ...baseline?.verification, mode: c.verification.value },
    on_failure: {
      email: c.failureEmail.checked,
      webhook: c.failureWebhook.value.trim() || null,
      pause: c.failurePause.checked,
    },
    on_success_fire: c.successFire.value.trim() || null,
  }
  const timeout = c.timeoutSeconds.value.trim()
  const deadline = c.deadlineSeconds.value.trim()
  // Both or neither: the API fills a missing one with its default, which would undo an edit.
  if (timeout || deadline)
    draft.delivery = {
      ...(timeout ? { timeout_seconds: numberOrText(timeout) } : {}),
      ...(deadline ? { outcome_deadline_seconds: numberOrText(deadline) } : {}),
    }
  const failures = c.consecutiveFailures.value.trim()
  // A PATCH replaces `alerts` whole: an empty field sends the other settings without the count
  // (null when there are none), which is the API's default of 3.
  const { consecutive_failures: _, ...others } = baseline?.alerts ?? {}
  if (failures) draft.alerts = { ...others, consecutive_failures: numberOrText(failures) }
  else draft.alerts = Object.keys(others).length ? others : null
  return draft
}

export function fill(c: Controls, cue: CueRecord): void {
  c.name.value = cue.name
  c.description.value = cue.description ?? ''
  c.transport.value = cue.transport
  c.task.value = cue.transport === 'worker' ? (cue.task ?? '') : ''
  c.url.value = cue.callback.url ?? ''
  c.method.value = cue.callback.method
  c.type.value = cue.schedule.type
  c.cron.value = cue.schedule.cron ?? ''
  c.at.value = cue.schedule.at ?? ''
  c.timezone.value = cue.schedule.timezone
  c.payload.value = JSON.stringify(cue.payload, null, 2)
  c.maxAttempts.value = String(cue.retry.max_attempts)
  c.catchUp.value = cue.catch_up
  c.verification.value = cue.verification?.mode ?? 'none'
  c.timeoutSeconds.value = String(cue.delivery.timeout_seconds)
  c.deadlineSeconds.value = String(cue.delivery.outcome_deadline_seconds)
  const failures = cue.alerts?.consecutive_failures
  c.consecutiveFailures.value = failures === undefined || failures === null ? '' : String(failures)
  c.failureEmail.checked = cue.on_failure?.email ?? true
  c.failureWebhook.value = cue.on_failure?.webhook ?? ''
  c.failurePause.checked = cue.on_failure?.pause ?? false
  c.successFire.value = cue.on_success_fire ?? ''
}

/** The keys of `next` whose values differ from `base` (what a PATCH must carry). */
export function changes(next: Draft, base: Draft): Draft {
  const out: Draft = {}
  for (const [k, v] of Object.entries(next)) if (JSON.stringify(v) !== JSON.stringify(base[k])) out[k] = v
  return out
}

/** Engine refusals carry no details; the code says which field they are about. */
export function pathsOf(error: ApiError, type: string): ErrorDetail[] {
  if (error.details.length) return error.details
  const byCode: Record<string, string> = {
    invalid_schedule: type === 'recurring' ? 'schedule.cron' : 'schedule.at',
    invalid_timezone: 'schedule.timezone',
    duplicate_cue_name: 'name',
    webhook_url_not_allowed: 'callback.url',
  }
  const path = byCode[error.code] ?? /^(?:body: )?([a-z_]+(?:\.[a-z_]+)*): /.exec(error.message)?.[1]
  return path ? [{ path, message: error.message }] : []
}

export function makeControls(): Controls {
  const input = (name: string, props: Record<string, string> = {}) =>
    h('input', { name, autocomplete: 'off', spellcheck: 'false', ...props })
  const select = (name: string, options: readonly (readonly [string, string])[]) =>
    h(
      'select',
      { name },
      options.map(([value, label]) => h('option', { value }, label)),
    )
  return {
    name: input('name'),
    description: input('description', { spellcheck: 'true' }),
    transport: select('transport', [
      ['worker', 'Worker: a worker claims each execution'],
      ['webhook', 'Webhook: the server calls a URL'],
    ]),
    task: input('task'),
    url: input('callback.url', { type: 'url', inputmode: 'url' }),
    method: select(
      'callback.method',
      METHODS.map((m) => [m, m]),
    ),
    type: select('schedule.type', [
      ['recurring', 'On a cron schedule'],
      ['once', 'Once, at a time'],
    ]),
    cron: input('schedule.cron', { class: 'mono', placeholder: '0 2 * * *' }),
    at: input('schedule.at', { class: 'mono', placeholder: '2026-12-01T09:00:00+01:00' }),
    timezone: input('schedule.timezone', { list: 'cue-zones' }),
    payload: h('textarea', { name: 'payload', rows: 5, class: 'mono', spellcheck: 'false' }),
    maxAttempts: input('retry.max_attempts', { inputmode: 'numeric', class: 'short' }),
    catchUp: select('catch_up', CATCH_UP),
    verification: select(
      'verification.mode',
      VERIFICATION_MODES.map((m) => [m, VERIFICATION_LABELS[m]]),
    ),
    timeoutSeconds: input('delivery.timeout_seconds', { inputmode: 'numeric', class: 'short' }),
    deadlineSeconds: input('delivery.outcome_deadline_seconds', { inputmode: 'numeric', class: 'short' }),
    consecutiveFailures: input('alerts.consecutive_failures', { inputmode: 'numeric', class: 'short' }),
    failureEmail: input('on_failure.email', { type: 'checkbox' }),
    failureWebhook: input('on_failure.webhook', { type: 'url', inputmode: 'url' }),
    failurePause: input('on_failure.pause', { type: 'checkbox' }),
    successFire: input('on_success_fire', { class: 'mono', placeholder: 'cue ID' }),
  }
}

/** A labelled control with its hint and a slot for the API's message about it. */
export function field(control: HTMLElement, label: string, hint?: string): HTMLElement {
  control.id ||= uid('cue-field')
  const hintId = hint ? `${control.id}-hint` : null
  const errorId = `${control.id}-error`
  control.setAttribute('aria-describedby', [hintId, errorId].filter(Boolean).join(' '))
  return h(
    'div',
    { class: 'field', 'data-field': control.getAttribute('name') },
    h('label', { for: control.id }, label),
    control,
    hint ? h('p', { class: 'hint', id: hintId }, hint) : null,
    h('p', { class: 'field-error', id: errorId }),
  )
}

/** A checkbox with its label after it, and a slot for the API's message about it. */
export function checkbox(control: HTMLInputElement, label: string): HTMLElement {
  control.id ||= uid('cue-field')
  const errorId = `${control.id}-error`
  control.setAttribute('aria-describedby', errorId)
  return h(
    'div',
    { class: 'field checkbox', 'data-field': control.getAttribute('name') },
    control,
    h('label', { for: control.id }, label),
    h('p', { class: 'field-error', id: errorId }),
  )
}

export function clearFieldError(control: HTMLElement): void {
  control.removeAttribute('aria-invalid')
  const slot = document.getElementById(`${control.id}-error`)
  if (slot) slot.textContent = ''
}

export function clearErrors(c: Controls, summary: HTMLElement): void {
  patch(summary)
  for (const control of Object.values(c)) clearFieldError(control)
}

/**
 * The API's answer next to the form: its message and every detail at the top, and each detail by
 * the field it names (the longest field path that prefixes it, `callback.headers.X` → the URL's group).
 */
export function showErrors(c: Controls, summary: HTMLElement, message: string, details: ErrorDetail[]): void {
  const byName = new Map(Object.values(c).map((el) => [el.getAttribute('name') ?? '', el]))
  let first: HTMLElement | null = null
  for (const d of details) {
    const parts = d.path.split('.')
    let control: HTMLElement | undefined
    for (let n = parts.length; n > 0 && !control; n--) control = byName.get(parts.slice(0, n).join('.'))
    if (!control) continue
    control.setAttribute('aria-invalid', 'true')
    const slot = document.getElementById(`${control.id}-error`)
    if (slot) slot.textContent = slot.textContent ? `${slot.textContent} ${d.message}` : d.message
    first ??= control
  }
  patch(
    summary,
    h(
      'div',
      { class: 'error', role: 'alert' },
      h('p', null, h('strong', null, 'Not saved. '), message),
      details.length
        ? h(
            'ul',
            null,
            details.map((d) => h('li', null, d.path ? [h('code', null, d.path), ': '] : null, d.message)),
          )
        : null,
    ),
  )
  ;(first ?? summary).focus()
}
