// The API's shapes as the dashboard reads them (CONTRACT.md; the OpenAPI document at /openapi.json).
import type { Job } from '../../../src/jobs/job';
import type { JobStatus } from '../../../src/jobs/status';

export type { JobStatus };

// The job as every endpoint returns it: the server's own model, so the two cannot drift apart
// (type-only: nothing of it reaches the bundle).
export type { Job };
export type JobProgress = Job['progress'];

export interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

export interface JobHistory {
  events: { at: string; from: string | null; to: string; attempt: number; workerId: string | null; message?: string }[];
  entryErrors: { entryId: string; step: string; message: string }[];
}

export interface Delivery {
  id: string;
  url: string;
  event: string;
  status: 'pending' | 'delivered' | 'failed';
  attempts: { at: string; statusCode: number | null; durationMs: number | null; error?: string }[];
}

export interface BulkResult {
  id: string;
  ok: boolean;
  status?: string;
  error?: { code: string; message: string };
}

export interface Worker {
  id: string;
  host: string;
  pid: number;
  startedAt: string;
  lastHeartbeatAt: string;
  inFlight: number;
  processed: number;
}

export interface JobMetrics {
  window: number;
  counts: Partial<Record<JobStatus, number>>;
  queueDepth: { waiting: number; active: number; delayed: number };
  oldestWaitingSeconds?: number | null;
  throughput: { last5m: number; last60m: number };
  series: { at: string; completed: number; failed: number }[];
  successRate: number | null;
  errorRate: number | null;
  durations: Record<string, { p50: number; p95: number }>;
  workers: Worker[];
}

export interface ProviderUsage {
  provider: string;
  calls: number;
  cacheHits: number;
  credits: number;
}

export interface JobType {
  name: string;
  description?: string;
  adminOnly: boolean;
}

export interface ListColumn {
  name: string;
  mappedTo: string | null;
}

export interface ImportedList {
  id: string;
  name: string;
  entryCount: number;
  columns: ListColumn[];
}

export interface ListEntry {
  id: string;
  data: Record<string, unknown>;
  enrichment: Record<string, unknown>;
}

/** A JSON Schema as the API sends it (only the parts the plan form reads). */
export interface JsonSchema {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  enum?: unknown[];
  items?: JsonSchema;
  minimum?: number;
  maximum?: number;
  description?: string;
  default?: unknown;
}

export interface StepType {
  type: string;
  description: string;
  local: boolean;
  optionsSchema: JsonSchema;
}

export interface StepTypes {
  items: StepType[];
  providers: { name: string; configured: boolean }[];
}

export interface Plan {
  id: string;
  name: string;
  steps: { type: string; options: Record<string, unknown> }[];
  errorThreshold: number;
  createdAt: string;
}

export interface Export {
  id: string;
  listId: string;
  format: 'csv' | 'jsonl';
  status: JobStatus;
  rows: number;
  bytes: number;
  createdAt: string;
  completedAt: string | null;
}

/** One message of the live stream (GET /v1/events). */
export interface JobEventMessage {
  id: string;
  type: string;
  job: Job;
}
