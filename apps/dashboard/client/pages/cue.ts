import type { CueDetail, CueRecord, ExecutionRecord, PreviewCueResponse } from '@cuekit/protocol'
import { type Api, ApiError, type ErrorDetail } from '../api.ts'
import { type Child, h, patch, uid } from '../dom.ts'
import { relative, weekday } from '../format.ts'
import type { Page, PageContext } from '../page.ts'
import { badge, button, errorBox, facts, link, time, timeAgo } from '../ui.ts'

/**
 * One cue's page: create (`#/cues/new`) or edit (`#/cues/<id>`), with pause, resume, fire and
 * delete. The form checks nothing itself: the API's answer (message and field details) is shown
 * next to the fields it names, so the dashboard and the API can never disagree on a rule. The cron
 * preview asks the server too (POST /v1/cues/preview), which computes ticks as the scheduler does.
 */

const PREVIEW_DEBOUNCE_MS = 300
const CATCH_UP = [
  ['run_once_if_missed', 'Run once if missed (default)'],
  ['skip_missed', 'Skip missed runs'],
  ['replay_all_missed', 'Replay every missed run (up to 100)'],
] as const
const METHODS = ['POST', 'GET', 'PUT', 'PATCH'] as const

/** A notice to show on a cue's page once it opens (after a create navigates to it). */
let flash: { id: string; text: string } | null = null

// ---------------------------------------------------------------- shared with the list

/** What a cue fires: the task a worker claims, or the host a webhook goes to. */
export function fires(c: CueRecord): Child {
  if (c.transport === 'webhook') {
    const url = c.callback?.url ?? ''
    let host = url
    try {
      host = new URL(url).host
    } catch {
      // Shown as stored.
    }
    return h(
      'span',
      { class: 'fires' },
      h('code', { title: url }, host || '—'),
      h('span', { class: 'muted block' }, `webhook ${c.callback?.method ?? 'POST'}`),
    )
  }
  const task = c.task ?? 'default'
  return h(
    'span',
    { class: 'fires' },
    link(`#/executions?task=${encodeURIComponent(task)}`, h('code', null, task), {
      title: `Executions of task ${task}`,
    }),
    h('span', { class: 'muted block' }, 'worker task'),
  )
}

/** Pause or resume, fire now, delete (after a confirmation). `after` runs when one succeeded. */
export function cueActions(
  ctx: PageContext,
  cue: CueRecord,
  after: () => void,
  onDeleted: () => void = after,
): HTMLElement[] {
  const path = `/v1/cues/${encodeURIComponent(cue.id)}`
  const run = async (verb: string, action: () => Promise<string>, done = after) => {
    try {
      ctx.announce(await action())
      done()
    } catch (error) {
      ctx.announce(`Could not ${verb} cue ${cue.name}: ${error instanceof Error ? error.message : error}`)
    }
  }
  const pause = cue.status === 'active'
  return [
    cue.status === 'active' || cue.status === 'paused'
      ? button(
          pause ? 'Pause' : 'Resume',
          () =>
            void run(pause ? 'pause' : 'resume', async () => {
              await ctx.api.patch(path, { status: pause ? 'paused' : 'active' })
              return `Cue ${cue.name} ${pause ? 'paused' : 'resumed'}.`
            }),
          {
            class: 'secondary',
            'aria-label': `${pause ? 'Pause' : 'Resume'} cue ${cue.name}`,
            'data-key': `${pause ? 'pause' : 'resume'}-${cue.id}`,
          },
        )
      : null,
    button(
      'Fire now',
      () =>
        void run('fire', async () => {
          const created = await ctx.api.post<ExecutionRecord>(`${path}/fire`)
          return `Fired cue ${cue.name}: execution ${created.execution_id}.`
        }),
      { 'aria-label': `Fire cue ${cue.name} now`, 'data-key': `fire-${cue.id}` },
    ),
    button(
      'Delete',
      () => {
        if (
          !window.confirm(
            `Delete cue ${cue.name}? It stops firing for good; the executions it already fired stay.`,
          )
        )
          return
        void run(
          'delete',
          async () => {
            await ctx.api.del(path)
            return `Deleted cue ${cue.name}.`
          },
          onDeleted,
        )
      },
      { class: 'danger', 'aria-label': `Delete cue ${cue.name}`, 'data-key': `delete-${cue.id}` },
    ),
  ].filter((b): b is HTMLButtonElement => b !== null)
}

// ---------------------------------------------------------------- the form

/** The form's fields, each named by the path the API uses for it in error details. */
interface Controls {
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
}

