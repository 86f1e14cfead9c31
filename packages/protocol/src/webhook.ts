/*
 * Webhook bodies are signed over the exact text Python's `json.dumps(body, sort_keys=True)`
 * produces (docs/architecture.md#webhooks), because receivers written for CueAPI re-serialise a parsed body that way
 * before checking the signature. The server's dispatcher serialises with this function and the
 * SDK's `verifyWebhook` re-serialises parsed bodies with it, so both sides agree byte for byte.
 *
 * Python's defaults that matter: `ensure_ascii=True` (every character outside printable ASCII is
 * written as `\uXXXX`, astral characters as a surrogate pair), separators `", "` and `": "`,
 * keys sorted by code point, `/` left alone, and `NaN` / `Infinity` written bare.
 */

/** Python's escapes for the characters it does not write as `\uXXXX`. */
const SHORT_ESCAPES: Record<string, string> = {
  '"': '\\"',
  '\\': '\\\\',
  '\b': '\\b',
  '\f': '\\f',
  '\n': '\\n',
  '\r': '\\r',
  '\t': '\\t',
}

// Everything outside space..tilde needs an escape, as in Python's ESCAPE_ASCII.
const NEEDS_ESCAPE = /[^ -~]|["\\]/

function quote(s: string): string {
  if (!NEEDS_ESCAPE.test(s)) return `"${s}"`
  let out = '"'
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!
    const unit = s.charCodeAt(i)
    const short = SHORT_ESCAPES[ch]
    if (short !== undefined) out += short
    else if (unit < 0x20 || unit > 0x7e) out += `\\u${unit.toString(16).padStart(4, '0')}`
    else out += ch
  }
  return `${out}"`
}

/**
 * Python's `repr(float)`: the shortest digits that round-trip (JavaScript computes the same ones)
 * laid out with Python's rule: scientific notation when the decimal point falls before the fourth
 * leading zero or after the sixteenth digit, a two-digit signed exponent, and `.0` on whole values.
 */
function pythonFloat(x: number): string {
  const [mantissa = '', exponent = '0'] = x.toExponential().split('e')
  const negative = mantissa.startsWith('-')
  const digits = mantissa.replace('-', '').replace('.', '')
  const exp = Number(exponent)
  const point = exp + 1
  let body: string
  if (point <= -4 || point > 16) {
    const head = digits.length > 1 ? `${digits[0]}.${digits.slice(1)}` : digits
    body = `${head}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`
  } else if (point <= 0) {
    body = `0.${'0'.repeat(-point)}${digits}`
  } else if (point >= digits.length) {
    body = `${digits}${'0'.repeat(point - digits.length)}.0`
  } else {
    body = `${digits.slice(0, point)}.${digits.slice(point)}`
  }
  return negative ? `-${body}` : body
}

function number(x: number): string {
  if (Number.isNaN(x)) return 'NaN'
  if (x === Number.POSITIVE_INFINITY) return 'Infinity'
  if (x === Number.NEGATIVE_INFINITY) return '-Infinity'
  // A whole number is taken to be a Python int: all its digits, never an exponent.
  if (Number.isInteger(x)) return BigInt(x).toString()
  return pythonFloat(x)
}

/** Orders keys by code point as Python's `sorted()` does (UTF-16 order differs above U+D7FF). */
function byCodePoint(a: string, b: string): number {
  const ia = a[Symbol.iterator]()
  const ib = b[Symbol.iterator]()
  for (;;) {
    const x = ia.next()
    const y = ib.next()
    if (x.done || y.done) return x.done ? (y.done ? 0 : -1) : 1
    const d = x.value.codePointAt(0)! - y.value.codePointAt(0)!
    if (d !== 0) return d
  }
}

type Serializable = { toJSON(key: string): unknown }

function hasToJSON(value: object): value is Serializable {
  return typeof (value as Partial<Serializable>).toJSON === 'function'
}

function dump(value: unknown, key: string, seen: Set<object>): string | undefined {
  if (value !== null && typeof value === 'object' && hasToJSON(value)) value = value.toJSON(key)
  switch (typeof value) {
    case 'string':
      return quote(value)
    case 'number':
      return number(value)
    case 'bigint':
      return value.toString()
    case 'boolean':
      return value ? 'true' : 'false'
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined
  }
  if (value === null) return 'null'
  const obj = value as object
  if (seen.has(obj)) throw new TypeError('pythonJsonDumps: circular structure')
  seen.add(obj)
  try {
    if (Array.isArray(obj)) {
      const items = obj.map((item, i) => dump(item, String(i), seen) ?? 'null')
      return `[${items.join(', ')}]`
    }
    const record = obj as Record<string, unknown>
    const parts: string[] = []
    for (const k of Object.keys(record).sort(byCodePoint)) {
      const v = dump(record[k], k, seen)
      if (v !== undefined) parts.push(`${quote(k)}: ${v}`)
    }
    return `{${parts.join(', ')}}`
  } finally {
    seen.delete(obj)
  }
}

/**
 * Serialises a JSON value exactly as Python's `json.dumps(value, sort_keys=True)` does, so a
 * webhook signature computed over it matches what CueAPI receivers compute.
 *
 * Integers and strings come out byte-identical to Python's. A whole-valued float is written as an
 * integer (`1.0` becomes `1`): JavaScript cannot tell the two apart, and receivers that verify the
 * raw bytes are unaffected. Like `JSON.stringify`, it honours `toJSON()` (a `Date` becomes its ISO
 * string), drops `undefined` object members, writes `undefined` array items as `null`, and
 * throws a `TypeError` on circular structures.
 *
 * @example
 * ```ts
 * import { pythonJsonDumps } from '@cuekit/protocol'
 *
 * pythonJsonDumps({ b: 1, a: ['é', '😀', null] })
 * // '{"a": ["\\u00e9", "\\ud83d\\ude00", null], "b": 1}'
 * ```
 */
export function pythonJsonDumps(value: unknown): string {
  return dump(value, '', new Set()) ?? 'null'
}
