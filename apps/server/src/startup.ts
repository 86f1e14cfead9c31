import type { Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { Cluster, Redis } from 'ioredis'

/**
 * The server's exit codes, so that a supervisor can tell a mistake to fix from a fault to retry
 * (docs/deployment.md lists them; a systemd unit restarts on 1, 3 and 4, not on 2).
 */
export const EXIT = {
  /** Stopped by SIGTERM or SIGINT after draining. */
  ok: 0,
  /** Anything unexpected: an uncaught error, or in-flight requests that did not finish in 30 s. */
  failure: 1,
  /** The environment does not parse (a setting is missing or malformed). */
  config: 2,
  /** REDIS_URL or REDIS_CLUSTER_NODES does not answer at startup. */
  storage: 3,
  /** PORT/HOST cannot be listened on (in use, not permitted, not an address of this machine). */
  listen: 4,
  /** The store holds Cuekit data of another storage format (see docs/deployment.md). */
  storageFormat: 5,
} as const

/** Startup stops with one line for the operator and an exit code; no stack trace. */
export class StartupError extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
  ) {
    super(message)
  }
}

/** A Redis URL as it may be printed: the password replaced. */
export function redactUrl(url: string): string {
  try {
    const parsed = new URL(url)
    if (parsed.password) parsed.password = '***'
    return parsed.href
  } catch {
    return '(unparseable URL)'
  }
}

/** Whatever answers first: the client is ready, or the reason it is not. */
function firstAnswer(client: Redis | Cluster, timeoutMs: number): Promise<Error | null> {
  if (client.status === 'ready') return Promise.resolve(null)
  return new Promise((resolve) => {
    const done = (error: Error | null) => {
      clearTimeout(timer)
      client.off('ready', onReady)
      client.off('error', onError)
      resolve(error)
    }
    const onReady = () => done(null)
    const onError = (error: Error) => done(error)
    const timer = setTimeout(() => done(new Error(`no answer within ${timeoutMs / 1000} s`)), timeoutMs)
    client.on('ready', onReady)
    client.on('error', onError)
  })
}

export interface SeedNode {
  host: string
  port: number
}

/** A cluster's own error hides the cause ("Connection is closed."): ask a seed node directly. */
async function seedReason(client: Cluster, seeds: SeedNode[]): Promise<string | null> {
  for (const node of seeds) {
    const probe = new Redis({
      ...client.options.redisOptions,
      host: node.host,
      port: node.port,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    })
    let reason: string | null = null
    probe.on('error', (error: Error) => {
      reason ??= error.message
    })
    try {
      await probe.connect()
      await probe.ping()
    } catch {
      // `reason` holds the cause; connect()'s own rejection only says the connection closed.
    } finally {
      probe.disconnect()
    }
    if (reason) return `${node.host}:${node.port}: ${reason}`
  }
  return null
}

/**
 * Waits until storage answers. `setting` names what the operator set (e.g. `REDIS_URL=redis://…`);
 * it leads the line printed when storage does not answer. A refused connection, an unknown host or
 * a refused password answer at once; a host that drops packets answers with ioredis's connect
 * timeout (10 s). `seeds`: a cluster's seed nodes, asked directly for the cause when it fails.
 */
export async function awaitStorage(
  client: Redis | Cluster,
  setting: string,
  seeds: SeedNode[] = [],
  timeoutMs = 20_000,
): Promise<void> {
  const error = await firstAnswer(client, timeoutMs)
  if (!error) return
  let reason = error.message
  const lastNodeError = (error as { lastNodeError?: Error }).lastNodeError
  if (client instanceof Cluster) {
    reason =
      (lastNodeError && !/connection is closed/i.test(lastNodeError.message)
        ? lastNodeError.message
        : null) ??
      (await seedReason(client, seeds)) ??
      reason
  }
  client.disconnect()
  throw new StartupError(`${setting} is not reachable: ${reason}`, EXIT.storage)
}

/** Listens, or throws a StartupError that names PORT and HOST. */
export function listen(server: Server, port: number, host: string): Promise<AddressInfo> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening)
      const where = `PORT ${port} (HOST ${host})`
      const line =
        error.code === 'EADDRINUSE'
          ? `PORT ${port} is in use (HOST ${host})`
          : error.code === 'EACCES'
            ? `${where} cannot be listened on: permission denied (ports below 1024 need privileges)`
            : error.code === 'EADDRNOTAVAIL'
              ? `HOST ${host} is not an address of this machine (PORT ${port})`
              : error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN'
                ? `HOST ${host} does not resolve (PORT ${port})`
                : `${where} cannot be listened on: ${error.message}`
      reject(new StartupError(line, EXIT.listen))
    }
    const onListening = () => {
      server.off('error', onError)
      resolve(server.address() as AddressInfo)
    }
    server.once('error', onError)
    server.once('listening', onListening)
    server.listen(port, host)
  })
}
