/**
 * Turn the REST API's JSON into the typed shapes of `types.ts`.
 *
 * A field that is missing or of the wrong type takes an empty value instead
 * of breaking the panel: an older or newer server may differ in details. A
 * body that is not the expected object at all is an error.
 */
import { JSONValue } from '@lumino/coreutils';

import {
  IArtifact,
  IEnvironment,
  IMetricPoint,
  IModelDetail,
  IModelSummary,
  IModelVersion,
  IRunDetail,
  IRunRow,
  IRunsPage,
  MetricValue
} from './types';

/**
 * Raised when an answer does not have the shape of the contract.
 */
export class UnexpectedAnswerError extends Error {
  /**
   * @param what - What was being read, e.g. `runs page`.
   */
  constructor(what: string) {
    super(`trackbook server sent an unexpected ${what}`);
    this.name = 'UnexpectedAnswerError';
  }
}

/**
 * Read a page of the runs list.
 *
 * @param value - The parsed JSON body.
 * @throws {UnexpectedAnswerError} When it has no `runs` array.
 */
export function parseRunsPage(value: unknown): IRunsPage {
  if (!isRecord(value) || !Array.isArray(value.runs)) {
    throw new UnexpectedAnswerError('runs page');
  }
  const runs = value.runs.filter(isRecord).filter(hasId).map(parseRunRow);
  return {
    runs,
    next_cursor: stringOrNull(value.next_cursor),
    metric_keys: stringList(value.metric_keys),
    param_keys: stringList(value.param_keys),
    tag_keys: stringList(value.tag_keys),
    total: count(value.total, runs.length)
  };
}

/**
 * Read one run of the runs list.
 *
 * @param value - A run object with an `id`.
 */
export function parseRunRow(value: Record<string, unknown>): IRunRow {
  return {
    id: String(value.id),
    name: stringOrNull(value.name),
    status: text(value.status, 'unknown'),
    notebook: stringOrNull(value.notebook),
    started_at: stringOrNull(value.started_at),
    ended_at: stringOrNull(value.ended_at),
    duration_s: numberOrNull(value.duration_s),
    params: jsonRecord(value.params),
    metrics: metricRecord(value.metrics),
    tags: stringRecord(value.tags),
    warnings_count: count(value.warnings_count, 0),
    replay_of: stringOrNull(value.replay_of)
  };
}

/**
 * Read one run with every facet.
 *
 * @param value - The parsed JSON body.
 * @throws {UnexpectedAnswerError} When it is not a run.
 */
export function parseRunDetail(value: unknown): IRunDetail {
  if (!isRecord(value) || !hasId(value)) {
    throw new UnexpectedAnswerError('run');
  }
  const row = parseRunRow(value);
  return {
    id: row.id,
    name: row.name,
    status: row.status,
    notebook: row.notebook,
    cell_id: stringOrNull(value.cell_id),
    execution_count: numberOrNull(value.execution_count),
    started_at: row.started_at,
    ended_at: row.ended_at,
    duration_s: row.duration_s,
    code: text(value.code, ''),
    params: row.params,
    metrics: row.metrics,
    metric_history: records(value.metric_history).map(parseMetricPoint),
    seeds: jsonRecord(value.seeds),
    environment: isRecord(value.environment)
      ? parseEnvironment(value.environment)
      : null,
    inputs: records(value.inputs).map(input => ({
      name: text(input.name, ''),
      kind: text(input.kind, ''),
      fingerprint: text(input.fingerprint, ''),
      shape: json(input.shape),
      schema: json(input.schema),
      profile: json(input.profile),
      path: stringOrNull(input.path),
      size: numberOrNull(input.size)
    })),
    artifacts: records(value.artifacts).filter(hasId).map(parseArtifact),
    warnings: records(value.warnings).map(warning => ({
      kind: text(warning.kind, 'warning'),
      message: text(warning.message, '')
    })),
    error: isRecord(value.error)
      ? {
          ename: text(value.error.ename, 'Error'),
          evalue: text(value.error.evalue, ''),
          traceback: stringList(value.error.traceback)
        }
      : null,
    replay_of: row.replay_of,
    tags: row.tags,
    history: records(value.history).map(entry => ({
      execution_count: numberOrNull(entry.execution_count),
      source: text(entry.source, ''),
      cell_id: stringOrNull(entry.cell_id)
    })),
    dependencies: records(value.dependencies).map(dependency => ({
      name: text(dependency.name, ''),
      execution_count: numberOrNull(dependency.execution_count),
      cell_id: stringOrNull(dependency.cell_id)
    })),
    stdout: text(value.stdout, ''),
    stderr: text(value.stderr, ''),
    user: stringOrNull(value.user),
    host: stringOrNull(value.host)
  };
}

/**
 * Read the models list.
 *
 * @param value - The parsed JSON body.
 * @throws {UnexpectedAnswerError} When it has no `models` array.
 */
