// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax under test
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { type CliIo, runCli } from '../src/cli/app.ts'
import { ConfigError, expandVariables, loadConfig } from '../src/cli/config.ts'
import { fakeServer, json } from './helpers.ts'

const dir = mkdtempSync(join(tmpdir(), 'cuekit-cli-config-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const fallback = { workerId: 'host-1' }
const env = {
  CUEKIT_KEY: 'cue_sk_fromvar',
  HOST: 'cuekit.internal',
  SITE: 'eu',
  EMPTY: '',
  DB: 'postgres://db/reports',
}

describe('cuekit-worker config: environment variables', () => {
  it('expands $VAR and ${VAR} in api_key, api_base, worker_id, cwd and env values; $$ is a literal $', () => {
    const config = loadConfig(
      `
api_key: \${CUEKIT_KEY}
api_base: https://$HOST:8443/
worker_id: reports-\${SITE}$EMPTY
handlers:
  report:
    cmd: 'echo "$CUEAPI_EXECUTION_ID $HOME costs $$5" > \${OUT}'
    cwd: /srv/$SITE
    env:
      DATABASE_URL: $DB
      PRICE: "$$5 and $5 and $ alone"
      N: 3
`,
      fallback,
      { env, file: '/etc/cuekit-worker.yaml' },
    )
    expect(config).toMatchObject({
      apiKey: 'cue_sk_fromvar',
      apiKeySource: 'api_key in /etc/cuekit-worker.yaml (from $CUEKIT_KEY)',
      baseUrl: 'https://cuekit.internal:8443/',
      workerId: 'reports-eu',
    })
    expect(config.handlers[0]).toMatchObject({
      // The shell expands the command when it runs, with the handler's environment.
      cmd: 'echo "$CUEAPI_EXECUTION_ID $HOME costs $$5" > ${OUT}',
      cwd: '/srv/eu',
      env: { DATABASE_URL: 'postgres://db/reports', PRICE: '$5 and $5 and $ alone', N: '3' },
    })
  })

  it('an unset variable is an error naming it and the key; so is a malformed reference', () => {
    const bad: [string, string][] = [
      ['api_key: $CUEKIT_API_KEY\n', 'api_key: $CUEKIT_API_KEY is not set in the environment'],
      ['api_key: k\napi_base: http://${NOPE}:8080\n', 'api_base: $NOPE is not set'],
      ['api_key: k\nhandlers:\n  t: { cmd: "true", cwd: "$WHERE/x" }\n', 'handlers.t.cwd: $WHERE is not set'],
      [
        'api_key: k\nhandlers:\n  t: { cmd: "true", env: { A: "x$MISSING" } }\n',
        'handlers.t.env.A: $MISSING',
      ],
      ['api_key: "${CUEKIT_KEY"\n', 'api_key: unclosed ${CUEKIT_KEY'],
      ['api_key: "${1KEY}"\n', 'api_key: invalid variable name in ${1KEY}'],
    ]
    for (const [text, message] of bad) {
      const config = `${text}${text.includes('handlers') ? '' : 'handlers:\n  t: "true"\n'}`
      expect(() => loadConfig(config, fallback, { env }), text).toThrow(ConfigError)
      expect(() => loadConfig(config, fallback, { env }), text).toThrow(message)
      expect(() => loadConfig(config, fallback, { env }), text).toThrow('write $$ for a literal $')
    }
  })

  it('expandVariables reports the variables it used', () => {
    expect(expandVariables('$A-${B}-$$A', { A: '1', B: '2' }, 'k')).toEqual({
      value: '1-2-$A',
      names: ['A', 'B'],
    })
  })

  it('says where the key came from: the file, or the environment variable', () => {
    const file = loadConfig('api_key: cue_sk_x\nhandlers:\n  t: "true"\n', fallback, { file: '/w.yaml' })
    expect(file.apiKeySource).toBe('api_key in /w.yaml')
    const fromEnv = loadConfig('handlers:\n  t: "true"\n', {
      ...fallback,
      apiKey: 'cue_sk_y',
      apiKeyVariable: 'CUEAPI_API_KEY',
    })
    expect(fromEnv).toMatchObject({
      apiKey: 'cue_sk_y',
      apiKeySource: 'the environment variable CUEAPI_API_KEY',
    })
  })
})

describe('the README', () => {
  it('shows a cuekit-worker config that loads', () => {
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8')
    const yaml = /```yaml\n(# cuekit-worker\.yaml\n[\s\S]*?)```/.exec(readme)?.[1]
    expect(yaml).toBeDefined()
    const config = loadConfig(yaml!, fallback, { env: { CUEKIT_API_KEY: 'cue_sk_readme' } })
    expect(config).toMatchObject({ apiKey: 'cue_sk_readme', workerId: 'reports-1' })
    expect(config.handlers.map((h) => h.task)).toEqual(['backup-db', 'generate-report'])
  })
})

describe('cuekit-worker: a refused API key', () => {
  function io() {
    const lines = { out: [] as string[], err: [] as string[], exit: [] as number[] }
    const cli: CliIo = {
      out: (line) => lines.out.push(line),
      err: (line) => lines.err.push(line),
      exit: (code) => lines.exit.push(code),
      onSignal: () => {},
    }
    return { cli, lines }
  }

  it('names the source of the key: the config file and variable, or the environment variable', async () => {
    const server = await fakeServer((_req, _body, res) =>
      json(res, 401, { error: { code: 'unauthorized', message: 'invalid API key', status: 401 } }),
    )
    try {
      const path = join(dir, 'worker.yaml')
      writeFileSync(path, `api_key: \${MY_KEY}\napi_base: ${server.url}\nhandlers:\n  t: "true"\n`)
      const fromFile = io()
      expect(await runCli(['-c', path], { MY_KEY: 'cue_sk_revoked' }, fromFile.cli)).toBeNull()
      expect(fromFile.lines.exit).toEqual([1])
      expect(fromFile.lines.err).toEqual([
        `cuekit-worker: the server at ${server.url} refused the API key from api_key in ${path} (from $MY_KEY): invalid API key`,
      ])

      writeFileSync(path, `api_base: ${server.url}\nhandlers:\n  t: "true"\n`)
      const fromEnv = io()
      await runCli(['-c', path], { CUEKIT_API_KEY: 'cue_sk_revoked' }, fromEnv.cli)
      expect(fromEnv.lines.err.join('\n')).toContain(
        'refused the API key from the environment variable CUEKIT_API_KEY',
      )
    } finally {
      await server.close()
    }
  })
})
