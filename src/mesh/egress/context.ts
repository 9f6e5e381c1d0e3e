// What the mesh's destination checks (egress proxy, POST /mesh/http) know of the world:
// the system's DNS, this machine's interface addresses read at each decision, and the
// model endpoints of the project's providers as configured now. Invariant: a provider
// list that cannot be read (a bad base-URL override in a config edit) never empties
// the endpoint list: the last one read stays in force.
import type { Project } from '../../shared/config/project.js';
import { resolveProviders } from '../../shared/config/providers.js';
import { systemHostAddresses } from '../../shared/config/permissions/addresses.js';
import { systemResolver, type DestinationContext } from './destination.js';
import { modelEndpoints, type ModelProvider } from './model-endpoints.js';

export function meshDestinations(project: () => Project): DestinationContext {
  let last: ModelProvider[] = [];
  const providers = (): ModelProvider[] => {
    try {
      last = [...resolveProviders(project()).values()].map(({ name, baseUrl }) => ({ name, baseUrl }));
    } catch {
      // resolveProviders already refused this configuration where it was loaded.
    }
    return last;
  };
  return {
    resolve: systemResolver,
    hostAddresses: systemHostAddresses,
    modelEndpoints: modelEndpoints(providers, systemResolver),
  };
}
