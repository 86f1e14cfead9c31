// biome-ignore-all lint/suspicious/noTemplateCurlyInString: ${VAR} is the config syntax
import { execFileSync, spawnSync } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { type CliIo, runCli } from '../src/cli/app.ts'
import { type CliRuntime, STOP_MARGIN_SECONDS, systemdWord } from '../src/cli/service.ts'

const dir = mkdtempSync(join(tmpdir(), 'cuekit service-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

const script = fileURLToPath(new URL('../src/cli/main.ts', import.meta.url))
const runtime: CliRuntime = {
  execPath: process.execPath,
  execArgv: [],
  script,
  cwd: dir,
  user: userInfo().username,
}

async function unitFor(args: string[], env: Record<string, string> = {}) {
  const out: string[] = []
  const err: string[] = []
  const exit: number[] = []
  const io: CliIo = {
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    exit: (code) => exit.push(code),
    onSignal: () => {},
  }
  expect(await runCli(['install-service', ...args], env, io, runtime)).toBeNull()
  return { text: out.join('\n'), err, exit }
}

/** The unit's settings by section: `{ Service: { ExecStart: [...] } }` (a key may repeat). */
function settings(unit: string): Record<string, Record<string, string[]>> {
  const sections: Record<string, Record<string, string[]>> = {}
  let current: Record<string, string[]> | undefined
  for (const line of unit.split('\n')) {
    if (line === '' || line.startsWith('#')) continue
    const header = /^\[(\w+)\]$/.exec(line)
    if (header) {
      current = sections[header[1]!] = {}
      continue
    }
    const eq = line.indexOf('=')
    expect(eq, `not a setting: ${line}`).toBeGreaterThan(0)
    expect(current, `a setting outside a section: ${line}`).toBeDefined()
    const key = line.slice(0, eq)
    current![key] = [...(current![key] ?? []), line.slice(eq + 1)]
  }
  return sections
}

describe('cuekit-worker install-service', () => {
  const config = join(dir, 'worker.yaml')
  // The key comes from a variable systemd sets: printing the unit must not need it.
  writeFileSync(config, 'api_key: ${CUEKIT_API_KEY}\nshutdown_timeout: 45\nhandlers:\n  t: "true"\n')

  it('prints a unit that runs node on the CLI with the config, restarts on failure and stops gracefully', async () => {
    const { text, err, exit } = await unitFor(['--config', config], { PATH: '/opt/tools/bin:/usr/bin' })
    expect(err).toEqual([])
    expect(exit).toEqual([])
    const unit = settings(text)
    expect(Object.keys(unit)).toEqual(['Unit', 'Service', 'Install'])
    // "cuekit service-" has a space: the words are quoted.
    expect(unit.Service).toMatchObject({
      Type: ['simple'],
      User: [userInfo().username],
      WorkingDirectory: [dir],
      ExecStart: [`${process.execPath} ${script} start --config "${config}"`],
      Environment: ['PATH=/opt/tools/bin:/usr/bin'],
      Restart: ['on-failure'],
      RestartPreventExitStatus: ['2'],
      KillSignal: ['SIGTERM'],
      KillMode: ['mixed'],
      TimeoutStopSec: [String(45 + STOP_MARGIN_SECONDS)],
    })
    expect(unit.Service!.ExecStart![0]).not.toMatch(/\bnpx\b|\bnpm\b/)
    expect(unit.Install).toEqual({ WantedBy: ['multi-user.target'] })
    expect(text).toContain(`sudo tee /etc/systemd/system/cuekit-worker.service`)
  })

  it('takes a unit name and a user, and defaults shutdown_timeout to 30 s', async () => {
    const plain = join(dir, 'plain.yaml')
    writeFileSync(plain, 'handlers:\n  t: "true"\n')
    const { text } = await unitFor([`--config=${plain}`, '--name', 'reports-worker', '--user', 'reports'])
    const unit = settings(text)
    expect(unit.Service).toMatchObject({
      User: ['reports'],
      TimeoutStopSec: [String(30 + STOP_MARGIN_SECONDS)],
      EnvironmentFile: ['-/etc/reports-worker.env'],
    })
    expect(text).toContain('systemctl enable --now reports-worker')
  })

  it('refuses a config it cannot read and a name systemd would not take', async () => {
    const missing = await unitFor(['--config', join(dir, 'nope.yaml')])
    expect(missing.exit).toEqual([2])
    expect(missing.err.join('')).toContain('nope.yaml')
    const bad = join(dir, 'bad.yaml')
    writeFileSync(bad, 'shutdown_timeout: soon\nhandlers:\n  t: "true"\n')
    expect((await unitFor(['--config', bad])).err.join('')).toContain('shutdown_timeout: ')
    expect((await unitFor(['--config', config, '--name', 'a b'])).exit).toEqual([2])
  })

  it('quotes and escapes ExecStart words as systemd reads them', () => {
    expect(systemdWord('/usr/bin/node')).toBe('/usr/bin/node')
    expect(systemdWord('/srv/my app/w.yaml')).toBe('"/srv/my app/w.yaml"')
    expect(systemdWord('/srv/100%/$HOME')).toBe('"/srv/100%%/$$HOME"')
    expect(systemdWord('say "hi" \\ bye')).toBe('"say \\"hi\\" \\\\ bye"')
    expect(() => systemdWord('two\nlines')).toThrow(RangeError)
  })

  const analyze = (() => {
    try {
      execFileSync('systemd-analyze', ['--version'], { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  })()

  it.skipIf(!analyze)('systemd-analyze verify accepts the unit', async () => {
    const { text } = await unitFor(['--config', config])
    const file = join(dir, 'cuekit-worker.service')
    writeFileSync(file, text)
    const result = spawnSync('systemd-analyze', ['verify', file], { encoding: 'utf8' })
    // Complaints about this unit name its file; other lines are about the machine's own units.
    const complaints = `${result.stdout}${result.stderr}`.split('\n').filter((l) => l.includes(file))
    expect({ status: result.status, complaints }).toEqual({ status: 0, complaints: [] })
  })
})
