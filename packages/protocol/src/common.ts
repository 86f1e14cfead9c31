import { z } from 'zod'
import { LIMITS } from './limits.ts'

// Control characters are refused in names because they end up in logs, Redis keys and headers.
// biome-ignore lint/suspicious/noControlCharactersInRegex: refusing control characters is the point
const printable = /^[^\x00-\x1f\x7f]+$/

/** A task name as a filter: any name, internal ones included. */
export const TaskFilter = z
  .string()
  .min(1)
  .max(LIMITS.nameMaxLength)
  .regex(printable, 'must not contain control characters')

/**
 * A task name a client may enqueue or claim. Names starting with `@` are internal (webhook
 * executions wait under `@webhook` for the built-in dispatcher), so no worker can claim them and
 * no producer can slip an execution into them.
 */
export const TaskName = TaskFilter.refine((t) => !t.startsWith('@'), 'names starting with @ are reserved')
export type TaskName = z.infer<typeof TaskName>

export const WorkerId = z
  .string()
  .min(1)
  .max(LIMITS.nameMaxLength)
  .regex(printable, 'must not contain control characters')
export type WorkerId = z.infer<typeof WorkerId>

export const ExecutionId = z.string().min(1).max(64)
export type ExecutionId = z.infer<typeof ExecutionId>

/** ISO 8601 UTC timestamp as Cuekit writes it (`2026-01-02T03:04:05.678Z`). */
export const Timestamp = z.iso.datetime()
export type Timestamp = z.infer<typeof Timestamp>

/** A timestamp a client sends: any ISO 8601 date-time with `Z` or an offset. */
export const InputTimestamp = z.iso.datetime({ offset: true })

export const LeaseSeconds = z.number().int().min(LIMITS.minLeaseSeconds).max(LIMITS.maxLeaseSeconds)

/** The secret lease token handed out by a claim; required by our SDK on every lease operation. */
export const LeaseToken = z.string().min(1).max(128)

export const JsonValue: z.ZodType<unknown> = z.unknown()
