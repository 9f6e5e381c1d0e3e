// The tools every agent gets, in the order the model sees them. Kept apart from
// registry.ts so the tool modules can import the registry without a cycle.
import { execTool } from './exec.js';
import { listFilesTool, readFileTool, writeFileTool } from './files.js';
import type { Tool } from './registry.js';

export const BUILTIN_TOOLS: readonly Tool[] = [execTool, readFileTool, writeFileTool, listFilesTool];
