// The layering of src/, checked by `npm run lint:deps` (dependency-cruiser):
// - src/shared is the base (config rules, wire formats, helpers): it imports none of the others;
// - src/agent (inside the container) and src/mesh (the host daemon) never import each other;
// - src/cli imports from src/mesh only the daemon entry (to run the mesh in-process for
//   `legion start`) and the host-side Docker module (src/mesh/host.ts); every config rule
//   it checks offline lives in src/shared/config, where the mesh reads it too;
// - no import cycles anywhere, type-only imports included.
/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      comment: 'An import cycle: move what both sides need into a module both can import one way.',
      severity: 'error',
      from: { path: '^src/' },
      to: { circular: true },
    },
    {
      name: 'shared-imports-no-layer-above',
      comment: 'src/shared is used by cli, mesh and agent, so it cannot depend on any of them.',
      severity: 'error',
      from: { path: '^src/shared/' },
      to: { path: '^src/(cli|mesh|agent)/' },
    },
    {
      name: 'agent-not-mesh',
      comment: 'The agent runs in its container and talks to the mesh over HTTP only; shared types go in src/shared.',
      severity: 'error',
      from: { path: '^src/agent/' },
      to: { path: '^src/(mesh|cli)/' },
    },
    {
      name: 'mesh-not-agent',
      comment: 'The mesh talks to agents over HTTP only; shared types go in src/shared.',
      severity: 'error',
      from: { path: '^src/mesh/' },
      to: { path: '^src/(agent|cli)/' },
    },
    {
      name: 'cli-uses-mesh-through-two-modules',
      comment:
        'src/cli may import src/mesh/daemon.ts (to run the mesh) and src/mesh/host.ts (host-side Docker helpers) only. ' +
        'A config rule the CLI needs belongs in src/shared/config; a Docker helper is re-exported from src/mesh/host.ts.',
      severity: 'error',
      from: { path: '^src/cli/' },
      to: { path: '^src/mesh/', pathNot: '^src/mesh/(daemon|host)\\.ts$' },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    // Type-only imports count: a cycle or a layer crossing through types is still one.
    tsPreCompilationDeps: true,
    enhancedResolveOptions: { exportsFields: ['exports'], conditionNames: ['import', 'require', 'node', 'default'] },
  },
};
