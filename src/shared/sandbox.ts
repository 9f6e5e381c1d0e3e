// The words legion uses about agents' OCI runtime, shared by the mesh (start), the
// CLI (status, doctor) and the docs: the config values, the one-line warning when
// agents run without a sandboxing runtime, and how to get gVisor on a Debian host.

/** The config value that picks gVisor when the engine has it, else runc. */
export const AUTO_RUNTIME = 'auto';
/** The name gVisor is registered under (daemon.json `runtimes`). */
export const GVISOR_RUNTIME = 'runsc';

/** The daemon.json entry that registers gVisor; --network=host makes runsc use the
 *  container's network namespace, so Docker's network and legion's firewall still apply. */
export const GVISOR_DAEMON_JSON =
  '{"runtimes": {"runsc": {"path": "/usr/bin/runsc", "runtimeArgs": ["--network=host"]}}}';

/** How to get gVisor, step by step, for doctor's hint. */
export const GVISOR_HOWTO = [
  'install gVisor: sudo apt-get install runsc (Debian/Ubuntu; elsewhere see https://gvisor.dev/docs/user_guide/install/)',
  `register it with Docker in /etc/docker/daemon.json (merge with what is there): ${GVISOR_DAEMON_JSON}`,
  'reload the engine: sudo kill -HUP $(pidof dockerd) (or sudo systemctl reload docker); running containers keep running',
  `then \`runtime: auto\` (the default) or \`runtime: ${GVISOR_RUNTIME}\` in config/mesh.yaml, and restart the fleet (legion stop; legion start)`,
].join('; ');

/** The one line `legion start` and `legion status` print when some agents share the host's kernel, else null. */
export function unsandboxedWarning(agents: readonly { name: string; runtime: string }[]): string | null {
  if (agents.length === 0) return null;
  const list = agents.map((a) => `${a.name} (${a.runtime})`).join(', ');
  return `warning: ${agents.length === 1 ? 'agent' : 'agents'} ${list} run without a sandboxing runtime: a kernel exploit inside one reaches the host kernel; \`legion doctor\` says how to run them under gVisor`;
}
