import { Cues, type Engine } from '@cuekit/engine'
import { CreateCueRequest } from '@cuekit/protocol'
import { newEngine, tenant } from './backend.ts'

// What the outcome tests share: an engine on a test clock, a worker cue, firing and claiming.

export const START = Date.parse('2026-11-02T10:00:00Z')

export function setup() {
  let now = START
  const engine = newEngine({ clock: () => now })
  return {
    engine,
    advance: (ms: number) => {
      now += ms
    },
    pass: () => engine.maintainPartition({ tenantId: tenant.id, partition: 0 }),
  }
}

export async function cue(engine: Engine, body: Record<string, unknown>) {
  const config = Cues.configFromCreate(
    CreateCueRequest.parse({
      name: `c${Math.random().toString(36).slice(2, 8)}`,
      transport: 'worker',
      schedule: { type: 'recurring', cron: '0 0 1 1 *' },
      payload: { task: 'job' },
      ...body,
    }),
  )
  return engine.cues.create(tenant, config)
}

/** Fires the cue and returns the new execution's id. */
export async function fire(engine: Engine, cueId: string): Promise<string> {
  const stored = await engine.cues.read(tenant, cueId)
  return (await engine.cues.fire(tenant, stored, {})).execution_id
}

/** Claims one execution of `task` (the dispatcher's '@webhook' too) and returns its lease. */
export async function lease(engine: Engine, task: string, worker = 'w') {
  const [c] = await engine.claim(tenant, { worker_id: worker, task, lease_seconds: 600 })
  if (!c) throw new Error(`nothing of ${task} to claim`)
  return c
}
