// `npm run build`: bundles the server into apps/server/dist/main.mjs (or the path given), the file a
// supervisor runs with `node` directly (docs/deployment.md). Like `npm start`'s bundle it reads the
// Lua scripts and the dashboard's client from this checkout and npm packages from its node_modules,
// so it runs from here, not copied elsewhere.
import { fileURLToPath } from 'node:url'
import { bundle } from './bundle.mjs'

const here = fileURLToPath(new URL('./', import.meta.url))
const outfile = process.argv[2] ?? `${here}dist/main.mjs`
await bundle(`${here}src/main.ts`, outfile)
console.log(`built ${outfile}: run it with node ${outfile}`)
