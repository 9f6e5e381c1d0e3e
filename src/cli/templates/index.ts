// Team templates: the shipped templates/*.yaml, listed, loaded and applied to a project.
export { listTemplates, loadTemplate, parseTemplate, type Template, type TemplateSummary } from './load.js';
export { applyTemplate, planTemplate, writePlannedFiles, type TemplatePlan } from './apply.js';
