// The registry of job types: the API, OpenAPI, CLI and workers all read it.
import { celeryTask } from './celery-task.js';
import { exportJob } from './export.js';
import type { JobTypeDefinition } from './job-type.js';
import { companyDataUpdate, emailValidationJob, socialProfileDiscovery } from './items.js';
import { batchLeadEnrichment, singleLeadEnrichment } from './leads.js';
import { listEnrichment } from './list-enrichment.js';
import { tenantCleanupJob } from './tenant-cleanup.js';
import { tenantExportJob } from './tenant-export.js';
import { testJob } from './test-job.js';

/** Job types by name; built-ins first, custom ones added with register(). */
export class JobTypeRegistry {
  private readonly types = new Map<string, JobTypeDefinition>();

  constructor(definitions: JobTypeDefinition[] = []) {
    for (const d of definitions) this.register(d);
  }

  /** Adds a type; a name can be registered only once. */
  register(def: JobTypeDefinition): void {
    if (this.types.has(def.name)) throw new Error(`job type ${def.name} is already registered`);
    this.types.set(def.name, def);
  }

  /** Replaces a registered type's definition (configuration-dependent checks, such as Celery's). */
  replace(def: JobTypeDefinition): void {
    if (!this.types.has(def.name)) throw new Error(`job type ${def.name} is not registered`);
    this.types.set(def.name, def);
  }

  /** The type of that name, or undefined. */
  get(name: string): JobTypeDefinition | undefined {
    return this.types.get(name);
  }

  /** Every registered name, sorted. */
  names(): string[] {
    return [...this.types.keys()].sort();
  }

  /** Every registered definition. */
  all(): JobTypeDefinition[] {
    return [...this.types.values()];
  }
}

/** The built-in job types of this release. */
export const BUILTIN_JOB_TYPES: JobTypeDefinition[] = [
  testJob,
  listEnrichment,
  singleLeadEnrichment,
  batchLeadEnrichment,
  emailValidationJob,
  companyDataUpdate,
  socialProfileDiscovery,
  exportJob,
  celeryTask,
  tenantCleanupJob,
  tenantExportJob,
];

/** A registry holding the built-in types. */
export function createJobTypeRegistry(): JobTypeRegistry {
  return new JobTypeRegistry(BUILTIN_JOB_TYPES);
}
