import type {
  ExecutionRecord,
  ExecutionSummary,
  ListExecutionsResponse,
  TransitionResponse,
} from '@cuekit/protocol'
import { ApiError } from '../api.ts'
import { h, patch } from '../dom.ts'
import { LastAttempts } from '../last-attempt.ts'
import type { Page, PageContext } from '../page.ts'
import { badge, button, executionLink, pageHeader, table, timeAgo } from '../ui.ts'
import { statusCell, truncate, workerCell } from './executions.ts'

const UNFINISHED = 'pending,scheduled,retrying,delivering'
const LIMIT = 100

export function failedPage(ctx: PageContext): Page {
  const selected = new Set<string>()
  /** Original → replay, so a replayed row says where its new run is (the original stays failed). */
  const replays = new Map<string, string>()
  let failed: ExecutionSummary[] = []
  let busy = false
  const lastAttempts = new LastAttempts(ctx.api)

  const failedSummary = h('p', { class: 'summary' })
  const bulk = h('div', { class: 'actions' })
  const failedRegion = h('div')
  const openRegion = h('div')
  const view = h(
    'section',
    null,
    pageHeader(
      'Failed',
      'Terminal failures with their last error. Replay runs one again as a new execution; the original keeps its history.',
    ),
    h(
      'section',
      { 'aria-labelledby': 'failed-title' },
      h('h2', { id: 'failed-title' }, 'Failed executions'),
      failedSummary,
      bulk,
      failedRegion,
    ),
    h(
      'section',
      { 'aria-labelledby': 'open-title' },
      h('h2', { id: 'open-title' }, 'Not finished'),
      h(
        'p',
        { class: 'intro' },
        'Pending, scheduled, retrying and in-flight executions. Cancelling one in flight asks its worker to stop at its next heartbeat.',
      ),
      openRegion,
    ),
  )
  let lastFailed = ''
  let lastOpen = ''

  const replayOne = async (id: string): Promise<string> => {
    const created = await ctx.api.post<ExecutionRecord>(`/v1/executions/${encodeURIComponent(id)}/replay`)
    replays.set(id, created.execution_id)
    selected.delete(id)
    return created.execution_id
  }

  const replay = async (ids: string[]) => {
    if (busy || ids.length === 0) return
    busy = true
    renderBulk()
    const errors: string[] = []
    let done = 0
    // A few at a time: a bulk replay of hundreds must not flood the server.
    const queue = [...ids]
    await Promise.all(
      Array.from({ length: Math.min(4, queue.length) }, async () => {
        for (let id = queue.shift(); id !== undefined; id = queue.shift()) {
          try {
            await replayOne(id)
            done += 1
          } catch (error) {
            errors.push(`${id}: ${error instanceof ApiError ? error.message : String(error)}`)
          }
        }
      }),
    )
    busy = false
    ctx.announce(
      ids.length === 1 && done === 1
        ? `Replayed ${ids[0]} as ${replays.get(ids[0]!)}.`
        : `Replayed ${done} of ${ids.length} executions.${errors.length ? ` Failed: ${errors.join('; ')}` : ''}`,
    )
    lastFailed = ''
    ctx.refresher.soon(0)
  }

  const cancel = async (e: ExecutionSummary) => {
    if (!window.confirm(`Cancel execution ${e.execution_id} (${e.status})?`)) return
    try {
      const res = await ctx.api.post<TransitionResponse>(
        `/v1/executions/${encodeURIComponent(e.execution_id)}/cancel`,
      )
      ctx.announce(
        res.status === 'cancelled'
          ? `Execution ${e.execution_id} cancelled.`
          : `Cancel requested for ${e.execution_id}: its worker learns it on its next heartbeat.`,
      )
    } catch (error) {
      ctx.announce(`Could not cancel ${e.execution_id}: ${error instanceof ApiError ? error.message : error}`)
    }
    ctx.refresher.soon(0)
  }

  const renderBulk = () => {
    const ids = failed.filter((e) => selected.has(e.execution_id)).map((e) => e.execution_id)
    patch(
      bulk,
      button(busy ? 'Replaying…' : `Replay selected (${ids.length})`, () => void replay(ids), {
        disabled: busy || ids.length === 0 ? true : null,
        'data-key': 'bulk-replay',
      }),
    )
  }

  const renderFailed = (now: number) => {
    const all = failed.length > 0 && failed.every((e) => selected.has(e.execution_id))
    const selectAll = h('input', {
      type: 'checkbox',
      checked: all,
      'aria-label': 'Select all failed executions',
      'data-key': 'select-all',
      onChange: (ev: Event) => {
        const on = (ev.target as HTMLInputElement).checked
        for (const e of failed) {
          if (on) selected.add(e.execution_id)
          else selected.delete(e.execution_id)
        }
        renderFailed(ctx.clock.now())
      },
    })
    patch(
      failedRegion,
      table({
        caption: 'Failed executions, newest first',
        rowHeader: 1,
        columns: [
          // On a phone: what failed, why, and the Replay button; the execution's page has the rest.
          { label: 'Select', header: selectAll },
          { label: 'Execution' },
          { label: 'Task' },
          { label: 'Worker', secondary: true },
          { label: 'Failed', secondary: true },
          { label: 'Reason', secondary: true },
          { label: 'Last error' },
          { label: 'Attempts', numeric: true, secondary: true },
          { label: 'Actions', hiddenLabel: true },
        ],
        fitsPhone: true,
        rows: failed.map((e) => {
          const replayedAs = replays.get(e.execution_id)
          return {
            key: e.execution_id,
            cells: [
              h('input', {
                type: 'checkbox',
                checked: selected.has(e.execution_id),
                'aria-label': `Select ${e.execution_id}`,
                'data-key': `select-${e.execution_id}`,
                onChange: (ev: Event) => {
                  if ((ev.target as HTMLInputElement).checked) selected.add(e.execution_id)
                  else selected.delete(e.execution_id)
                  renderFailed(ctx.clock.now())
                },
              }),
              executionLink(e.execution_id),
              e.task,
              workerCell(e, lastAttempts),
              timeAgo(e.finished_at ?? e.updated_at, now),
              e.failure_reason ? badge(e.failure_reason) : '',
              e.error_message ? h('span', { class: 'error-text' }, truncate(e.error_message, 160)) : '',
              `${e.attempt} of ${e.max_attempts}`,
              replayedAs
                ? h('span', null, 'Replayed as ', executionLink(replayedAs))
                : button('Replay', () => void replay([e.execution_id]), {
                    'aria-label': `Replay ${e.execution_id}`,
                    'data-key': `replay-${e.execution_id}`,
                    disabled: busy ? true : null,
                  }),
            ],
          }
        }),
        empty: 'No failed executions.',
      }),
    )
    renderBulk()
  }

  return {
    title: 'Failed',
    view,
    liveIntervalMs: 15_000,
    onEvent: () => true,
    dispose: () => lastAttempts.stop(),
    async refresh() {
      const [f, open] = await Promise.all([
        ctx.api.get<ListExecutionsResponse>('/v1/executions', { status: 'failed', limit: LIMIT }),
        ctx.api.get<ListExecutionsResponse>('/v1/executions', { status__in: UNFINISHED, limit: LIMIT }),
      ])
      const now = ctx.clock.now()
      failed = f.executions
      for (const id of selected) if (!failed.some((e) => e.execution_id === id)) selected.delete(id)
      failedSummary.textContent = `${f.executions.length}${f.has_more ? '+' : ''} failed execution${f.executions.length === 1 ? '' : 's'}${f.has_more ? ` (the newest ${LIMIT} shown)` : ''}`
      const fKey = JSON.stringify(f)
      if (fKey !== lastFailed) {
        lastFailed = fKey
        renderFailed(now)
      }
      const oKey = JSON.stringify(open.executions.map(({ lease, ...e }) => ({ ...e, w: lease?.worker_id })))
      if (oKey === lastOpen) return
      lastOpen = oKey
      patch(
        openRegion,
        table({
          caption: `Not finished${open.has_more ? ` (the newest ${LIMIT} shown)` : ''}`,
          columns: [
            { label: 'Execution' },
            { label: 'Task' },
            { label: 'Status' },
            { label: 'Worker', secondary: true },
            { label: 'Attempt', numeric: true, secondary: true },
            { label: 'Last error', secondary: true },
            { label: 'Actions', hiddenLabel: true },
          ],
          fitsPhone: true,
          rows: open.executions.map((e) => ({
            key: e.execution_id,
            cells: [
              executionLink(e.execution_id),
              e.task,
              statusCell(e, now),
              workerCell(e, lastAttempts),
              `${e.attempt} of ${e.max_attempts}`,
              e.error_message ? h('span', { class: 'error-text' }, truncate(e.error_message, 120)) : '',
              button('Cancel', () => void cancel(e), {
                class: 'danger',
                'aria-label': `Cancel ${e.execution_id}`,
                'data-key': `cancel-${e.execution_id}`,
                disabled: e.cancel_requested ? true : null,
              }),
            ],
          })),
          empty: 'Nothing pending or in flight.',
        }),
      )
    },
  }
}
