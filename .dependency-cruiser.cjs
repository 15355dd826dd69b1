/**
 * The layers of src/, bottom up: a module may import its own folder and the folders of lower
 * layers, never a higher layer nor another folder of its own layer. This file is the truth;
 * docs/ARCHITECTURE.md draws it. `npm test` runs it (scripts/test.sh).
 */
const LAYERS = [
  ['base'], //                      errors, validation, crash points, small shared helpers
  ['fs', 'ui'], //                  durable writes and byte sources; terminal output and prompts
  ['hash'], //                      SHA-256 and the worker pool
  ['oci', 'bundle'], //             formats: OCI documents and references; the bundle's tar layout
  ['manifest'], //                  zod schemas: release manifest, airlock.json, site file
  ['trust'], //                     keys, signatures, certificates, trust store, policy, signed lists
  ['images', 'media', 'telemetry', 'evidence'], // registries and OCI layouts; release media volumes; Prometheus queries and
  //                                deployment markers; upstream image signatures judged
  ['verify'], //                    the bundle verifier and loading a verified bundle
  ['install', 'build', 'report', 'serve'], // the installer, the builder, the officer's report, the read-only registry
  ['commands'], //                  one file per verb
  ['cli'], //                       argument parsing, exit codes, the executable
];

const folder = (name) => (name === 'cli' ? '^src/(cli|bin|exit-codes)\\.ts$' : `^src/${name}/`);

const layerRules = LAYERS.flatMap((layer, level) =>
  layer.flatMap((name) => {
    const higher = LAYERS.slice(level + 1).flat();
    const peers = layer.filter((other) => other !== name);
    if (higher.length + peers.length === 0) return [];
    return {
      name: `layer-${name}`,
      comment: `src/${name} may import only ${LAYERS.slice(0, level).flat().join(', ') || 'nothing else in src'} (and itself)`,
      severity: 'error',
      from: { path: folder(name) },
      to: { path: [...higher, ...peers].map(folder) },
    };
  }),
);

module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'no module may depend on itself through others',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
    ...layerRules,
    {
      name: 'src-not-from-tests',
      comment: 'the product never imports test or bench code',
      severity: 'error',
      from: { path: '^src/' },
      to: { path: '^(test|bench)/' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.js'] },
  },
};
