import type { PreviewCueResponse } from '@cuekit/protocol'
import { type Api, ApiError } from '../api.ts'
import { type Child, h, patch } from '../dom.ts'
import { relative, weekday } from '../format.ts'
import { time } from '../ui.ts'
import type { Controls } from './cue-form.ts'

const PREVIEW_DEBOUNCE_MS = 300

/**
 * The next five runs as the user types, shown in the cue's zone. The server computes them
 * (POST /v1/cues/preview) with the scheduler's own code, so the preview cannot disagree with it.
 */
export class Preview {
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
