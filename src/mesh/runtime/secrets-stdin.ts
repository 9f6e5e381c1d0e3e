// Hands an agent container its tokens on the stdin of its entrypoint, never in its
// environment: a container's environment is in `docker inspect`, in /proc/1/environ of
// its init process, and inherited by anything started with it. The container is
// created with OpenStdin + StdinOnce; its stdin is attached before it starts, the
// secrets are written as one JSON line and stdin is closed, so the agent server reads
// them to end of file once at boot (src/agent/boot-secrets.ts) and nothing else can.
import type Docker from 'dockerode';
import type { AgentSecrets } from '../../shared/wire/agent.js';

/** Container options that make stdin attachable once. */
export const SECRETS_STDIN_OPTIONS = { OpenStdin: true, StdinOnce: true, AttachStdin: true } as const;

/** Starts `container` (created with SECRETS_STDIN_OPTIONS) with `secrets` on its stdin. */
export async function startWithSecrets(container: Docker.Container, secrets: AgentSecrets): Promise<void> {
  const stdin = await container.attach({ stream: true, stdin: true, hijack: true });
  // A container that dies at once closes the socket under us; its exit is reported by
  // the health wait, not here.
  stdin.on('error', () => undefined);
  try {
    await container.start();
  } catch (err) {
    stdin.end();
    throw err;
  }
  await new Promise<void>((resolve) => stdin.end(`${JSON.stringify(secrets)}\n`, () => resolve()));
}
