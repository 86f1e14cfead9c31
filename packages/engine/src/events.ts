import type { ExecutionStatus } from '@cuekit/protocol'
import { int, iso } from './decode.ts'
import { EVENT, NOTIFY_MESSAGE, SEP } from './layouts/index.ts'

// The pub/sub messages the scripts publish (commit() and event() in lua/lib), decoded here only.

/** "Executions became claimable" (the notify channel): which tenant, and how many of each task. */
export interface ClaimableNotice {
  tenantId: string
  total: number
  tasks: Map<string, number>
}

export function decodeNotice(message: string): ClaimableNotice {
  const parts = message.split(SEP)
  const tasks = new Map<string, number>()
  for (let i = NOTIFY_MESSAGE.size; i + 1 < parts.length; i += 2) tasks.set(parts[i]!, int(parts[i + 1]))
  return {
    tenantId: parts[NOTIFY_MESSAGE.at.tenant_id] ?? '',
    total: int(parts[NOTIFY_MESSAGE.at.total]),
    tasks,
  }
}

/** An execution's status change (a tenant's event channel). */
export interface ExecutionChange {
  execution_id: string
  task: string
  status: ExecutionStatus
  attempt: number
  worker_id: string | null
  at: string
}

export function decodeChange(message: string): ExecutionChange {
  const p = message.split(SEP)
  const at = (name: (typeof EVENT.fields)[number]) => p[EVENT.at[name]] ?? ''
  return {
    execution_id: at('id'),
    task: at('task'),
    status: at('status') as ExecutionStatus,
    attempt: int(at('attempt')),
    worker_id: at('worker_id') || null,
    at: iso(at('at')),
  }
}
