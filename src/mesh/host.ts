// The host-side Docker helpers the CLI uses without a running mesh: the agent image (its
// spec, tag, build), whether the engine answers and which OCI runtimes it has, agents'
// data volumes, and the firewall rules doctor checks. With the daemon entry (daemon.ts),
// this is the only module of src/mesh that src/cli may import (.dependency-cruiser.cjs).
export { assertDockerReachable, bridgeName, NETWORK_NAME } from './runtime/docker.js';
export { manualFirewallCommands, systemFirewallHost, type FirewallHost } from './runtime/firewall.js';
export {
  buildImage,
  imageExists,
  imageRepository,
  imageSpec,
  imageTag,
  type ImageSpec,
  type ImageVariant,
} from './runtime/image.js';
export { chooseRuntime, engineRuntimes, gvisorLacksHostNetwork, type EngineRuntime } from './runtime/oci-runtime.js';
export {
  adoptVolume,
  agentVolumes,
  findAgentVolume,
  legacyVolumeName,
  projectVolumeName,
  purgeAgentData,
  type VolumeChoice,
} from './runtime/volumes.js';
