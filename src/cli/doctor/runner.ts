// Runs every `legion doctor` check in order: the machine (Node, Docker), then, in a
// project directory, its files (configuration, permissions, .env, workflows), the
// agent image, agent data volumes, the agents' sandbox (OCI runtime), keys, ports, egress
// protection and the egress allowlist.
// Outside a project directory the project checks are skipped with a line saying so;
// with an invalid configuration, so are the checks that need it. Probes (Docker, a
// listening socket, the running mesh) happen here; the checks themselves are pure.
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type Docker from 'dockerode';
import { isProjectDir, PROJECT_FILES, type Project } from '../../shared/config/project.js';
import { egressPort } from '../../shared/config/schema.js';
import { PACKAGE_ROOT } from '../../shared/paths.js';
import { imageSpec } from '../../mesh/host.js';
import { MeshClient } from '../mesh-client.js';
import type { MeshStatus } from '../../shared/wire/admin.js';
import { checkDocker, checkNode, probeDocker } from './system.js';
import { checkConfig, checkEnvFile, checkPermissionsFile, checkWorkflows, envFileState } from './files.js';
import { checkBrowserImage, checkImage, probeImage } from './image.js';
import { checkSandbox, probeSandbox } from './sandbox.js';
import { checkKeys } from './keys.js';
import { checkPorts, portPlans, probePort, type ProbedPort } from './ports.js';
import { checkEgressProtection, probeFirewall } from './firewall.js';
import { checkAllowlist } from './allowlist.js';
import { readPermissionRules } from '../../shared/config/permissions/file.js';
import { resolveProviders } from '../../shared/config/providers.js';
import { canonicalIp, systemHostAddresses } from '../../shared/config/permissions/addresses.js';
import { checkVolumes, probeVolumes } from './volumes.js';
import { projectId } from '../../shared/state.js';
import { skip, type CheckResult } from './types.js';

export interface DoctorContext {
  dir: string;
  env: NodeJS.ProcessEnv;
  platform: NodeJS.Platform;
  nodeVersion: string;
  docker: Docker;
}

function enginesNode(): string | undefined {
  const pkg = JSON.parse(readFileSync(resolve(PACKAGE_ROOT, 'package.json'), 'utf8')) as {
    engines?: { node?: string };
  };
  return pkg.engines?.node;
}

/** The status of this project's mesh when it runs and answers, else null. */
async function runningMesh(dir: string): Promise<MeshStatus | null> {
  const client = MeshClient.find(dir);
  return client ? client.status().catch(() => null) : null;
}

export async function runDoctor(ctx: DoctorContext): Promise<CheckResult[]> {
  const results: CheckResult[] = [checkNode(ctx.nodeVersion, enginesNode())];
  const dockerProbe = await probeDocker(ctx.docker);
  results.push(checkDocker(dockerProbe, ctx.env, ctx.platform));

  if (!isProjectDir(ctx.dir)) {
    results.push(
      skip(
        'project',
        `no ${PROJECT_FILES.mesh} in ${ctx.dir}: not a legion project directory, so the project checks (configuration, permissions, .env, workflows, agent image, agent sandbox, keys, ports, egress protection) were skipped; run legion doctor in the project directory`,
      ),
    );
    return results;
  }
  const config = checkConfig(ctx.dir, ctx.env);
  results.push(config.result, checkPermissionsFile(ctx.dir), checkEnvFile(envFileState(ctx.dir, ctx.platform)));
  const project = config.project;
  if (!project) {
    results.push(
      skip(
        'project',
        'the workflows, agent image, agent sandbox, keys, ports and egress protection need a valid configuration: checked once it is fixed',
      ),
    );
    return results;
  }
  results.push(checkWorkflows(project));

  const spec = imageSpec(project, ctx.env);
  results.push(
    dockerProbe.reachable
      ? checkImage(await probeImage(ctx.docker, spec), spec)
      : skip('agent image', 'not checked: Docker is not reachable'),
  );
  results.push(
    ...(dockerProbe.reachable
      ? checkVolumes(await probeVolumes(ctx.docker, projectId(ctx.dir), Object.keys(project.agents)))
      : [skip('agent data', 'not checked: Docker is not reachable')]),
  );
  results.push(
    dockerProbe.reachable
      ? checkSandbox(await probeSandbox(ctx.docker, ctx.env), project)
      : skip('agent sandbox', 'not checked: Docker is not reachable'),
  );
  const browserAgents = Object.entries(project.agents).flatMap(([name, entry]) => (entry.browser ? [name] : []));
  results.push(
    dockerProbe.reachable
      ? checkBrowserImage(await probeImage(ctx.docker, spec, 'browser'), spec, browserAgents)
      : skip('browser image', 'not checked: Docker is not reachable'),
  );
  results.push(...checkKeys(project, ctx.env));

  const status = await runningMesh(ctx.dir);
  const plans = portPlans(project.mesh);
  // One at a time: two listeners configured on the same port must not see each other's probe.
  const probed: ProbedPort[] = [];
  for (const plan of plans) probed.push({ plan, probe: status ? null : await probePort(plan) });
  results.push(...checkPorts(probed, status?.mesh.pid ?? null));

  const firewall = await probeFirewall(dockerProbe.reachable ? ctx.docker : null);
  const running = status ? (status.egress.host_isolation ?? 'not containers') : null;
  results.push(checkEgressProtection(firewall, [project.mesh.mesh.port, egressPort(project.mesh.mesh)], running));
  results.push(allowlistCheck(project, firewall.network?.gateway ?? null));
  return results;
}

/** The allowlist against this machine's addresses (and the legion gateway, which may live in a VM) and the providers. */
function allowlistCheck(project: Project, gateway: string | null): CheckResult {
  const hostAddresses = new Set(systemHostAddresses());
  const canonicalGateway = gateway === null ? null : canonicalIp(gateway);
  if (canonicalGateway) hostAddresses.add(canonicalGateway);
  try {
    return checkAllowlist(readPermissionRules(project.dir), {
      hostAddresses,
      providers: [...resolveProviders(project).values()],
    });
  } catch {
    return skip('egress allowlist', 'not checked: the permissions file or a provider base URL is invalid (see above)');
  }
}
