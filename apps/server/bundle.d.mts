/** Bundles a TypeScript entry point (workspace sources in, npm packages external) into one ESM file. */
export function bundle(entry: string, outfile: string): Promise<void>