/** A request body in the API's create shape; an edit sends the keys that differ from the cue's. */
type Draft = Record<string, unknown>

/** A problem the form finds before it can send anything at all (the payload is not JSON). */
class FormProblem extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message)
  }
}

function browserZone(): string {
  return Intl.DateTimeFormat().resolvedOptions().timeZone || 'UTC'
}

let zones: string[] | null = null
function zoneOptions(): HTMLElement[] {
  zones ??= ['UTC', ...Intl.supportedValuesOf('timeZone').filter((z) => z !== 'UTC')]
  return zones.map((z) => h('option', { value: z }))
}

/** Numbers as numbers; anything else is sent as typed, and the API says what is wrong with it. */
function numberOrText(value: string): unknown {
  const v = value.trim()
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : v
}

function draftOf(c: Controls, baseline: CueRecord | null): Draft {
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
  return draft
}

function fill(c: Controls, cue: CueRecord): void {
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
}

/** The keys of `next` whose values differ from `base` (what a PATCH must carry). */
function changes(next: Draft, base: Draft): Draft {
  const out: Draft = {}
  for (const [k, v] of Object.entries(next)) if (JSON.stringify(v) !== JSON.stringify(base[k])) out[k] = v
  return out
}

/** Engine refusals carry no details; the code says which field they are about. */
function pathsOf(error: ApiError, type: string): ErrorDetail[] {
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

export function cuePage(ctx: PageContext): Page {
  const id = decodeURIComponent(ctx.rest[0] ?? '')
  const creating = id === 'new'
  const heading = h('h1', { tabindex: -1 }, creating ? 'New cue' : 'Cue')
  const actions = h('div', { class: 'actions' })
  const summary = h('div', { class: 'cue-facts' })
  const notice = h('div', { role: 'status' })
  const errors = h('div', { class: 'form-errors', id: uid('form-errors'), tabindex: -1 })
  const formRegion = h('div')
  const view = h(
    'section',
    null,
    h('div', { class: 'page-header' }, h('p', { class: 'crumbs' }, link('#/cues', 'Cues')), heading, actions),
    notice,
    summary,
    formRegion,
  )
  let record: CueRecord | null = null
  let controls: Controls | null = null
  let lastHeader = ''
  let saving = false
  let preview: Preview | null = null

  const showNotice = (text: string | null, warning: string | null = null) =>
    patch(
      notice,
      text ? h('p', { class: 'notice' }, text) : null,
      warning ? h('p', { class: 'notice warn' }, `Warning from the API: ${warning}`) : null,
    )

  const renderHeader = (cue: CueRecord) => {
    const key = JSON.stringify(cue)
    if (key === lastHeader) return
    lastHeader = key
    const now = ctx.clock.now()
    const tz = cue.schedule.timezone
    heading.replaceChildren('Cue ', h('span', { class: 'cue-title' }, cue.name))
    document.title = `Cue ${cue.name} · Cuekit`
    patch(
      actions,
      badge(cue.status),
      cueActions(
        ctx,
        cue,
        () => ctx.refresher.soon(0),
        () => ctx.navigate('#/cues'),
      ),
    )
    patch(
      summary,
      facts([
        ['Fires', fires(cue)],
        ['Next run', timeAgo(cue.next_run, now, { timeZone: tz, empty: 'none' })],
        ['Last run', timeAgo(cue.last_run, now, { timeZone: tz, empty: 'never' })],
        ['Fired', `${cue.fired_count} by the schedule`],
        [
          'Executions',
          link(`#/executions?cue=${encodeURIComponent(cue.id)}`, 'Executions of this cue', {
            'data-key': 'cue-executions',
          }),
        ],
      ]),
    )
  }

  const submit = async (e: Event) => {
    e.preventDefault()
    if (!controls || saving) return
    const c = controls
    clearErrors(c, errors)
    showNotice(null)
    let body: Draft
    try {
      const draft = draftOf(c, record)
      body = record ? changes(draft, draftFromRecord(record)) : draft
    } catch (error) {
      if (error instanceof FormProblem) {
        showErrors(c, errors, error.message, [{ path: error.path, message: error.message }])
        return
      }
      throw error
    }
    if (record && Object.keys(body).length === 0) {
      showNotice('Nothing changed: there is nothing to save.')
      return
    }
    saving = true
    const submitButton = view.querySelector<HTMLButtonElement>('button[type="submit"]')
    if (submitButton) submitButton.disabled = true
    try {
      if (!record) {
        const created = await ctx.api.post<CueRecord>('/v1/cues', body)
        flash = { id: created.id, text: `Created cue ${created.name}.` }
        if (created.warning) flash.text += ` Warning from the API: ${created.warning}`
        ctx.announce(flash.text)
        ctx.navigate(`#/cues/${encodeURIComponent(created.id)}`)
        return
      }
      const saved = await ctx.api.patch<CueRecord>(`/v1/cues/${encodeURIComponent(record.id)}`, body)
      record = saved
      fill(c, saved)
      renderHeader(saved)
      showNotice(`Saved ${Object.keys(body).join(', ')}.`, saved.warning)
      ctx.announce(`Saved cue ${saved.name}.`, false)
    } catch (error) {
      if (!(error instanceof ApiError)) {
        showErrors(
          c,
          errors,
          `Could not reach the server: ${error instanceof Error ? error.message : error}`,
          [],
        )
        return
      }
      const details = pathsOf(error, c.type.value)
      showErrors(c, errors, `${error.message} (${error.status} ${error.code})`, details)
    } finally {
      saving = false
      if (submitButton) submitButton.disabled = false
    }
  }

  const draftFromRecord = (cue: CueRecord): Draft => {
    // The same function over a form filled from the cue: only what the user changed differs.
    const shadow = makeControls()
    fill(shadow, cue)
    return draftOf(shadow, cue)
  }

  const build = (cue: CueRecord | null) => {
    const c = makeControls()
    controls = c
    if (cue) fill(c, cue)
    else {
      c.transport.value = 'worker'
      c.type.value = 'recurring'
      c.timezone.value = browserZone()
      c.payload.value = '{}'
      c.catchUp.value = 'run_once_if_missed'
    }
    const p = new Preview(ctx.api, c, () => ctx.clock.now())
    preview = p
    const workerFields = h(
      'div',
      { class: 'field-group' },
      field(c.task, 'Task', 'The task workers claim it by. Empty: payload.task, else "default".'),
    )
    const webhookFields = h(
      'div',
      { class: 'field-group' },
      field(c.url, 'Callback URL', 'The server POSTs each execution here, signed.'),
      field(c.method, 'Method'),
    )
    const cronField = field(
      c.cron,
      'Cron',
      'Five fields (minute hour day-of-month month day-of-week), or six with seconds first.',
    )
    const atField = field(
      c.at,
      'At',
      'ISO 8601, e.g. 2026-12-01T09:00:00+01:00; without an offset it is UTC.',
    )
    const toggle = () => {
      workerFields.hidden = c.transport.value !== 'worker'
      webhookFields.hidden = c.transport.value === 'worker'
      cronField.hidden = c.type.value !== 'recurring'
      atField.hidden = c.type.value === 'recurring'
    }
    c.transport.addEventListener('change', toggle)
    c.type.addEventListener('change', () => {
      toggle()
      p.soon(0)
    })
    for (const el of [c.cron, c.at, c.timezone]) el.addEventListener('input', () => p.soon())
    // A field the API complained about stops saying so once it is edited.
    for (const el of Object.values(c)) el.addEventListener('input', () => clearFieldError(el))
    toggle()
    const form = h(
      'form',
      {
        class: 'cue-form',
        novalidate: true,
        'aria-label': cue ? `Edit cue ${cue.name}` : 'New cue',
        'aria-describedby': errors.id,
        onSubmit: (e: Event) => void submit(e),
      },
      errors,
      h(
        'fieldset',
        null,
        h('legend', null, 'Cue'),
        field(c.name, 'Name', 'Unique in this tenant.'),
        field(c.description, 'Description'),
      ),
      h(
        'fieldset',
        null,
        h('legend', null, 'Delivery'),
        field(c.transport, 'Transport'),
        workerFields,
        webhookFields,
      ),
      h(
        'fieldset',
        null,
        h('legend', null, 'Schedule'),
        field(c.type, 'Runs'),
        cronField,
        atField,
        field(c.timezone, 'Time zone', 'An IANA zone, e.g. Europe/Paris. The cron is read in it.'),
        h('datalist', { id: 'cue-zones' }, zoneOptions()),
        p.view,
      ),
      h(
        'fieldset',
        null,
        h('legend', null, 'Executions'),
        field(c.payload, 'Payload (JSON object)'),
        field(c.maxAttempts, 'Max attempts', "Per execution, retries included. Empty: the API's default."),
        field(c.catchUp, 'After downtime'),
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit' }, cue ? 'Save changes' : 'Create cue'),
        link('#/cues', 'Cancel', { class: 'button-link' }),
      ),
    )
    patch(formRegion, form)
    p.soon(0)
  }

  return {
    title: creating ? 'New cue' : 'Cue',
    view,
    liveIntervalMs: 15_000,
    // A fire or a tick (of this cue, maybe: events do not say) moves its next and last run.
    onEvent: () => !creating,
    dispose: () => preview?.stop(),
    async refresh() {
      if (creating) {
        if (!controls) build(null)
        return
      }
      let cue: CueDetail
      try {
        cue = await ctx.api.get<CueDetail>(`/v1/cues/${encodeURIComponent(id)}`, { execution_limit: 1 })
      } catch (error) {
        if (error instanceof ApiError && error.status === 404) {
          patch(formRegion, errorBox(`No cue ${id} in this tenant (it may have been deleted).`))
          patch(actions)
          patch(summary)
          return
        }
        throw error
      }
      renderHeader(cue)
      if (!controls) {
        record = cue
        build(cue)
        if (flash?.id === id) showNotice(flash.text)
        flash = null
      }
    },
  }
}

function makeControls(): Controls {
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
  }
}

