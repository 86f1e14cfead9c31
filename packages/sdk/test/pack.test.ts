import { execFile as execFileCb, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import type { ServerProcess } from '@cuekit/scripts/lib/server-process'
import { waitFor } from '@cuekit/scripts/lib/wait'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startServer, tenantOn } from './helpers.ts'

const execFile = promisify(execFileCb)
const root = fileURLToPath(new URL('../../../', import.meta.url))
const scratch = mkdtempSync(join(tmpdir(), 'cuekit-scratch-'))
let server: ServerProcess

beforeAll(async () => {
  const [started] = await Promise.all([startServer(), install()])
  server = started
}, 180_000)
afterAll(async () => {
  await server?.kill()
  rmSync(scratch, { recursive: true, force: true })
})

/** Packs protocol and sdk as npm would publish them and installs the tarballs in a scratch project. */
async function install(): Promise<void> {
  const { stdout } = await execFile(
    'npm',
    ['pack', '-w', '@cuekit/protocol', '-w', '@cuekit/sdk', '--pack-destination', scratch, '--silent'],
    { cwd: root },
  )
  const tarballs = stdout
    .trim()
    .split('\n')
    .map((name) => join(scratch, name.trim()))
  expect(tarballs).toHaveLength(2)
  writeFileSync(
    join(scratch, 'package.json'),
    JSON.stringify({ name: 'scratch', private: true, type: 'module' }),
  )
  await execFile('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', ...tarballs], {
    cwd: scratch,
  })
}

const WORKER_JS = `
import { Worker, verifyWebhook, signWebhook, NonRetryableError } from '@cuekit/sdk'
import { pythonJsonDumps } from '@cuekit/protocol'

const [baseUrl, apiKey, expected] = process.argv.slice(2)
const body = pythonJsonDumps({ b: 'é', a: 1 })
const timestamp = Math.floor(Date.now() / 1000)
const headers = { 'x-cueapi-timestamp': String(timestamp), 'x-cueapi-signature': signWebhook('whsec_x', timestamp, body) }
if (body !== '{"a": 1, "b": "\\\\u00e9"}' || !verifyWebhook('whsec_x', headers, JSON.parse(body))) process.exit(3)

const worker = new Worker({
  baseUrl,
  apiKey,
  concurrency: 2,
  handlers: {
    add: async (ctx) => {
      if (typeof ctx.payload.a !== 'number') throw new NonRetryableError('a must be a number')
      return ctx.payload.a + ctx.payload.b
    },
  },
})
let reported = 0
worker.on('reported', async () => {
  if (++reported === Number(expected)) {
    await worker.stop()
    console.log('done', reported)
  }
})
await worker.start()
`

const CHECK_TS = `
import { Client, Worker, type HandlerContext, LeaseLostError } from '@cuekit/sdk'
import { z } from 'zod'

const client = new Client({ baseUrl: 'http://127.0.0.1:8080', apiKey: 'cue_sk_x' })
const worker = new Worker({
  apiKey: 'cue_sk_x',
  handlers: {
    typed: { schema: z.object({ to: z.string() }), handler: async (ctx) => ctx.payload.to.toUpperCase() },
    // @ts-expect-error: the schema has no \`nope\`, which the payload type must know
    wrong: { schema: z.object({ to: z.string() }), handler: async (ctx) => ctx.payload.nope },
    plain: async (ctx: HandlerContext) => ctx.executionId,
  },
})
export const checks: [Promise<string>, Worker<never> | typeof worker, boolean] = [
  client.executions.get('x').then((e) => e.status),
  worker,
  new LeaseLostError('x', { code: 'lease_lost', status: 409 }) instanceof Error,
]
`

