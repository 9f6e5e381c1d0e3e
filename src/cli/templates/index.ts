// Team templates: the shipped templates/*.yaml, listed, loaded and applied to a project.
export { listTemplates, loadTemplate, parseTemplate, type Template, type TemplateAgent, type TemplateSummary, type TemplateWorkflow } from './load.js';
export { applyTemplate, planTemplate, writePlannedFiles, type AppliedTemplate, type ApplyOptions, type PlannedFile, type TemplatePlan } from './apply.js';
