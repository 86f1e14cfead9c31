// Bundles a TypeScript entry point of this monorepo into one ESM file: workspace packages
// (@cuekit/*) from their sources, npm packages left external (resolved from node_modules when the
// bundle runs). Used by start.mjs for the server, and by the bench and chaos harnesses so that
// every process they start runs the same way.
import { readFile } from 'node:fs/promises'
import { pathToFileURL } from 'node:url'
import { build } from 'esbuild'

/** @param {string} entry @param {string} outfile */
export async function bundle(entry, outfile) {
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    conditions: ['cuekit-source'],
    logLevel: 'warning',
    plugins: [
      {
        name: 'cuekit',
        setup(b) {
          b.onResolve({ filter: /^[^./]/ }, (args) =>
            args.path.startsWith('@cuekit/') ? undefined : { path: args.path, external: true },
          )
          // Source files find their neighbours (Lua scripts, the dashboard's client) relative to
          // themselves: keep import.meta.url pointing at the source file, not at the bundle.
          b.onLoad({ filter: /\.ts$/ }, async (args) => {
            const text = await readFile(args.path, 'utf8')
            return {
              contents: text.replaceAll('import.meta.url', JSON.stringify(pathToFileURL(args.path).href)),
              loader: 'ts',
            }
          })
        },
      },
    ],
  })
}
