// Docker labels legion puts on what it creates (containers, volumes): they say which
// project and agent a thing belongs to, and are how legion finds its own and only its own.
// A sub-agent's container and volume also carry legion.parent: a mesh that starts finds
// them by it and removes them (no sub-agent run outlives the mesh that started it).
export const LABELS = {
  managed: 'legion.managed',
  project: 'legion.project',
  agent: 'legion.agent',
  parent: 'legion.parent',
} as const;
