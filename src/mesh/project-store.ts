// The project's configuration as the mesh currently holds it. Reloaded from disk
// after the mesh edits config (agent add/remove), replaced by the config reloader
// after a valid edit; PROJECT.md is read fresh on every use so edits reach agents at
// their next session. The mesh settings in force change only through replace(): the
// reloader decides which of them may change while the mesh runs.
import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadProject, PROJECT_FILES, type Project } from '../shared/config/project.js';

export class ProjectStore {
  private project: Project;
  private readonly env: NodeJS.ProcessEnv;

  constructor(project: Project, env: NodeJS.ProcessEnv = process.env) {
    this.project = project;
    this.env = env;
  }

  get(): Project {
    return this.project;
  }

  /** Re-reads the agents after the mesh wrote config/agents.yaml; the mesh settings in force stay. */
  reload(): Project {
    this.project = { ...loadProject(this.project.dir, this.env), mesh: this.project.mesh };
    return this.project;
  }

  /** The config reloader's result: a complete project, checked. */
  replace(project: Project): void {
    this.project = project;
  }

  /** Reads the files as they are now, without installing them; throws ConfigError. */
  read(): Project {
    return loadProject(this.project.dir, this.env);
  }

  projectMd(): string {
    const path = join(this.project.dir, PROJECT_FILES.project);
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  }
}
