/**
 * `{{ payload.field }}` templates of cueapi-worker configs. In a command, every substituted value
 * is shell-quoted, so a payload can never inject shell syntax; in `env` values and `cwd` it is
 * inserted as is (no shell reads those).
 */

const TEMPLATE = /\{\{\s*([^{}]*?)\s*\}\}/g

/** Names a template may use besides `payload` and `payload.<path>`. */
export const TEMPLATE_NAMES = [
  'execution_id',
  'cue_id',
  'cue_name',
  'task',
  'attempt',
  'worker_id',
  'scheduled_for',
] as const

export type TemplateVars = { payload: unknown } & Record<(typeof TEMPLATE_NAMES)[number], unknown>

/** The template expressions in `text` that name nothing we can fill in. */
export function unknownTemplates(text: string): string[] {
  const bad: string[] = []
  for (const match of text.matchAll(TEMPLATE)) {
    const expr = match[1] ?? ''
    const ok =
      expr === 'payload' ||
      /^payload(\.[^.\s]+)+$/.test(expr) ||
      (TEMPLATE_NAMES as readonly string[]).includes(expr)
    if (!ok) bad.push(match[0])
  }
  return bad
}

function lookup(vars: TemplateVars, expr: string): unknown {
  const [root = '', ...path] = expr.split('.')
  let value: unknown = (vars as Record<string, unknown>)[root]
  for (const key of path) {
    if (value === null || typeof value !== 'object') return undefined
    value = (value as Record<string, unknown>)[key]
  }
  return value
}

function text(value: unknown): string {
  if (value === undefined || value === null) return ''
  if (typeof value === 'string') return value
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint')
    return String(value)
  return JSON.stringify(value)
}

/** Quotes `s` as one POSIX shell word: single quotes, with embedded ones closed and escaped. */
export function shellQuote(s: string): string {
  return `'${s.replaceAll("'", `'\\''`)}'`
}

/** Fills the templates of `template`; `quote` wraps each substituted value (shellQuote for commands). */
export function renderTemplate(template: string, vars: TemplateVars, quote?: (s: string) => string): string {
  return template.replace(TEMPLATE, (_, expr: string) => {
    const value = text(lookup(vars, expr))
    return quote ? quote(value) : value
  })
}
