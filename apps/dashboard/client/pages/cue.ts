import type { CueDetail, CueRecord } from '@cuekit/protocol'
import { ApiError } from '../api.ts'
import { h, patch, uid } from '../dom.ts'
import type { Page, PageContext } from '../page.ts'
import { badge, errorBox, facts, link, timeAgo } from '../ui.ts'
import { cueActions, fires } from './cue-actions.ts'
import {
  browserZone,
  type Controls,
  changes,
  checkbox,
  clearErrors,
  clearFieldError,
  type Draft,
  draftOf,
  FormProblem,
  field,
  fill,
  makeControls,
  pathsOf,
  showErrors,
  zoneOptions,
} from './cue-form.ts'
import { outcomeFacts, statsSection } from './cue-outcomes.ts'
import { Preview } from './cue-preview.ts'

/**
 * One cue's page: create (`#/cues/new`) or edit (`#/cues/<id>`), with pause, resume, fire and
 * delete. The form's fields and the API's messages by them are in cue-form.ts; the cron preview,
 * which the server computes as its scheduler does, in cue-preview.ts.
 */

/** A notice to show on a cue's page once it opens (after a create navigates to it). */
let flash: { id: string; text: string } | null = null

export function cuePage(ctx: PageContext): Page {
  const id = decodeURIComponent(ctx.rest[0] ?? '')
  const creating = id === 'new'
  const heading = h('h1', { tabindex: -1 }, creating ? 'New cue' : 'Cue')
  const actions = h('div', { class: 'actions' })
  const summary = h('div', { class: 'cue-facts' })
  const stats = h('div', { class: 'cue-stats' })
  const notice = h('div', { role: 'status' })
  const errors = h('div', { class: 'form-errors', id: uid('form-errors'), tabindex: -1 })
  const formRegion = h('div')
  const view = h(
    'section',
    null,
    h('div', { class: 'page-header' }, h('p', { class: 'crumbs' }, link('#/cues', 'Cues')), heading, actions),
    notice,
    summary,
    stats,
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

  const renderHeader = (cue: CueRecord | CueDetail) => {
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
        ...outcomeFacts(cue),
      ]),
    )
    // A PATCH answers the cue without its stats: the ones shown stay until the next read.
    if ('execution_total' in cue) patch(stats, statsSection(cue))
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
      c.failureEmail.checked = true
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
        'fieldset',
        null,
        h('legend', null, 'Outcomes and alerts'),
        field(c.verification, 'Verification', 'What a reported success needs before it counts as verified.'),
        field(
          c.timeoutSeconds,
          'Delivery timeout (s)',
          "How long a webhook delivery waits for the HTTP answer. Empty: the API's default.",
        ),
        field(
          c.deadlineSeconds,
          'Outcome deadline (s)',
          "How long after delivery the outcome may take; then it is unknown and an alert is raised. Empty: the API's default.",
        ),
        field(
          c.consecutiveFailures,
          'Alert after consecutive failures',
          "Failures in a row that raise a consecutive_failures alert. Empty: the API's default (3).",
        ),
        h(
          'fieldset',
          { class: 'nested' },
          h('legend', null, 'When an execution fails for good'),
          checkbox(c.failureEmail, 'Send an email (when the server has SMTP)'),
          checkbox(c.failurePause, 'Pause the cue (a one-time cue becomes failed)'),
          field(c.failureWebhook, 'Post cue.failed to this URL', 'Signed like every webhook. Empty: none.'),
        ),
        field(
          c.successFire,
          'On success, fire cue',
          'The ID of a cue to fire when an execution of this one succeeds (a chain). Empty: none.',
        ),
      ),
      h(
        'div',
        { class: 'actions' },
        h('button', { type: 'submit' }, cue ? 'Save changes' : 'Create cue'),
        link('#/cues', 'Cancel', { class: 'button-link' }),
      ),
    )
    // A heading of its own, so the editor does not read as part of the stats above it.
    patch(formRegion, cue ? h('h2', { class: 'form-title' }, 'Edit this cue') : null, form)
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
