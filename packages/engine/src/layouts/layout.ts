/**
 * Every positional layout shared by TypeScript and the Lua scripts, written once: the fields of
 * an execution record, of an attempt in its history, and of each script's reply. The scripts get
 * the same tables through `luaLayout()` (`X.status` is the Lua index of `EXECUTION.at.status`
 * plus one), so no number that names a position is written anywhere else.
 *
 * An execution is one value in its partition's `E` hash (see keys.ts):
 *
 *   <payload JSON> RS <fields, SEP-joined, trailing empty ones dropped> RS <history>
 *
 * An empty field reads as its default (documented per field in records.ts). The payload comes first so a
 * record is split with two searches; it is '' when the payload is kept in the `PL` hash instead
 * (`payload_external`). The history holds the attempts that ended with the execution going back
 * to the queue, oldest first, HS-joined, each one an ATTEMPT layout SEP-joined. The latest attempt
 * lives in the lease fields: running (status delivering) or the one that ended the execution
 * (`ended` set). JSON text never contains these control characters; free text (errors, worker ids)
 * has them replaced before it is stored.
 */

export const SEP = '\x1f'

/** Separates the payload, the fields and the history of a record. */
export const RS = '\x1e'

/** Separates the attempts of a record's history. */
export const HS = '\x1d'

export interface Layout<N extends string> {
  /** The Lua table's name. */
  readonly lua: string
  readonly fields: readonly N[]
  /** 0-based positions, for TypeScript arrays (after `offset`). */
  readonly at: { readonly [K in N]: number }
  readonly size: number
  /** Positions taken before the first field (script arguments follow the partition header). */
  readonly offset: number
}

export function layout<const N extends string>(lua: string, fields: readonly N[], offset = 0): Layout<N> {
  const at = Object.fromEntries(fields.map((f, i) => [f, offset + i])) as { [K in N]: number }
  return { lua, fields, at, size: fields.length, offset }
}

export const HEAD = layout('HEAD', ['code', 'now'])

export function reply<const N extends string>(lua: string, fields: readonly N[]): Layout<'code' | 'now' | N> {
  return layout(lua, [...HEAD.fields, ...fields] as const)
}

/** How many ARGV positions the partition header takes (see scripts.ts). */
export const HEADER_ARGS = 5

export function args<const N extends string>(lua: string, fields: readonly N[]): Layout<N> {
  return layout(lua, fields, HEADER_ARGS)
}

export interface HashFields<N extends string> {
  readonly lua: string
  readonly names: { readonly [K in N]: string }
  /** The names' keys, in order: a reply item laid out from the hash (Lua's append_hash). */
  readonly fields: readonly N[]
}

export function hashFields<const T extends Record<string, string>>(
  lua: string,
  names: T,
): HashFields<keyof T & string> {
  return { lua, names, fields: Object.keys(names) as (keyof T & string)[] }
}

export function luaHashFields(h: HashFields<string>): string {
  const names = Object.entries(h.names).map(([k, v]) => `${k} = '${v}'`)
  return `local ${h.lua} = { ${names.join(', ')} }`
}

/**
 * A layout as a Lua table of 1-based positions, with its size as `_n` and its last position as
 * `_last` (where the items of a batch start after script arguments):
 * `local X = { status = 1, ..., _n = 33, _last = 33 }`. One local per layout, not per field: a Lua
 * chunk may hold only 200 locals.
 */
export function luaLayout(l: Layout<string>): string {
  const fields = l.fields.map((f, i) => `${f} = ${l.offset + i + 1}`)
  return `local ${l.lua} = { ${[...fields, `_n = ${l.size}`, `_last = ${l.offset + l.size}`].join(', ')} }`
}
