// The project's configuration as the mesh currently holds it. Reloaded from disk
// after the mesh edits config (agent add/remove); PROJECT.md is read fresh on every
// use so edits reach agents at their next session.
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

  reload(): Project {
    this.project = loadProject(this.project.dir, this.env);
    return this.project;
  }

  projectMd(): string {
    const path = join(this.project.dir, PROJECT_FILES.project);
    return existsSync(path) ? readFileSync(path, 'utf8') : '';
  }
}
