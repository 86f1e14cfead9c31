import type { TestProject } from 'vitest/node'
import { startRedisServer } from './redis-server.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    redisUrl: string
  }
}

/** Global setup of a test project: one private redis-server for the project's test files. */
export default async function setup(project: TestProject) {
  const server = await startRedisServer()
  project.provide('redisUrl', server.url)
  return async () => {
    await server.stop()
  }
}
