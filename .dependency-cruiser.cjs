// Dependency rules for src/: one rule per layer of scripts/layers.cjs (imports point down), no
// cycles, nothing imports the public index. `npm test` runs `npm run lint:deps`.
const { LAYERS } = require('./scripts/layers.cjs');

const esc = (s) => s.replace(/[.]/g, '\\.');
const pathOf = (entry) => (entry.endsWith('.ts') ? `^src/${esc(entry)}$` : `^src/${esc(entry)}/`);
const rules = LAYERS.slice(0, -1).map((layer, i) => {
  const above = LAYERS.slice(i + 1).flat();
  return {
    name: `layer-${layer.join('+').replace(/\.ts$/, '')}`,
    comment: `${layer.join(', ')} may not import a higher layer (${above.join(', ')}); pass what it needs in, or move the file down.`,
    severity: 'error',
    from: { path: layer.map(pathOf).join('|') },
    to: { path: above.map(pathOf).join('|') },
  };
});

/** Packages whose values src/ reaches through one module of its own (rule load-once). */
const LOAD_ONCE = ['zod', '@bufbuild/protobuf', 'jsonwebtoken'].map(esc).join('|');

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    ...rules,
    {
      name: 'no-cycle',
      comment: 'An import cycle: break it by moving the shared part down a layer.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'no-public-index-inside',
      comment: 'Nothing inside src/ imports the public API file (src/index.ts).',
      severity: 'error',
      from: { path: '^src/', pathNot: '^src/index\\.ts$' },
      to: { path: '^src/index\\.ts$' },
    },
    {
      name: 'load-once',
      comment:
        "zod, @bufbuild/protobuf and jsonwebtoken are loaded through src/config/zod.ts, src/proto/protobuf.ts and src/auth/jsonwebtoken.ts (one copy each, their CommonJS builds, jsonwebtoken on first use: what start-up to SERVING saves); import their values from there, types from the package ('import type').",
      severity: 'error',
      from: { path: '^src/' },
      to: {
        path: `(^|/)node_modules/(${LOAD_ONCE})/|^(${LOAD_ONCE})(/|$)`,
        dependencyTypesNot: ['type-only'],
      },
    },
    {
      name: 'layer-unknown',
      comment: 'Every folder of src/ is in LAYERS (.dependency-cruiser.cjs): add a new one there, at its place.',
      severity: 'error',
      from: { path: '^src/', pathNot: LAYERS.flat().map(pathOf).join('|') },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(node_modules|generated)/' },
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'], extensions: ['.ts', '.js', '.mjs'] },
  },
};