describe('the packed SDK in a scratch project', () => {
  it('a plain JavaScript worker processes executions', async () => {
    const { client, apiKey } = await tenantOn(server)
    const { execution_ids } = await client.executions.enqueueBulk([
      { task: 'add', payload: { a: 1, b: 2 } },
      { task: 'add', payload: { a: 40, b: 2 } },
      { task: 'add', payload: { a: 'x', b: 2 }, max_attempts: 3 },
    ])
    writeFileSync(join(scratch, 'worker.mjs'), WORKER_JS)
    const { stdout } = await execFile(process.execPath, ['worker.mjs', server.url, apiKey, '3'], {
      cwd: scratch,
      timeout: 20_000,
    })
    expect(stdout).toContain('done 3')
    const records = await Promise.all(execution_ids.map((id) => client.executions.get(id)))
    expect(records.map((r) => [r.status, r.outcome?.result ?? r.error_message])).toEqual([
      ['success', 3],
      ['success', 42],
      ['failed', 'a must be a number'],
    ])
  })

  it('its types resolve from dist for a TypeScript consumer', async () => {
    writeFileSync(join(scratch, 'check.ts'), CHECK_TS)
    writeFileSync(
      join(scratch, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          module: 'NodeNext',
          moduleResolution: 'NodeNext',
          target: 'ES2022',
          strict: true,
          noEmit: true,
          skipLibCheck: true,
          types: ['node'],
          typeRoots: [join(root, 'node_modules/@types')],
        },
        files: ['check.ts'],
      }),
    )
    const tsc = join(root, 'node_modules/typescript/bin/tsc')
    // Rejects with the compiler's messages when the consumer code does not type-check.
    const { stdout } = await execFile(process.execPath, [tsc, '-p', scratch])
    expect(stdout).toBe('')
  })

  it("the README's quick start runs verbatim", async () => {
    const readme = readFileSync(join(root, 'packages/sdk/README.md'), 'utf8')
    const code = /Save this as `worker\.mjs`:\n\n```js\n([\s\S]*?)```/.exec(readme)?.[1]
    expect(code).toBeDefined()
    writeFileSync(join(scratch, 'quickstart.mjs'), code!)
    const { apiKey } = await tenantOn(server)
    const child = spawn(process.execPath, ['quickstart.mjs'], {
      cwd: scratch,
      env: { PATH: process.env.PATH, CUEKIT_URL: server.url, CUEKIT_API_KEY: apiKey },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout?.on('data', (d: Buffer) => {
      output += d.toString()
    })
    child.stderr?.on('data', (d: Buffer) => {
      output += d.toString()
    })
    try {
      await waitFor(() => /: success\n/.test(output), { timeoutMs: 15_000, message: 'no success line' })
      expect(output).toMatch(/^enqueued (\S+)\nhello Ada \(attempt 1\)\n\1: success\n$/)
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
      child.kill('SIGINT')
      expect(await exited).toBe(0)
    } finally {
      child.kill('SIGKILL')
    }
  })

  it('install-service from the installed binary runs node on the CLI script, not npx', async () => {
    const bin = join(scratch, 'node_modules/.bin/cuekit-worker')
    writeFileSync(join(scratch, 'service.yaml'), 'handlers:\n  t: "true"\n')
    const { stdout } = await execFile(bin, ['install-service', '--config', 'service.yaml'], { cwd: scratch })
    const node = (await execFile('node', ['-p', 'process.execPath'])).stdout.trim()
    const script = realpathSync(join(scratch, 'node_modules/@cuekit/sdk/dist/cli/main.js'))
    expect(/^ExecStart=(.*)$/m.exec(stdout)?.[1]).toBe(
      `${node} ${script} start --config ${join(scratch, 'service.yaml')}`,
    )
    expect(stdout).toMatch(/^KillMode=mixed$/m)
  })

  it('the installed cuekit-worker binary runs a shell handler', async () => {
    const { client, apiKey } = await tenantOn(server)
    const bin = join(scratch, 'node_modules/.bin/cuekit-worker')
    expect((await execFile(bin, ['--version'])).stdout.trim()).toBe(
      JSON.parse(readFileSync(join(root, 'packages/sdk/package.json'), 'utf8')).version,
    )
    writeFileSync(
      join(scratch, 'cueapi-worker.yaml'),
      `api_key: ${apiKey}\napi_base: ${server.url}\nhandlers:\n  hello: "echo hello {{ payload.who }}"\n`,
    )
    const child = spawn(bin, ['start'], { cwd: scratch, stdio: ['ignore', 'pipe', 'pipe'] })
    try {
      const { execution_id } = await client.executions.enqueue({ task: 'hello', payload: { who: 'world' } })
      const record = await waitFor(
        async () => {
          const r = await client.executions.get(execution_id)
          return r.status === 'success' ? r : null
        },
        { timeoutMs: 15_000, intervalMs: 100, message: 'the CLI did not run the handler' },
      )
      expect(record.outcome?.result).toBe('hello world')
      const exited = new Promise<number | null>((resolve) => child.once('exit', resolve))
      child.kill('SIGTERM')
      expect(await exited).toBe(0)
    } finally {
      child.kill('SIGKILL')
    }
  })
})
