// legion permissions starter: prints the starter policy (what applies without a
// config/permissions.yaml) as a commented file to edit:
//   legion permissions starter > config/permissions.yaml
import type { Command } from 'commander';
import { renderStarterPolicyYaml } from '../../shared/config/permissions/starter.js';

export function registerPermissions(program: Command): void {
  const permissions = program.command('permissions').description('the permission matrix (config/permissions.yaml)');
  permissions
    .command('starter')
    .description('print the starter policy as an editable YAML file (redirect it to config/permissions.yaml)')
    .action(() => {
      process.stdout.write(renderStarterPolicyYaml());
    });
}
