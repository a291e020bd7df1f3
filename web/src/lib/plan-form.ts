// The plan builder's form, derived from each step type's options schema (GET
// /v1/enrichment/step-types), and the POST /v1/enrichment/plans body it makes.
import type { JsonSchema, StepType } from '../api/types';

export type FieldKind = 'number' | 'text' | 'choice' | 'providers';

export interface OptionField {
  name: string;
  kind: FieldKind;
  required: boolean;
  min?: number;
  max?: number;
  choices?: string[];
  description?: string;
}

/** The fields a step's options schema asks for; nested objects (an accept rule) are left to the API. */
export function optionFields(schema: JsonSchema): OptionField[] {
  const required = new Set(schema.required ?? []);
  const fields: OptionField[] = [];
  for (const [name, prop] of Object.entries(schema.properties ?? {})) {
    const type = Array.isArray(prop.type) ? prop.type.find((t) => t !== 'null') : prop.type;
    const base = { name, required: required.has(name), ...(prop.description ? { description: prop.description } : {}) };
    if (Array.isArray(prop.enum) && prop.enum.every((v) => typeof v === 'string')) fields.push({ ...base, kind: 'choice', choices: prop.enum as string[] });
    else if (type === 'number' || type === 'integer') {
      fields.push({ ...base, kind: 'number', ...(prop.minimum !== undefined ? { min: prop.minimum } : {}), ...(prop.maximum !== undefined ? { max: prop.maximum } : {}) });
    } else if (type === 'string') fields.push({ ...base, kind: 'text' });
    else if (type === 'array' && prop.items && (prop.items.type === 'string' || prop.items.type === undefined) && name === 'providers') fields.push({ ...base, kind: 'providers' });
  }
  return fields;
}

/** What the form holds for one step type. */
export interface StepChoice {
  type: string;
  enabled: boolean;
  /** field name -> the input's text, or the providers ticked (in waterfall order) */
  values: Record<string, string | string[]>;
}

export interface PlanBody {
  name: string;
  steps: { type: string; options: Record<string, unknown> }[];
  errorThreshold: number;
}

/** A problem the form can point at before the API would (the API still checks everything). */
export interface FormProblem {
  path: string;
  message: string;
}

/**
 * The plan body from the form: the enabled steps in the documented order, each with the
 * options filled in (numbers as numbers, empty fields left out); problems name their field.
 */
export function buildPlanBody(name: string, errorThreshold: string, types: StepType[], choices: StepChoice[]): { body: PlanBody | null; problems: FormProblem[] } {
  const problems: FormProblem[] = [];
  if (name.trim() === '') problems.push({ path: 'name', message: 'A plan needs a name.' });
  const threshold = errorThreshold.trim() === '' ? 1 : Number(errorThreshold);
  if (!Number.isFinite(threshold) || threshold < 0 || threshold > 1) problems.push({ path: 'errorThreshold', message: 'The error threshold is a number from 0 to 1.' });
  const steps: PlanBody['steps'] = [];
  for (const t of types) {
    const choice = choices.find((c) => c.type === t.type);
    if (!choice?.enabled) continue;
    const options: Record<string, unknown> = {};
    for (const f of optionFields(t.optionsSchema)) {
      const raw = choice.values[f.name];
      const path = `${t.type}.${f.name}`;
      if (f.kind === 'providers') {
        const list = Array.isArray(raw) ? raw : [];
        if (list.length > 0) options[f.name] = list;
        else if (f.required) problems.push({ path, message: 'Choose at least one provider.' });
        continue;
      }
      const text = typeof raw === 'string' ? raw.trim() : '';
      if (text === '') {
        if (f.required) problems.push({ path, message: `${f.name} is required.` });
        continue;
      }
      if (f.kind === 'number') {
        const n = Number(text);
        if (!Number.isFinite(n)) problems.push({ path, message: `${f.name} must be a number.` });
        else if ((f.min !== undefined && n < f.min) || (f.max !== undefined && n > f.max)) problems.push({ path, message: `${f.name} must be from ${f.min ?? '-∞'} to ${f.max ?? '∞'}.` });
        else options[f.name] = n;
      } else options[f.name] = text;
    }
    steps.push({ type: t.type, options });
  }
  if (steps.length === 0) problems.push({ path: 'steps', message: 'Choose at least one step.' });
  return { body: problems.length === 0 ? { name: name.trim(), steps, errorThreshold: threshold } : null, problems };
}