export function parseModels(value: unknown): IModelSummary[] {
  if (!isRecord(value) || !Array.isArray(value.models)) {
    throw new UnexpectedAnswerError('models list');
  }
  return value.models
    .filter(isRecord)
    .filter(model => typeof model.name === 'string')
    .map(model => ({
      name: String(model.name),
      versions: count(model.versions, 0),
      latest:
        isRecord(model.latest) && typeof model.latest.run_id === 'string'
          ? {
              run_id: model.latest.run_id,
              run_name: stringOrNull(model.latest.run_name),
              artifact_id: text(model.latest.artifact_id, ''),
              size: numberOrNull(model.latest.size),
              recorded_at: stringOrNull(model.latest.recorded_at)
            }
          : null
    }));
}

/**
 * Read one model and its versions.
 *
 * @param value - The parsed JSON body.
 * @throws {UnexpectedAnswerError} When it is not a model.
 */
export function parseModel(value: unknown): IModelDetail {
  if (!isRecord(value) || typeof value.name !== 'string') {
    throw new UnexpectedAnswerError('model');
  }
  return {
    name: value.name,
    versions: records(value.versions)
      .filter(version => typeof version.run_id === 'string')
      .map((version): IModelVersion => ({
        version:
          typeof version.version === 'number' ||
          typeof version.version === 'string'
            ? version.version
            : '?',
        run_id: String(version.run_id),
        run_name: stringOrNull(version.run_name),
        artifact_id: text(version.artifact_id, ''),
        size: numberOrNull(version.size),
        recorded_at: stringOrNull(version.recorded_at),
        run_status: stringOrNull(version.run_status)
      }))
  };
}

/**
 * Read a metric value: a finite number, or `nan`/`inf`/`-inf` (as strings,
 * or as the non-finite numbers they stand for).
 *
 * @param value - A JSON value.
 * @returns The metric value, `null` when it is not one.
 */
export function metricValue(value: unknown): MetricValue | null {
  if (typeof value === 'number') {
    if (Number.isNaN(value)) {
      return 'nan';
    }
    if (!Number.isFinite(value)) {
      return value > 0 ? 'inf' : '-inf';
    }
    return value;
  }
  if (value === 'nan' || value === 'inf' || value === '-inf') {
    return value;
  }
  if (value === null) {
    return 'nan';
  }
  return null;
}

function parseMetricPoint(value: Record<string, unknown>): IMetricPoint {
  return {
    key: text(value.key, ''),
    value: metricValue(value.value) ?? 'nan',
    step: numberOrNull(value.step),
    timestamp:
      typeof value.timestamp === 'number' || typeof value.timestamp === 'string'
        ? value.timestamp
        : null
  };
}

function parseEnvironment(value: Record<string, unknown>): IEnvironment {
  return {
    id: text(value.id, ''),
    python: text(value.python, ''),
    platform: text(value.platform, ''),
    packages: stringRecord(value.packages),
    modules: stringRecord(value.modules),
    git: jsonRecord(value.git),
    kernel: text(value.kernel, ''),
    cpu: jsonRecord(value.cpu),
    gpu: Array.isArray(value.gpu) ? value.gpu.map(json) : [],
    env_vars: stringRecord(value.env_vars)
  };
}

function parseArtifact(value: Record<string, unknown>): IArtifact {
  return {
    id: String(value.id),
    name: text(value.name, ''),
    kind: text(value.kind, 'file'),
    media_type: text(value.media_type, 'application/octet-stream'),
    size: numberOrNull(value.size)
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function hasId(value: Record<string, unknown>): boolean {
  return typeof value.id === 'string' && value.id.length > 0;
}

function records(value: unknown): Array<Record<string, unknown>> {
  return Array.isArray(value) ? value.filter(isRecord) : [];
}

function text(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function stringOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function numberOrNull(value: unknown): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

function count(value: unknown, fallback: number): number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0
    ? Math.floor(value)
    : fallback;
}

function stringList(value: unknown): string[] {
  return Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : [];
}

function stringRecord(value: unknown): { [key: string]: string } {
  const result: { [key: string]: string } = {};
  if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      if (typeof item === 'string') {
        result[key] = item;
      } else if (typeof item === 'number' || typeof item === 'boolean') {
        result[key] = String(item);
      }
    }
  }
  return result;
}

function metricRecord(value: unknown): { [key: string]: MetricValue } {
  const result: { [key: string]: MetricValue } = {};
  if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      const metric = metricValue(item);
      if (metric !== null) {
        result[key] = metric;
      }
    }
  }
  return result;
}

function jsonRecord(value: unknown): { [key: string]: JSONValue } {
  const result: { [key: string]: JSONValue } = {};
  if (isRecord(value)) {
    for (const [key, item] of Object.entries(value)) {
      result[key] = json(item);
    }
  }
  return result;
}

/**
 * A value parsed from JSON is JSON; anything else (undefined) becomes null.
 */
function json(value: unknown): JSONValue {
  return value === undefined ? null : (value as JSONValue);
}
