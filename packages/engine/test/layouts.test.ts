import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

// Positions shared by TypeScript and Lua are named in layouts/ only (issue 14): a number that
// names a position anywhere else can drift from its layout unnoticed.
const src = new URL('../src/', import.meta.url)
const read = (path: string) => readFileSync(new URL(path, src), 'utf8')
const code = (text: string) =>
  text
    .split('\n')
    .filter((line) => !/^\s*(--|\/\/|\*|\/\*)/.test(line))
    .join('\n')

describe('layouts are the only place that numbers positions', () => {
  const scripts = readdirSync(new URL('lua/', src)).filter((f) => f.endsWith('.lua'))
  const library = readdirSync(new URL('lua/lib/', src)).map((f) => `lib/${f}`)

  it.each([...scripts, ...library])('lua/%s indexes ARGV, replies and records by name', (file) => {
    const body = code(read(`lua/${file}`))
    expect(body).not.toMatch(/ARGV\[\d/)
    // t[1], f[F_X]-style positional reads of a script's own tables (loop indexes like t[i] are fine)
    expect(body).not.toMatch(/\b[a-z_]+\[\d+\]/)
  })

  it.each(['engine.ts', 'cues.ts', 'executions.ts', 'reads.ts', 'maintenance.ts', 'core.ts'])(
    '%s reads replies by name',
    (file) => {
      const body = code(read(file))
      expect(body).not.toMatch(/reply\[\d|due\[\d|reaped\[\d|\bat \+ \d/)
    },
  )
})
