import type { ExecutionSummary, ListExecutionsResponse } from '@cuekit/protocol'
import { EXECUTION_STATUSES, OUTCOME_STATES } from '@cuekit/protocol/lifecycle'
import { type Child, h, patch } from '../dom.ts'
import { LastAttempts } from '../last-attempt.ts'
import type { Page, PageContext } from '../page.ts'
import { badge, button, executionLink, field, link, pageHeader, table, timeAgo } from '../ui.ts'

export const PAGE_SIZE = 25

// Cursors of the pages before the current one, for "Previous": the API pages forward only.
const history: { filters: string; cursors: string[] } = { filters: '', cursors: [] }

export function executionsPage(ctx: PageContext): Page {
  const status = ctx.params.get('status') ?? ''
  const task = ctx.params.get('task') ?? ''
  const cue = ctx.params.get('cue') ?? ''
  const worker = ctx.params.get('worker') ?? ''
  const outcome = ctx.params.get('outcome_state') ?? ''
  const cursor = ctx.params.get('cursor') ?? ''
  const filters = JSON.stringify([status, task, cue, worker, outcome])
  if (history.filters !== filters) {
    history.filters = filters
    history.cursors = []
  }

  const statusSelect = h(
    'select',
    { name: 'status' },
    h('option', { value: '' }, 'Any status'),
    EXECUTION_STATUSES.map((s) => h('option', { value: s, selected: s === status }, s)),
  )
  const outcomeSelect = h(
    'select',
    { name: 'outcome_state' },
    h('option', { value: '' }, 'Any outcome'),
    OUTCOME_STATES.map((s) => h('option', { value: s, selected: s === outcome }, s.replace(/_/g, ' '))),
  )
  const taskInput = h('input', { name: 'task', value: task, autocomplete: 'off' })
  const cueInput = h('input', { name: 'cue', value: cue, autocomplete: 'off', placeholder: 'cue ID' })
  const workerInput = h('input', { name: 'worker', value: worker, autocomplete: 'off' })
  const go = (params: Record<string, string>) => {
    const q = new URLSearchParams()
    for (const [k, v] of Object.entries(params)) if (v) q.set(k, v)
    ctx.navigate(`#/executions${q.size ? `?${q}` : ''}`)
  }
  const form = h(
    'form',
    {
      class: 'filters',
      'aria-label': 'Filter executions',
      onSubmit: (e: Event) => {
        e.preventDefault()
        go({
          status: statusSelect.value,
          outcome_state: outcomeSelect.value,
          task: taskInput.value.trim(),
          cue: cueInput.value.trim(),
          worker: workerInput.value.trim(),
        })
      },
    },
    field('Status', statusSelect),
    field('Outcome', outcomeSelect),
    field('Task', taskInput),
    field('Cue', cueInput),
    field('Worker', workerInput),
    h('button', { type: 'submit' }, 'Apply'),
    status || task || cue || worker || outcome
      ? link('#/executions', 'Clear filters', { class: 'button-link' })
      : null,
  )
  const region = h('div')
  const pager = h('nav', { class: 'pager', 'aria-label': 'Pages of executions' })
  const view = h(
    'section',
    null,
    pageHeader(
      'Executions',
      worker
        ? [
            'Newest first: the executions whose last claim was by worker ',
            h('code', null, worker),
            ". Each row names its last attempt's worker and how that attempt ended; open one for its whole history.",
          ]
        : 'Newest first. Open one for its payload, current lease and attempt history.',
    ),
    form,
    region,
    pager,
  )
  let last = ''
  const lastAttempts = new LastAttempts(ctx.api)

  return {
    title: 'Executions',
    view,
    liveIntervalMs: 15_000,
    onEvent: () => true,
    dispose: () => lastAttempts.stop(),
    async refresh() {
      const res = await ctx.api.get<ListExecutionsResponse>('/v1/executions', {
        status: status || undefined,
        task: task || undefined,
        cue_id: cue || undefined,
        worker_id: worker || undefined,
        outcome_state: outcome || undefined,
        cursor: cursor || undefined,
        limit: PAGE_SIZE,
      })
      const key = JSON.stringify(res)
      if (key === last) return
      last = key
      const now = ctx.clock.now()
      const pageNo = history.cursors.length + 1
      patch(
        region,
        executionsTable(
          res.executions,
          now,
          `Executions, page ${pageNo}${describe(status, task, cue, worker, outcome)}`,
          lastAttempts,
        ),
      )
      const base = { status, task, cue, worker, outcome_state: outcome }
      patch(
        pager,
        button(
          'Previous page',
          () => {
            const prev = history.cursors.pop()
            go({ ...base, cursor: prev ?? '' })
          },
          { disabled: cursor ? null : true, 'data-key': 'prev' },
        ),
        h('span', { class: 'page-no' }, `Page ${pageNo}`),
        button(
          'Next page',
          () => {
            history.cursors.push(cursor)
            go({ ...base, cursor: res.next_cursor ?? '' })
          },
          { disabled: res.has_more && res.next_cursor ? null : true, 'data-key': 'next' },
        ),
      )
    },
  }
}

function describe(status: string, task: string, cue: string, worker: string, outcome: string): string {
  const parts = [
    status && `status ${status}`,
    outcome && `outcome ${outcome.replace(/_/g, ' ')}`,
    task && `task ${task}`,
    cue && `cue ${cue}`,
    worker && `last claimed by ${worker}`,
  ].filter(Boolean)
  return parts.length ? `, ${parts.join(', ')}` : ''
}

export function executionsTable(
  executions: ExecutionSummary[],
  now: number,
  caption: string,
  lastAttempts: LastAttempts,
): HTMLElement {
  return table({
    caption,
    // The key columns first: on a phone only they are shown.
    columns: [
      { label: 'Execution' },
      { label: 'Task' },
      { label: 'Status' },
      { label: 'Worker' },
      { label: 'Outcome', secondary: true },
      { label: 'Attempt', numeric: true, secondary: true },
      { label: 'Updated', secondary: true },
      { label: 'Last error', secondary: true },
    ],
    rows: executions.map((e) => ({
      key: e.execution_id,
      cells: [
        executionLink(e.execution_id),
        e.task,
        statusCell(e, now),
        workerCell(e, lastAttempts),
        e.outcome_state ? badge(e.outcome_state) : h('span', { class: 'muted' }, '—'),
        `${e.attempt} of ${e.max_attempts}`,
        timeAgo(e.updated_at, now),
        e.error_message ? h('span', { class: 'error-text' }, truncate(e.error_message, 120)) : '',
      ],
    })),
    fitsPhone: true,
    empty: 'No executions match.',
  })
}

/** The status, and for work that waits for its time (scheduled, retrying) when it is due. */
export function statusCell(e: ExecutionSummary, now: number): Child {
  const waiting = e.status === 'scheduled' || e.status === 'retrying'
  return [
    badge(e.status),
    e.cancel_requested ? [' ', badge('cancel requested', 'cancel')] : null,
    waiting ? timeAgo(e.next_attempt_at ?? e.scheduled_for, now, { prefix: 'due' }) : null,
  ]
}

/** Who holds it now, or who ran its last attempt and how that ended (lease expired, say). */
export function workerCell(e: ExecutionSummary, lastAttempts: LastAttempts): Child {
  if (e.lease) return h('code', { title: 'Holds the lease now' }, e.lease.worker_id)
  if (e.attempt > 0) return lastAttempts.cell(e)
  return h('span', { class: 'muted' }, '—')
}

export function truncate(s: string, n: number): string {
  return s.length > n ? `${s.slice(0, n - 1)}…` : s
}
