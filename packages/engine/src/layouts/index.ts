// Every positional layout shared by TypeScript and the Lua scripts, written once (see layout.ts).
import * as A from './arguments.ts'
import type { HashFields, Layout } from './layout.ts'
import * as R from './records.ts'
import * as P from './replies.ts'

export * from './arguments.ts'
export * from './layout.ts'
export * from './records.ts'
export * from './replies.ts'

const isLayout = (v: unknown): v is Layout<string> =>
  typeof v === 'object' && v !== null && 'fields' in v && 'offset' in v
const isHashFields = (v: unknown): v is HashFields<string> =>
  typeof v === 'object' && v !== null && 'names' in v && 'lua' in v

/** Every layout; scripts.ts gives each script the ones it names. */
export const LAYOUTS: readonly Layout<string>[] = (
  [...Object.values(R), ...Object.values(P), ...Object.values(A)] as unknown[]
).filter(isLayout)

/** Every hash-field table, likewise. */
export const HASH_FIELDS: readonly HashFields<string>[] = (Object.values(R) as unknown[]).filter(isHashFields)
