import type { CueRecord, ExecutionRecord } from '@cuekit/protocol'
import { type Child, h } from '../dom.ts'
import type { PageContext } from '../page.ts'
import { button, link } from '../ui.ts'

// What the Cues list and a cue's own page both show: what a cue fires, and what can be done to it.

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
