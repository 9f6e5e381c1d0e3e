// Docker labels legion puts on what it creates (containers, volumes): they say which
// project and agent a thing belongs to, and are how legion finds its own and only its own.
export const LABELS = { managed: 'legion.managed', project: 'legion.project', agent: 'legion.agent' } as const;
