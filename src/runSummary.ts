/**
 * The run summary a `%%track` cell displays: its payload, and how each field
 * reads as text.
 *
 * The payload comes from a notebook output, which anyone may have written, so
 * it is parsed from `unknown` and every field is checked.
 */

/**
 * MIME type of the summary the `%%track` magic displays.
 */
export const RUN_MIME_TYPE = 'application/vnd.trackbook.run+json';

/**
 * The statuses a run goes through.
 */
export const RUN_STATUSES = [
  'running',
  'finished',
  'failed',
  'interrupted'
] as const;

/**
 * Status of a run.
 */
export type RunStatus = (typeof RUN_STATUSES)[number];

/**
 * A capture problem that did not stop the cell.
 */
export interface IRunWarning {
  kind: string;
  message: string;
}

/**
 * The exception that made a run fail.
 */
export interface IRunError {
  ename: string;
  evalue: string;
}

/**
 * Payload of `application/vnd.trackbook.run+json`.
 */
export interface IRunSummary {
  id: string;
  name: string | null;
  status: RunStatus;
  duration_s: number | null;
  /**
   * Latest value per metric key; `null` stands for a value JSON cannot hold
   * (NaN, infinity).
   */
  metrics: { [key: string]: number | null };
  params_count: number;
  inputs_count: number;
  artifacts: number;
  warnings: IRunWarning[];
  error: IRunError | null;
  /**
   * URL of the store the run was written to.
   */
  store: string;
}

/**
 * Check an untrusted payload and give it its typed shape.
 *
 * Optional fields that are missing or of the wrong type take empty values;
 * only `id` and `status` are required.
 *
 * @param value - The data of the MIME bundle.
 * @returns The summary, or `null` when the payload is not a run summary.
 */
export function parseRunSummary(value: unknown): IRunSummary | null {
  if (!isRecord(value)) {
    return null;
  }
  const { id, status } = value;
  if (typeof id !== 'string' || id.length === 0 || !isRunStatus(status)) {
    return null;
  }
  return {
    id,
    name: typeof value.name === 'string' ? value.name : null,
    status,
    duration_s: isFiniteNumber(value.duration_s) ? value.duration_s : null,
    metrics: parseMetrics(value.metrics),
    params_count: countOf(value.params_count),
    inputs_count: countOf(value.inputs_count),
    artifacts: countOf(value.artifacts),
    warnings: Array.isArray(value.warnings)
      ? value.warnings.filter(isRecord).map(warning => ({
          kind: textOf(warning.kind, 'warning'),
          message: textOf(warning.message, '')
        }))
      : [],
    error: isRecord(value.error)
      ? {
          ename: textOf(value.error.ename, 'Error'),
          evalue: textOf(value.error.evalue, '')
        }
      : null,
    store: textOf(value.store, '')
  };
}

/**
 * Write a metric value with 4 significant digits.
 *
 * Integers below a million are written in full: a step or sample count
 * rounded to 4 digits would read as a different count.
 *
 * @param value - The metric value; `null` for a value JSON cannot hold.
 */
export function formatMetricValue(value: number | null): string {
  if (value === null || Number.isNaN(value)) {
    return 'nan';
  }
  if (!Number.isFinite(value)) {
    return value > 0 ? 'inf' : '-inf';
  }
  if (Number.isInteger(value) && Math.abs(value) < 1e6) {
    return String(value);
  }
  // Number() drops the trailing zeros toPrecision keeps (0.5000 -> 0.5).
  return String(Number(value.toPrecision(4)));
}

/**
 * Write a duration the way a person reads it: `0.42 s`, `12.3 s`, `2 min 5 s`,
 * `1 h 2 min`.
 *
 * @param seconds - Duration in seconds.
 */
export function formatDuration(seconds: number): string {
  if (seconds < 10) {
    return `${Number(seconds.toPrecision(2))} s`;
  }
  if (seconds < 60) {
    return `${Number(seconds.toFixed(1))} s`;
  }
  const whole = Math.round(seconds);
  if (whole < 3600) {
    const minutes = Math.floor(whole / 60);
    const rest = whole % 60;
    return rest === 0 ? `${minutes} min` : `${minutes} min ${rest} s`;
  }
  const hours = Math.floor(whole / 3600);
  const minutes = Math.floor((whole % 3600) / 60);
  return minutes === 0 ? `${hours} h` : `${hours} h ${minutes} min`;
}

/**
 * The metrics a compact summary shows, in order: the preferred keys first
 * (those the run has), then the others in payload order, at most `limit`.
 *
 * @param metrics - The run's metrics.
 * @param preferred - Keys the user wants to see first (setting `metricColumns`).
 * @param limit - How many to show.
 * @returns Pairs of key and formatted value, and how many were left out.
 */
export function pickMetrics(
  metrics: { [key: string]: number | null },
  preferred: readonly string[] = [],
  limit = 6
): { shown: Array<[string, string]>; hidden: number } {
  const keys = Object.keys(metrics);
  const ordered = [
    ...preferred.filter(key => keys.includes(key)),
    ...keys.filter(key => !preferred.includes(key))
  ];
  const unique = Array.from(new Set(ordered));
  return {
    shown: unique
      .slice(0, limit)
      .map(key => [key, formatMetricValue(metrics[key])]),
    hidden: Math.max(0, unique.length - limit)
  };
}

/**
 * `1 param`, `3 params`.
 *
 * @param count - How many.
 * @param noun - The singular noun.
 */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isRunStatus(value: unknown): value is RunStatus {
  return (RUN_STATUSES as readonly unknown[]).includes(value);
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function countOf(value: unknown): number {
  return isFiniteNumber(value) && value >= 0 ? Math.floor(value) : 0;
}

function textOf(value: unknown, fallback: string): string {
  return typeof value === 'string' ? value : fallback;
}

function parseMetrics(value: unknown): { [key: string]: number | null } {
  const metrics: { [key: string]: number | null } = {};
  if (!isRecord(value)) {
    return metrics;
  }
  for (const [key, metric] of Object.entries(value)) {
    if (typeof metric === 'number' || metric === null) {
      metrics[key] = metric;
    }
  }
  return metrics;
}
