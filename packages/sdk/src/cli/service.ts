/**
 * `cuekit-worker install-service`: a systemd unit that runs the daemon as it should run under a
 * supervisor. The facts it encodes:
 * - ExecStart is node on the CLI script itself. `npx cuekit-worker` is npm → sh → node, and a
 *   SIGTERM to npm ends npm and sh but never reaches node, which keeps running, orphaned (checked
 *   with npm 11 on Node 20); the same holds for `npm start`.
 * - KillMode=mixed: the stop signal goes to the worker alone, which stops claiming and lets running
 *   handlers finish for `shutdown_timeout`. With systemd's default (control-group) every handler
 *   process would get SIGTERM at once. Whatever is still running at TimeoutStopSec gets SIGKILL.
 * - TimeoutStopSec covers the worker's graceful stop: `shutdown_timeout` for handlers, then up to
 *   5 s for their process groups to exit, the release requests (10 s each) and at least 5 s for
 *   outcomes not yet reported; 30 s of margin holds all of that.
 * - Exit code 2 (a config that cannot run) is not restarted: it will not fix itself.
 */

import { realpathSync } from 'node:fs'
import { userInfo } from 'node:os'

/** How the running CLI was started: the unit starts it the same way. */
export interface CliRuntime {
  /** The node binary (`process.execPath`). */
  execPath: string
  /** Node's own options (`process.execArgv`), e.g. `--conditions=…` when run from sources. */
  execArgv: string[]
  /** The CLI script, symlinks resolved (`node_modules/@cuekit/sdk/dist/cli/main.js`). */
  script: string
  cwd: string
  user: string
}

/** This process's runtime. */
export function processRuntime(): CliRuntime {
  const script = process.argv[1] ?? ''
  return {
    execPath: process.execPath,
    execArgv: process.execArgv,
    script: script === '' ? script : realpathSync(script),
    cwd: process.cwd(),
    user: userInfo().username,
  }
}

export interface ServiceOptions {
  runtime: CliRuntime
  /** The config, an absolute path. */
  config: string
  /** The unit's name, without `.service`. */
  name: string
  /** The user the service runs as. */
  user: string
  /** The config's `shutdown_timeout`, in seconds. */
  shutdownTimeoutSeconds: number
  /** The PATH handler commands see (systemd's default is short). */
  path: string | undefined
}

/** Seconds the unit gives the worker's graceful stop beyond `shutdown_timeout` (see the module comment). */
export const STOP_MARGIN_SECONDS = 30

/** `%` starts a systemd specifier and `$` a variable, in every setting that takes them. */
function escapeSpecifiers(value: string): string {
  return value.replaceAll('%', '%%').replaceAll('$', '$$$$')
}

/** One word of ExecStart= or Environment=, quoted when it needs to be. */
export function systemdWord(value: string): string {
  if (/[\n\r]/.test(value))
    throw new RangeError(`a systemd unit cannot hold a line break: ${JSON.stringify(value)}`)
  const escaped = escapeSpecifiers(value)
  if (/^[A-Za-z0-9_@+=:,./-]+$/.test(value)) return escaped
  return `"${escaped.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`
}

/** A path as the whole value of a setting such as WorkingDirectory=. */
function systemdPath(value: string): string {
  if (/[\n\r]/.test(value))
    throw new RangeError(`a systemd unit cannot hold a line break: ${JSON.stringify(value)}`)
  return escapeSpecifiers(value)
}

/** The unit file text. */
export function systemdUnit(options: ServiceOptions): string {
  const { runtime, config, name } = options
  const exec = [runtime.execPath, ...runtime.execArgv, runtime.script, 'start', '--config', config]
  const stopSeconds = Math.ceil(options.shutdownTimeoutSeconds) + STOP_MARGIN_SECONDS
  const lines = [
    `# cuekit-worker for ${config}, as a systemd service. To install it:`,
    `#   cuekit-worker install-service --config ${config} | sudo tee /etc/systemd/system/${name}.service`,
    `#   sudo systemctl daemon-reload && sudo systemctl enable --now ${name}`,
    `#   journalctl -u ${name} -f`,
    '',
    '[Unit]',
    `Description=Cuekit worker (${systemdPath(config)})`,
    'Wants=network-online.target',
    'After=network-online.target',
    '',
    '[Service]',
    'Type=simple',
    `User=${systemdPath(options.user)}`,
    `WorkingDirectory=${systemdPath(runtime.cwd)}`,
    '# node on the CLI itself, not npx or npm start: those do not pass SIGTERM on to the worker.',
    `ExecStart=${exec.map(systemdWord).join(' ')}`,
    ...(options.path === undefined ? [] : [`Environment=${systemdWord(`PATH=${options.path}`)}`]),
    `# Optional, for secrets kept out of the config (chmod 600): CUEKIT_API_KEY=cue_sk_…`,
    `EnvironmentFile=-/etc/${name}.env`,
    'Restart=on-failure',
    'RestartSec=5',
    '# Exit code 2 is a config that cannot run: restarting would not fix it.',
    'RestartPreventExitStatus=2',
    `# SIGTERM to the worker alone: it stops claiming, gives running handlers shutdown_timeout`,
    `# (${options.shutdownTimeoutSeconds} s), then releases what is left; SIGKILL only if it overruns.`,
    'KillSignal=SIGTERM',
    'KillMode=mixed',
    `TimeoutStopSec=${stopSeconds}`,
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ]
  return lines.join('\n')
}
