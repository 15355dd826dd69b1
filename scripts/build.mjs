// Bundles the CLI into one ESM file (dist/airlock.mjs) with every dependency inlined,
// so the same file runs on the isolated side with plain `node` and no node_modules.
// better-sqlite3 is native and cannot be inlined: it is loaded lazily, only for SQLite targets.
// @cyclonedx/cyclonedx-library probes optional XML and validation plugins inside try/catch; airlock
// writes JSON only, so they stay out (a probe that finds nothing is what the library expects).
import { build } from 'esbuild';

await build({
  entryPoints: ['src/bin.ts'],
  outfile: 'dist/airlock.mjs',
  bundle: true,
  platform: 'node',
  format: 'esm',
  target: 'node20',
  sourcemap: 'linked',
  legalComments: 'none',
  external: ['better-sqlite3', 'pg-native', 'xmlbuilder2', 'libxmljs2', 'ajv', 'ajv-formats', 'ajv-formats-draft2019'],
  // Inlined CommonJS packages (node-forge, pg) still call require() for Node built-ins.
  banner: { js: "import { createRequire as __airlockRequire } from 'node:module'; const require = __airlockRequire(import.meta.url);" },
  logLevel: 'warning',
});
