/**
 * The user settings of trackbook (schema/plugin.json), read into a typed,
 * validated object.
 */
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

/**
 * Settings of the `trackbook:plugin` plugin.
 */
export interface ITrackbookSettings {
  /**
   * Seconds between two polls of the runs list.
   */
  refreshInterval: number;
  /**
   * Runs fetched per page.
   */
  pageSize: number;
  /**
   * Metric keys shown first.
   */
  metricColumns: string[];
}

/**
 * The defaults, the same as in schema/plugin.json.
 */
export const DEFAULT_SETTINGS: Readonly<ITrackbookSettings> = Object.freeze({
  refreshInterval: 2,
  pageSize: 50,
  metricColumns: []
});

/**
 * Read settings, keeping the default for any value that is missing or out of
 * range (the registry validates against the schema, but a hand-edited
 * overrides file may still slip through).
 *
 * @param composite - The composite settings from the setting registry.
 */
export function readSettings(
  composite: ReadonlyPartialJSONObject
): ITrackbookSettings {
  const { refreshInterval, pageSize, metricColumns } = composite;
  return {
    refreshInterval:
      typeof refreshInterval === 'number' && refreshInterval >= 0.5
        ? refreshInterval
        : DEFAULT_SETTINGS.refreshInterval,
    pageSize:
      typeof pageSize === 'number' &&
      Number.isInteger(pageSize) &&
      pageSize >= 1 &&
      pageSize <= 500
        ? pageSize
        : DEFAULT_SETTINGS.pageSize,
    metricColumns: Array.isArray(metricColumns)
      ? metricColumns.filter((key): key is string => typeof key === 'string')
      : [...DEFAULT_SETTINGS.metricColumns]
  };
}
