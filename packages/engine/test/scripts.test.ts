import { describe, expect, it } from 'vitest'
import { backend, newEngine } from './backend.ts'

// Each script is its prelude, the generated tables, the library pieces it uses and its body in one
// chunk, and Lua allows a function 200 active locals: a library addition can stop a script that no
// test of the moment happens to call from compiling. Every script is compiled here.
describe.runIf(backend === 'redis')('every script', () => {
  it('compiles on Redis', async () => {
    const engine = newEngine()
    const redis = engine.core.redis as import('ioredis').Redis
    const failed: string[] = []
    for (const [name, code] of engine.core.scripts.sources()) {
      await redis.script('LOAD', code).catch((error: Error) => failed.push(`${name}: ${error.message}`))
    }
    expect(failed).toEqual([])
  })
})

describe('the library a script carries', () => {
  const sources = new Map(newEngine().core.scripts.sources())

  it('is only the pieces it uses: a read of one record does not build the outcome state machine', () => {
    const get = sources.get('get')!
    expect(get).toContain('local function fmt(')
    expect(get).toContain('local function now_ms(')
    expect(get).not.toContain('local function record_outcome(')
    expect(get).not.toContain('local W = {')
    expect(get.length).toBeLessThan(sources.get('complete')!.length / 5)
  })

  it('keeps a local declared early and assigned later, both statements, in order', () => {
    const complete = sources.get('complete')!
    const declared = complete.indexOf('\nlocal on_finish\n')
    const assigned = complete.indexOf('\non_finish = function(')
    expect(declared).toBeGreaterThan(0)
    expect(assigned).toBeGreaterThan(declared)
  })

  it('keeps the statements that fill a table with the table', () => {
    const reap = sources.get('reap')!
    expect(reap).toMatch(/local STATUS_NAME = \{\}[^\n]*\nfor name, code in pairs\(SC\) do/)
    expect(reap).toContain('local SC = {')
  })
})