/** A labelled control with its hint and a slot for the API's message about it. */
function field(control: HTMLElement, label: string, hint?: string): HTMLElement {
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

function clearFieldError(control: HTMLElement): void {
  control.removeAttribute('aria-invalid')
  const slot = document.getElementById(`${control.id}-error`)
  if (slot) slot.textContent = ''
}

function clearErrors(c: Controls, summary: HTMLElement): void {
  patch(summary)
  for (const control of Object.values(c)) clearFieldError(control)
}

/**
 * The API's answer next to the form: its message and every detail at the top, and each detail by
 * the field it names (the longest field path that prefixes it, `callback.headers.X` → the URL's group).
 */
function showErrors(c: Controls, summary: HTMLElement, message: string, details: ErrorDetail[]): void {
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

// ---------------------------------------------------------------- the cron preview

/** The next five runs as the user types, computed by the server, shown in the cue's zone. */
class Preview {
  readonly view: HTMLElement
  private timer: ReturnType<typeof setTimeout> | null = null
  private seq = 0

  constructor(
    private readonly api: Api,
    private readonly c: Controls,
    private readonly now: () => number,
  ) {
    this.view = h('div', { class: 'preview', 'aria-live': 'polite', 'data-preview': 'idle' })
  }

  stop(): void {
    if (this.timer) clearTimeout(this.timer)
    this.seq += 1
  }

  soon(ms = PREVIEW_DEBOUNCE_MS): void {
    if (this.timer) clearTimeout(this.timer)
    // What is shown is for the text before this keystroke until the answer for this one arrives.
    this.view.setAttribute('aria-busy', 'true')
    this.timer = setTimeout(() => void this.run(), ms)
  }

  private async run(): Promise<void> {
    const seq = ++this.seq
    const recurring = this.c.type.value === 'recurring'
    const value = (recurring ? this.c.cron : this.c.at).value.trim()
    const timezone = this.c.timezone.value.trim()
    if (!value) {
      this.show(
        'idle',
        h(
          'p',
          { class: 'hint' },
          recurring ? 'Type a cron expression to see its next runs.' : 'Type a time to see when it runs.',
        ),
      )
      return
    }
    const schedule = {
      type: recurring ? 'recurring' : 'once',
      ...(recurring ? { cron: value } : { at: value }),
      ...(timezone ? { timezone } : {}),
    }
    try {
      const res = await this.api.post<PreviewCueResponse>('/v1/cues/preview', { schedule })
      if (seq !== this.seq) return
      const now = this.now()
      this.show(
        'ok',
        h(
          'p',
          { class: 'preview-title' },
          res.next_runs.length === 1 ? 'Runs at, in ' : `Next ${res.next_runs.length} runs, in `,
          res.timezone,
          ':',
        ),
        h(
          'ol',
          { class: 'preview-runs' },
          res.next_runs.map((run) =>
            h(
              'li',
              null,
              h('span', { class: 'weekday' }, weekday(run, res.timezone)),
              ' ',
              time(run, res.timezone),
              h('span', { class: 'muted' }, ` ${relative(run, now)}`),
            ),
          ),
        ),
      )
    } catch (error) {
      if (seq !== this.seq) return
      this.show(
        'error',
        h(
          'p',
          { class: 'error-text' },
          error instanceof ApiError
            ? error.message
            : `No preview: ${error instanceof Error ? error.message : error}`,
        ),
      )
    }
  }

  private show(state: string, ...children: Child[]): void {
    this.view.dataset.preview = state
    this.view.removeAttribute('aria-busy')
    patch(this.view, ...children)
  }
}
