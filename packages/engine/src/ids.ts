import { customAlphabet } from 'nanoid'

const alphabet = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'

/** 20 characters of a 62-letter alphabet: 119 random bits, URL- and key-safe. */
export const newExecutionId = customAlphabet(alphabet, 20)

/** Lease tokens are secrets: 32 characters, 190 random bits. */
export const newTokenBase = customAlphabet(alphabet, 32)

export const newTenantId = () => `tn_${customAlphabet(alphabet, 12)()}`

/** FNV-1a: a stable, fast string hash; only used to spread ids over a tenant's partitions. */
export function fnv1a(s: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * Ids a script makes (executions a transition queues, alerts) carry their partition: `x<p>-<n>`
 * and `al<p>-<n>` (lib/7-outcome.lua). Random ids (20 letters and digits) never contain '-'.
 */
const SCRIPT_MADE = /^(?:x|al)(\d+)-\d+$/

export function partitionOf(id: string, partitions: number): number {
  if (partitions <= 1) return 0
  const made = SCRIPT_MADE.exec(id)
  if (made) return Number(made[1]) % partitions
  return fnv1a(id) % partitions
}

/** A new execution id that lands in the given partition (expected `partitions` tries). */
export function newExecutionIdIn(partition: number, partitions: number): string {
  for (;;) {
    const id = newExecutionId()
    if (partitionOf(id, partitions) === partition) return id
  }
}
