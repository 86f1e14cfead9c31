import { describe, expect, it } from 'vitest'
import { backend, newEngine } from './backend.ts'

// Each script is its prelude, the generated tables, the whole library and its body in one chunk,
// and Lua allows a function 200 active locals: a library addition can stop a script that no
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
