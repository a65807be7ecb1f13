/**
 * How the sidebar writes values as text.
 */
import { JSONValue } from '@lumino/coreutils';

import { formatMetricValue } from './runSummary';
import { MetricValue } from './types';

/**
 * Write a metric value (4 significant digits, `nan`, `inf`, `-inf`).
 *
 * @param value - The metric value; `undefined` when the run lacks the metric.
 */
export function formatMetric(value: MetricValue | undefined): string {
  if (value === undefined) {
    return '';
  }
  return typeof value === 'number' ? formatMetricValue(value) : value;
}

/**
 * A metric value as a number, for charts and sorting.
 *
 * @param value - The metric value.
 */
export function metricNumber(value: MetricValue): number {
  switch (value) {
    case 'nan':
      return NaN;
    case 'inf':
      return Infinity;
    case '-inf':
      return -Infinity;
    default:
      return value;
  }
}

/**
 * Write a JSON value the way a parameter reads: strings as they are, other
 * values as JSON.
 *
 * @param value - A parameter, seed or other JSON value.
 */
export function formatValue(value: JSONValue | undefined): string {
  if (value === undefined) {
    return '';
  }
  return typeof value === 'string' ? value : JSON.stringify(value);
}

/**
 * How long ago a time was: `just now`, `5 s ago`, `3 min ago`, `2 h ago`,
 * `4 d ago`, then the date.
 *
 * @param iso - An ISO 8601 time.
 * @param now - The present, in milliseconds since the epoch.
 */
export function relativeTime(iso: string | null, now: number): string {
  if (!iso) {
    return '';
  }
  const then = Date.parse(iso);
  if (Number.isNaN(then)) {
    return iso;
  }
  const seconds = Math.round((now - then) / 1000);
  if (seconds < 5) {
    return 'just now';
  }
  if (seconds < 60) {
    return `${seconds} s ago`;
  }
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) {
    return `${minutes} min ago`;
  }
  const hours = Math.floor(minutes / 60);
  if (hours < 24) {
    return `${hours} h ago`;
  }
  const days = Math.floor(hours / 24);
  if (days < 30) {
    return `${days} d ago`;
  }
  return iso.slice(0, 10);
}

/**
 * A time in the user's locale, for tooltips and the run header.
 *
 * @param iso - An ISO 8601 time.
 */
export function formatTime(iso: string | null): string {
  if (!iso) {
    return '';
  }
  const time = Date.parse(iso);
  return Number.isNaN(time) ? iso : new Date(time).toLocaleString();
}

/**
 * A size in bytes: `512 B`, `1.5 KB`, `20 MB`.
 *
 * @param size - Bytes.
 */
export function formatBytes(size: number | null): string {
  if (size === null) {
    return '';
  }
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let value = size;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return unit === 0
    ? `${value} ${units[unit]}`
    : `${Number(value.toPrecision(3))} ${units[unit]}`;
}

/**
 * ANSI escape sequences: colours and cursor moves (CSI), and operating system
 * commands (OSC, e.g. hyperlinks).
 */
const ANSI_PATTERN =
  // Matching the ESC control character is the point of this pattern.
  // eslint-disable-next-line no-control-regex
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;

/**
 * Remove ANSI escape sequences, as IPython's coloured tracebacks hold them.
 *
 * @param text - Text with escape sequences.
 */
export function stripAnsi(text: string): string {
  return text.replace(ANSI_PATTERN, '');
}
