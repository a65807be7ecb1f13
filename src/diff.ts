/**
 * What differs between runs: the rows of the comparison view.
 */
import { JSONValue } from '@lumino/coreutils';

import { formatMetric, formatValue } from './format';
import { IRunDetail } from './types';

/**
 * One key across runs: its value in each run (`undefined` where a run lacks
 * it), as text.
 */
export interface IComparedRow {
  key: string;
  values: Array<string | undefined>;
  /**
   * Whether the runs do not all have the same value.
   */
  differs: boolean;
}

/**
 * How a package differs between runs.
 */
export type PackageChange = 'same' | 'changed' | 'added' | 'removed';

/**
 * One package across runs.
 */
export interface IPackageRow {
  name: string;
  /**
   * Version in each run; `undefined` where it is not installed or the run has
   * no environment.
   */
  versions: Array<string | undefined>;
  change: PackageChange;
}

/**
 * Compare one facet of several runs, key by key, keys sorted.
 *
 * @param records - The facet of each run (its params, its metrics, ...).
 * @param format - How a value reads as text.
 */
export function compareRecords<T>(
  records: ReadonlyArray<{ [key: string]: T }>,
  format: (value: T) => string
): IComparedRow[] {
  const keys = new Set<string>();
  for (const record of records) {
    Object.keys(record).forEach(key => keys.add(key));
  }
  return Array.from(keys)
    .sort()
    .map(key => {
      const values = records.map(record =>
        Object.prototype.hasOwnProperty.call(record, key)
          ? format(record[key])
          : undefined
      );
      return { key, values, differs: !allEqual(values) };
    });
}

/**
 * Parameters of several runs side by side.
 *
 * @param runs - The runs, in column order.
 */
export function compareParams(runs: readonly IRunDetail[]): IComparedRow[] {
  return compareRecords<JSONValue>(
    runs.map(run => run.params),
    formatValue
  );
}

/**
 * Metrics (latest values) of several runs side by side.
 *
 * @param runs - The runs, in column order.
 */
export function compareMetrics(runs: readonly IRunDetail[]): IComparedRow[] {
  return compareRecords(
    runs.map(run => run.metrics),
    formatMetric
  );
}

/**
 * The environments of several runs, package by package.
 *
 * Compared with the first run: a package is `added` when the first run
 * lacks it, `removed` when a later run lacks it, `changed` when versions
 * differ.
 *
 * @param runs - The runs, in column order.
 */
export function diffEnvironments(runs: readonly IRunDetail[]): IPackageRow[] {
  const packages = runs.map(run => run.environment?.packages ?? {});
  return compareRecords(packages, version => version).map(row => {
    const [first, ...others] = row.values;
    let change: PackageChange = 'same';
    if (row.differs) {
      if (first === undefined) {
        change = 'added';
      } else if (others.some(version => version === undefined)) {
        change = 'removed';
      } else {
        change = 'changed';
      }
    }
    return { name: row.key, versions: row.values, change };
  });
}

function allEqual(values: ReadonlyArray<string | undefined>): boolean {
  return values.every(value => value === values[0]);
}
