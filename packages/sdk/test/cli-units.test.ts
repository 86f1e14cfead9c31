import { execFileSync } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { waitFor } from '@cuekit/scripts/lib/wait'
import type { HandlerContext } from '@cuekit/sdk'
import { afterAll, describe, expect, it } from 'vitest'
import { ConfigError, DEFAULT_HANDLER_TIMEOUT_SECONDS, loadConfig } from '../src/cli/config.ts'
import { commandHandler, runCommand } from '../src/cli/run.ts'
import { renderTemplate, shellQuote, type TemplateVars } from '../src/cli/template.ts'

const dir = mkdtempSync(join(tmpdir(), 'cuekit-cli-units-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const fallback = { workerId: 'host-1' }

describe('cuekit-worker config', () => {
  it("loads cueapi-worker's documented format with its defaults", () => {
    const config = loadConfig(
      `
api_key: cue_sk_0123456789abcdef0123456789abcdef
api_base: http://127.0.0.1:9999
worker_id: my-laptop
poll_interval: 2
heartbeat_interval: 15
max_concurrent: 3
handlers:
  backup-db: "pg_dump mydb > /backups/$(date +%Y%m%d).sql"
  generate-report:
    cmd: "python3 generate_report.py"
    cwd: "/home/user/scripts"
    timeout: 120
    env:
      REPORT_TYPE: "{{ payload.report_type }}"
      OUTPUT_DIR: /reports
      RETRIES: 3
`,
      fallback,
    )
    expect(config).toMatchObject({
      apiKey: 'cue_sk_0123456789abcdef0123456789abcdef',
      baseUrl: 'http://127.0.0.1:9999',
      workerId: 'my-laptop',
      pollIntervalSeconds: 2,
      heartbeatIntervalSeconds: 15,
      maxConcurrent: 3,
      shutdownTimeoutSeconds: 30,
      unknownKeys: [],
    })
    expect(config.handlers).toEqual([
      {
        task: 'backup-db',
        cmd: 'pg_dump mydb > /backups/$(date +%Y%m%d).sql',
        cwd: undefined,
        timeoutSeconds: DEFAULT_HANDLER_TIMEOUT_SECONDS,
        env: {},
      },
      {
        task: 'generate-report',
        cmd: 'python3 generate_report.py',
        cwd: '/home/user/scripts',
        timeoutSeconds: 120,
        env: { REPORT_TYPE: '{{ payload.report_type }}', OUTPUT_DIR: '/reports', RETRIES: '3' },
      },
    ])
  })

  it('takes the key and server from the fallback, defaults the rest, reports unknown keys', () => {
    const config = loadConfig('handlers:\n  t: "true"\nverbose: true\n', {
      apiKey: 'cue_sk_fromenv',
      baseUrl: 'http://10.0.0.1:8080',
      workerId: 'host-1',
    })
    expect(config).toMatchObject({
      apiKey: 'cue_sk_fromenv',
      baseUrl: 'http://10.0.0.1:8080',
      workerId: 'host-1',
      pollIntervalSeconds: 5,
      heartbeatIntervalSeconds: 30,
      maxConcurrent: 4,
      unknownKeys: ['verbose'],
    })
    expect(loadConfig('api_key: k\nhandlers:\n  t: "true"\n', fallback).baseUrl).toBe('http://127.0.0.1:8080')
  })

  it('refuses configs that cannot run, saying where', () => {
    const bad: [string, RegExp][] = [
      ['handlers:\n  t: "true"\n', /no API key/],
      ['api_key: k\nhandlers: {}\n', /handlers: at least one handler/],
      ['api_key: k\n', /handlers: /],
      ['api_key: k\nhandlers:\n  t: { cwd: /tmp }\n', /handlers\.t\.cmd: /],
      ['api_key: k\nmax_concurrent: 0\nhandlers:\n  t: "true"\n', /max_concurrent/],
      [
        'api_key: k\nhandlers:\n  t: "echo {{ secrets.x }}"\n',
        /handlers\.t\.cmd: unknown template \{\{ secrets\.x \}\}/,
      ],
      ['api_key: k\nhandlers:\n  t: { cmd: "true", env: { A: "{{ payloadx }}" } }\n', /handlers\.t\.env\.A/],
      [
        'api_key: k\nhandlers:\n  t: { cmd: "true", env: { "1A": "x" } }\n',
        /handlers\.t\.env\.1A: Invalid key/,
      ],
      ['api_key: [unclosed\n', /not valid YAML/],
    ]
    for (const [text, message] of bad) {
      expect(() => loadConfig(text, fallback), text).toThrow(ConfigError)
      expect(() => loadConfig(text, fallback), text).toThrow(message)
    }
  })
})

describe('templates', () => {
  const vars: TemplateVars = {
    payload: { name: "O'Brien; touch pwned #", nested: { n: 3, list: [1, 2] }, empty: null },
    execution_id: 'exec_1',
    cue_id: null,
    cue_name: 'nightly',
    task: 't',
    attempt: 2,
    worker_id: 'w',
    scheduled_for: '2026-01-01T00:00:00Z',
  }

  it('fills payload paths and execution fields; missing values are empty', () => {
    expect(
      renderTemplate(
        '{{payload.nested.n}}|{{ payload.nested.list }}|{{ payload.missing.x }}|{{ payload.empty }}',
        vars,
      ),
    ).toBe('3|[1,2]||')
    expect(renderTemplate('{{ execution_id }} {{ cue_name }} {{ cue_id }} {{ attempt }}', vars)).toBe(
      'exec_1 nightly  2',
    )
  })

  it('shell-quotes substituted values in commands, so a payload cannot inject shell syntax', () => {
    const cmd = renderTemplate(
      'cd {{ worker_id }} 2>/dev/null; printf "%s|" {{ payload.name }} {{ payload.missing }}',
      vars,
      shellQuote,
    )
    const out = execFileSync('/bin/sh', ['-c', cmd], { cwd: dir, encoding: 'utf8' })
    expect(out).toBe("O'Brien; touch pwned #||")
    expect(() => readFileSync(join(dir, 'pwned'))).toThrow()
    expect(shellQuote("it's")).toBe(`'it'\\''s'`)
  })
})

describe('running commands', () => {
  it('a timeout kills the whole process group, grandchildren included', async () => {
    const pidFile = join(dir, 'grandchild.pid')
    const started = Date.now()
    const result = await runCommand({
      cmd: `sleep 30 & echo $! > ${shellQuote(pidFile)}; wait`,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
      timeoutMs: 300,
      killGraceMs: 200,
    })
    expect(result.timedOut).toBe(true)
    expect(Date.now() - started).toBeLessThan(3000)
    const pid = Number(readFileSync(pidFile, 'utf8'))
    await waitFor(
      () => {
        try {
          process.kill(pid, 0)
          return false
        } catch {
          return true
        }
      },
      { message: `grandchild ${pid} still alive` },
    )
  })

  it('keeps the tails of stdout and stderr, and the exit code', async () => {
    const result = await runCommand({
      cmd: 'echo out; echo err >&2; exit 7',
      env: {},
      timeoutMs: 5000,
    })
    expect(result).toMatchObject({ exitCode: 7, timedOut: false, stdout: 'out\n', stderr: 'err\n' })
  })

  function ctx(payload: unknown): HandlerContext<unknown> & { attached: Record<string, unknown> } {
    const attached: Record<string, unknown> = {}
    return {
      executionId: 'exec_9',
      payload,
      task: 'job-like',
      attempt: 1,
      maxAttempts: 3,
      cueId: 'cue_1',
      cueName: 'c',
      scheduledFor: '2026-01-01T00:00:00Z',
      workerId: 'w9',
      fencingToken: 4,
      signal: new AbortController().signal,
      leaseValidUntil: new Date(),
      heartbeat: async () => {},
      extend: async () => {},
      evidence: (fields) => Object.assign(attached, fields),
      attached,
    }
  }

  const handlerOptions = {
    apiKey: 'cue_sk_k',
    baseUrl: 'http://cuekit.test',
    baseEnv: { PATH: process.env.PATH },
  }

  it('passes the CUEAPI_* variables and templated env; stdout is the result', async () => {
    const lines: string[] = []
    const run = commandHandler(
      {
        task: 'job-like',
        cmd: 'echo "$CUEAPI_EXECUTION_ID $CUEAPI_CUE_ID $CUEAPI_WORKER_ID $CUEAPI_API_KEY $CUEAPI_BASE_URL $GREETING $CUEKIT_FENCING_TOKEN $CUEAPI_PAYLOAD"',
        cwd: undefined,
        timeoutSeconds: 5,
        env: { GREETING: 'hi {{ payload.name }}' },
      },
      { ...handlerOptions, onOutput: (_c, _s, chunk) => lines.push(chunk) },
    )
    const expected = 'exec_9 cue_1 w9 cue_sk_k http://cuekit.test hi Ada 4 {"name":"Ada"}'
    expect(await run(ctx({ name: 'Ada' }))).toBe(expected)
    expect(lines.join('')).toBe(`${expected}\n`)
  })

  it("reports the outcome file's result and evidence", async () => {
    const run = commandHandler(
      {
        task: 'job-like',
        cmd: `echo ignored; printf '{"result": {"rows": 3}, "summary": "done", "external_id": "x-1", "unknown": 1}' > "$CUEAPI_OUTCOME_FILE"`,
        cwd: undefined,
        timeoutSeconds: 5,
        env: {},
      },
      handlerOptions,
    )
    const c = ctx({})
    expect(await run(c)).toEqual({ rows: 3 })
    // CueAPI's evidence fields only: others are ignored, as CueAPI ignores them.
    expect(c.attached).toEqual({ summary: 'done', external_id: 'x-1' })
  })

  it('a non-zero exit fails with the stderr tail; the outcome file may fail it or make it final', async () => {
    const handler = (cmd: string) =>
      commandHandler({ task: 't', cmd, cwd: undefined, timeoutSeconds: 5, env: {} }, handlerOptions)(ctx({}))
    await expect(handler('echo oops >&2; exit 3')).rejects.toThrow(/^exit code 3: oops$/)
    await expect(
      handler(
        `echo '{"success": false, "error": "quota exceeded", "retry": false}' > "$CUEAPI_OUTCOME_FILE"`,
      ),
    ).rejects.toMatchObject({ name: 'NonRetryableError', message: 'quota exceeded' })
  })

  it('an unusable outcome file is ignored with a warning', async () => {
    const warnings: string[] = []
    const result = await commandHandler(
      {
        task: 't',
        cmd: `echo 'not json' > "$CUEAPI_OUTCOME_FILE"; echo fine`,
        cwd: undefined,
        timeoutSeconds: 5,
        env: {},
      },
      { ...handlerOptions, onWarning: (_c, m) => warnings.push(m) },
    )(ctx({}))
    expect(result).toBe('fine')
    expect(warnings).toEqual(['ignoring the outcome file: not JSON'])
  })

  it('a handler timeout is a failure that says so', async () => {
    const run = commandHandler(
      { task: 't', cmd: 'sleep 10', cwd: undefined, timeoutSeconds: 0.2, env: {} },
      {
        ...handlerOptions,
        killGraceMs: 100,
      },
    )
    await expect(run(ctx({}))).rejects.toThrow('timed out after 0.2 s')
  })
})
