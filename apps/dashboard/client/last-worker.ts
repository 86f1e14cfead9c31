import type { ExecutionRecord } from '@cuekit/protocol'
import { type Api, ApiError } from './api.ts'
import { h } from './dom.ts'

const CONCURRENCY = 4

/**
 * The worker of a failed execution's last attempt, for the failed rows of a table. A summary names
 * a worker only while its lease is live, so this reads the execution's history: once per execution
 * (a failed execution's history no longer changes) and a few requests at a time.
 */
export class LastWorkers {
  /** Execution → worker, or null when it has no attempt or is gone. */
  private readonly known = new Map<string, string | null>()
  private readonly queued = new Set<string>()
  private running = 0
  private stopped = false

  constructor(private readonly api: Api) {}

  /** The worker, or a placeholder that is replaced in place once the history has been read. */
  cell(executionId: string): HTMLElement {
    const known = this.known.get(executionId)
    if (known !== undefined) return render(known)
    this.queued.add(executionId)
    this.pump()
    return h('span', { class: 'muted', 'data-last-worker': executionId, title: 'Reading its history…' }, '…')
  }

  stop(): void {
    this.stopped = true
    this.queued.clear()
  }

  private pump(): void {
    while (!this.stopped && this.running < CONCURRENCY && this.queued.size > 0) {
      const id = this.queued.values().next().value as string
      this.queued.delete(id)
      this.running += 1
      void this.read(id).finally(() => {
        this.running -= 1
        this.pump()
      })
    }
  }

  private async read(id: string): Promise<void> {
    let worker: string | null
    try {
      const record = await this.api.get<ExecutionRecord>(`/v1/executions/${encodeURIComponent(id)}`)
      worker = record.history.at(-1)?.worker_id || null
      this.known.set(id, worker)
    } catch (error) {
      worker = null
      // Gone (retention) stays unknown; anything else is tried again on the next render.
      if (error instanceof ApiError && error.status === 404) this.known.set(id, null)
    }
    for (const el of document.querySelectorAll(`[data-last-worker="${CSS.escape(id)}"]`)) {
      el.replaceWith(render(worker))
    }
  }
}

function render(worker: string | null): HTMLElement {
  return worker
    ? h('code', { title: 'The worker of the last attempt' }, worker)
    : h('span', { class: 'muted' }, '—')
}
