import { type ChildProcess, spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ServerProcess } from '@cuekit/scripts/lib/server-process'
import { waitFor } from '@cuekit/scripts/lib/wait'
import type { Client } from '@cuekit/sdk'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { stringify } from 'yaml'
import { startServer, tenantOn } from './helpers.ts'

const main = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
const dir = mkdtempSync(join(tmpdir(), 'cuekit-cli-'))
let server: ServerProcess
beforeAll(async () => {
  server = await startServer()
})
afterAll(async () => {
  await server?.kill()
  rmSync(dir, { recursive: true, force: true })
})

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode)
  return new Promise((resolve) => child.once('exit', (code) => resolve(code)))
}

const terminal = (client: Client, id: string) =>
  waitFor(
    async () => {
      const record = await client.executions.get(id)
      return ['success', 'failed'].includes(record.status) ? record : null
    },
    { timeoutMs: 15_000, intervalMs: 100, message: `${id} did not finish` },
  )

describe('cuekit-worker', () => {
  it('runs shell handlers end to end: templates, outcome file, failures, a timeout, SIGTERM', async () => {
    const { client, apiKey } = await tenantOn(server)
    const out = join(dir, 'out')
    const config = join(dir, 'worker.yaml')
    writeFileSync(
      config,
      stringify({
        api_key: apiKey,
        api_base: server.url,
        worker_id: 'cli-e2e',
        max_concurrent: 3,
        lease_seconds: 2,
        shutdown_timeout: 5,
        handlers: {
          greet: {
            cmd: [
              `mkdir -p "$OUT"`,
              `printf '%s' {{ payload.name }} > "$OUT/$CUEAPI_EXECUTION_ID"`,
              `printf '{"summary": "greeted %s", "external_id": "%s"}' "$GREETING" "$CUEAPI_CUE_NAME$CUEAPI_WORKER_ID" > "$CUEAPI_OUTCOME_FILE"`,
            ].join('\n'),
            env: { OUT: out, GREETING: '{{ payload.name }}' },
          },
          slow: { cmd: 'sleep 30', timeout: 1 },
          broken: 'echo oops >&2; exit 3',
        },
      }),
    )
    const child = spawn(
      process.execPath,
      ['--conditions=cuekit-source', '--import', 'tsx', main, 'start', '-c', config],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    const output: string[] = []
    child.stdout?.on('data', (d: Buffer) => output.push(d.toString()))
    child.stderr?.on('data', (d: Buffer) => output.push(d.toString()))
    try {
      const name = "Ada'; touch pwned #"
      const greet = await client.executions.enqueue({ task: 'greet', payload: { name } })
      const slow = await client.executions.enqueue({ task: 'slow', max_attempts: 1 })
      const broken = await client.executions.enqueue({ task: 'broken', max_attempts: 1 })

      const greeted = await terminal(client, greet.execution_id)
      expect(greeted.status, output.join('')).toBe('success')
      expect(greeted.outcome).toMatchObject({ summary: `greeted ${name}`, external_id: 'cli-e2e' })
      expect(readFileSync(join(out, greet.execution_id), 'utf8')).toBe(name)
      expect(existsSync(join(dir, 'pwned'))).toBe(false)

      expect(await terminal(client, broken.execution_id)).toMatchObject({
        status: 'failed',
        error_message: 'exit code 3: oops',
      })
      const timedOut = await terminal(client, slow.execution_id)
      expect(timedOut).toMatchObject({ status: 'failed', error_message: 'timed out after 1 s' })
      // Killed after 1 s, not after sleep's 30 s.
      expect(Date.parse(timedOut.finished_at!) - Date.parse(timedOut.history[0]!.claimed_at)).toBeLessThan(
        10_000,
      )
      const { workers } = await client.workers.list()
      expect(workers).toEqual([
        expect.objectContaining({ worker_id: 'cli-e2e', handlers: ['greet', 'slow', 'broken'] }),
      ])

      child.kill('SIGTERM')
      expect(await exited(child)).toBe(0)
      expect(output.join('')).toMatch(/SIGTERM: stopping[\s\S]*stopped/)
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('explains a bad config and exits 2', async () => {
    const config = join(dir, 'bad.yaml')
    writeFileSync(config, 'handlers:\n  t: "echo {{ nope }}"\n')
    const child = spawn(
      process.execPath,
      ['--conditions=cuekit-source', '--import', 'tsx', main, '--config', config],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', CUEAPI_API_KEY: 'cue_sk_x' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stderr = ''
    child.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString()
    })
    expect(await exited(child)).toBe(2)
    expect(stderr).toContain('handlers.t.cmd: unknown template {{ nope }}')
  })
})
