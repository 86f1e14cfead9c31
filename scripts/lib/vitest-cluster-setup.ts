import type { TestProject } from 'vitest/node'
import { startRedisCluster } from './redis-cluster.ts'

declare module 'vitest' {
  export interface ProvidedContext {
    clusterPorts: number[]
  }
}

/** Global setup of a test project: a private 3-master Redis Cluster. */
export default async function setup(project: TestProject) {
  const cluster = await startRedisCluster(3)
  project.provide('clusterPorts', cluster.ports)
  return async () => {
    await cluster.stop()
  }
}
