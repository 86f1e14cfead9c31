import type { AttemptRecord, ExecutionRecord, ExecutionSummary } from '@cuekit/protocol'
import { type Api, ApiError } from './api.ts'
import { h } from './dom.ts'
import { badge } from './ui.ts'

const CONCURRENCY = 4

type Last = Pick<AttemptRecord, 'worker_id' | 'outcome'> | null

/**
 * The worker of an execution's last attempt and how that attempt ended, for the rows of a table:
 * a summary names a worker only while its lease is live, so this reads the execution's history, a
 * few requests at a time, once per version of the execution (its `updated_at`).
 */
export class LastAttempts {
  /** `<id>@<updated_at>` → its last attempt, or null when it has none or is gone. */
  private readonly known = new Map<string, Last>()
  private readonly queued = new Map<string, string>()
  private running = 0
  private stopped = false

  constructor(private readonly api: Api) {}

  /** The worker and outcome, or a placeholder replaced in place once the history has been read. */
  cell(e: ExecutionSummary): HTMLElement {
    const version = `${e.execution_id}@${e.updated_at}`
    const known = this.known.get(version)
    if (known !== undefined) return render(known)
    this.queued.set(version, e.execution_id)
    this.pump()
    return h('span', { class: 'muted', 'data-last-attempt': version, title: 'Reading its history…' }, '…')
  }

  stop(): void {
    this.stopped = true
    this.queued.clear()
  }

  private pump(): void {
    while (!this.stopped && this.running < CONCURRENCY && this.queued.size > 0) {
      const [version, id] = this.queued.entries().next().value as [string, string]
      this.queued.delete(version)
      this.running += 1
      void this.read(version, id).finally(() => {
        this.running -= 1
        this.pump()
      })
    }
  }

  private async read(version: string, id: string): Promise<void> {
    let last: Last
    try {
      const record = await this.api.get<ExecutionRecord>(`/v1/executions/${encodeURIComponent(id)}`)
      const a = record.history.at(-1)
      last = a ? { worker_id: a.worker_id, outcome: a.outcome } : null
      // Read after the list was: it is this version or a later one, right for this row either way.
      this.known.set(version, last)
    } catch (error) {
      last = null
      // Gone (retention) stays unknown; anything else is tried again on the next render.
      if (error instanceof ApiError && error.status === 404) this.known.set(version, null)
    }
    for (const el of document.querySelectorAll(`[data-last-attempt="${CSS.escape(version)}"]`)) {
      el.replaceWith(render(last))
    }
  }
}

function render(last: Last): HTMLElement {
  if (!last?.worker_id) return h('span', { class: 'muted' }, '—')
  return h(
    'span',
    { class: 'last-attempt' },
    h('code', { title: 'The worker of the last attempt' }, last.worker_id),
    last.outcome ? [' ', badge(last.outcome)] : null,
  )
}
