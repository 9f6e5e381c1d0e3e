// The memory index's view of the workspace, held in memory: the rows of memory_files
// (path, size, mtime, sha256) and memory_dirs (path, mtime), with each directory's
// children, so reconciling one directory costs its own entries, not the workspace's.
// Invariants: only MemoryIndex changes it, each change right after the matching table
// write; paths are workspace-relative with '/', the workspace itself is ''.

export interface FileRow {
  path: string;
  sha256: string;
  mtime_ms: number;
  size: number;
  indexed_at_ms: number;
}

export interface DirRow {
  path: string;
  mtime_ms: number;
  checked_at_ms: number;
}

export function parentOf(relative: string): string {
  const slash = relative.lastIndexOf('/');
  return slash < 0 ? '' : relative.slice(0, slash);
}

export function childPath(dir: string, name: string): string {
  return dir === '' ? name : `${dir}/${name}`;
}

export class WorkspaceView {
  readonly files = new Map<string, FileRow>();
  readonly dirs = new Map<string, DirRow>();
  private readonly children = new Map<string, Set<string>>();

  constructor(files: readonly FileRow[], dirs: readonly DirRow[]) {
    for (const row of files) this.setFile(row);
    for (const row of dirs) this.setDir(row);
  }

  setFile(row: FileRow): void {
    this.files.set(row.path, row);
    this.link(row.path);
  }

  deleteFile(relative: string): void {
    this.files.delete(relative);
    this.unlink(relative);
  }

  setDir(row: DirRow): void {
    this.dirs.set(row.path, row);
    if (row.path !== '') this.link(row.path);
  }

  deleteDir(relative: string): void {
    this.dirs.delete(relative);
    this.unlink(relative);
  }

  /** The files and directories the view holds directly inside `dir`. */
  childrenOf(dir: string): string[] {
    return [...(this.children.get(dir) ?? [])];
  }

  /** Every file and directory the view holds under `dir`, `dir` itself included when it is a directory of the view. */
  subtree(dir: string): { files: string[]; dirs: string[] } {
    const files: string[] = [];
    const dirs: string[] = this.dirs.has(dir) ? [dir] : [];
    const walk = (at: string): void => {
      for (const child of this.children.get(at) ?? []) {
        if (this.files.has(child)) files.push(child);
        if (this.dirs.has(child)) dirs.push(child);
        walk(child);
      }
    };
    walk(dir);
    return { files, dirs };
  }

  private link(relative: string): void {
    const parent = parentOf(relative);
    const set = this.children.get(parent) ?? new Set<string>();
    set.add(relative);
    this.children.set(parent, set);
  }

  private unlink(relative: string): void {
    // A path may be a file and, after a swap, a directory of the view for a moment: keep the link while either holds it.
    if (this.files.has(relative) || this.dirs.has(relative)) return;
    const parent = parentOf(relative);
    const set = this.children.get(parent);
    set?.delete(relative);
    if (set?.size === 0) this.children.delete(parent);
  }
}
