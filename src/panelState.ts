/**
 * The part of the sidebar's state that survives a page reload, and how it is
 * read back from the state database (where anything may have been written).
 */

/**
 * What the sidebar shows.
 */
export type SidebarView =
  | { kind: 'runs' }
  | { kind: 'run'; runId: string }
  | { kind: 'compare'; runIds: string[] }
  | { kind: 'models' }
  | { kind: 'model'; name: string };

/**
 * Filters of the runs list.
 */
export interface IRunFilters {
  /**
   * Free text.
   */
  q: string;
  /**
   * A run status, or `''` for any.
   */
  status: string;
  /**
   * Notebook path, or `''` for any.
   */
  notebook: string;
  /**
   * `key=value`, or `''` for any.
   */
  tag: string;
}

/**
 * The sidebar state kept in the state database.
 */
export interface IPanelState {
  filters: IRunFilters;
  sort: string;
  /**
   * Metric columns the user chose; `null` follows the `metricColumns` setting.
   */
  metricColumns: string[] | null;
  /**
   * Ids of the selected runs.
   */
  selected: string[];
  view: SidebarView;
}

/**
 * Key of the sidebar state in the state database.
 */
export const PANEL_STATE_KEY = 'trackbook:panel-state';

/**
 * Newest first.
 */
export const DEFAULT_SORT = '-started_at';

/**
 * No filter.
 */
export const EMPTY_FILTERS: Readonly<IRunFilters> = Object.freeze({
  q: '',
  status: '',
  notebook: '',
  tag: ''
});

/**
 * The state of a sidebar opened for the first time.
 */
export function defaultPanelState(): IPanelState {
  return {
    filters: { ...EMPTY_FILTERS },
    sort: DEFAULT_SORT,
    metricColumns: null,
    selected: [],
    view: { kind: 'runs' }
  };
}

/**
 * Whether a sort is one the runs endpoint accepts.
 *
 * @param sort - A value of the `sort` query parameter.
 */
export function isValidSort(sort: string): boolean {
  return /^-?(started_at|name|duration_s|(metrics|params)\..+)$/.test(sort);
}

/**
 * Read a saved state, keeping defaults for whatever is missing or malformed.
 *
 * @param value - What the state database returned.
 */
export function parsePanelState(value: unknown): IPanelState {
  const state = defaultPanelState();
  if (!isRecord(value)) {
    return state;
  }
  if (isRecord(value.filters)) {
    for (const key of Object.keys(EMPTY_FILTERS) as Array<keyof IRunFilters>) {
      const filter = value.filters[key];
      if (typeof filter === 'string') {
        state.filters[key] = filter;
      }
    }
  }
  if (typeof value.sort === 'string' && isValidSort(value.sort)) {
    state.sort = value.sort;
  }
  if (Array.isArray(value.metricColumns)) {
    state.metricColumns = strings(value.metricColumns);
  }
  if (Array.isArray(value.selected)) {
    state.selected = strings(value.selected);
  }
  state.view = parseView(value.view);
  return state;
}

function parseView(value: unknown): SidebarView {
  if (!isRecord(value)) {
    return { kind: 'runs' };
  }
  switch (value.kind) {
    case 'run':
      return typeof value.runId === 'string' && value.runId
        ? { kind: 'run', runId: value.runId }
        : { kind: 'runs' };
    case 'compare': {
      const runIds = Array.isArray(value.runIds) ? strings(value.runIds) : [];
      return runIds.length >= 2
        ? { kind: 'compare', runIds }
        : { kind: 'runs' };
    }
    case 'models':
      return { kind: 'models' };
    case 'model':
      return typeof value.name === 'string' && value.name
        ? { kind: 'model', name: value.name }
        : { kind: 'models' };
    default:
      return { kind: 'runs' };
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function strings(values: unknown[]): string[] {
  return values.filter((item): item is string => typeof item === 'string');
}
