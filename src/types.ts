/**
 * Shapes of the trackbook REST API's answers (api/openapi.yaml), after
 * `parse.ts` has checked them.
 *
 * Every string in them may come from a notebook (run names, code, params,
 * tags, paths, error messages): render them as text only.
 */
import { JSONValue } from '@lumino/coreutils';

/**
 * A metric value: a number, or one of the strings JSON uses for the floats it
 * cannot hold.
 */
export type MetricValue = number | 'nan' | 'inf' | '-inf';

/**
 * One run in the runs list (`GET /trackbook/runs`).
 */
export interface IRunRow {
  id: string;
  name: string | null;
  status: string;
  notebook: string | null;
  /**
   * ISO 8601 UTC time.
   */
  started_at: string | null;
  ended_at: string | null;
  duration_s: number | null;
  params: { [key: string]: JSONValue };
  /**
   * Latest value per metric key.
   */
  metrics: { [key: string]: MetricValue };
  tags: { [key: string]: string };
  warnings_count: number;
  replay_of: string | null;
}

/**
 * A page of the runs list.
 */
export interface IRunsPage {
  runs: IRunRow[];
  /**
   * Cursor of the next page; `null` on the last page.
   */
  next_cursor: string | null;
  /**
   * Every metric key of the runs that match the filters.
   */
  metric_keys: string[];
  param_keys: string[];
  tag_keys: string[];
  /**
   * How many runs match the filters.
   */
  total: number;
}

/**
 * One logged value of a metric.
 */
export interface IMetricPoint {
  key: string;
  value: MetricValue;
  step: number | null;
  /**
   * When the value was logged: seconds since the epoch (or an ISO time).
   */
  timestamp: number | string | null;
}

/**
 * Where and with what a run ran.
 */
export interface IEnvironment {
  id: string;
  python: string;
  platform: string;
  /**
   * Installed distributions: name to version.
   */
  packages: { [name: string]: string };
  /**
   * Imported top-level modules: name to version.
   */
  modules: { [name: string]: string };
  git: { [key: string]: JSONValue };
  kernel: string;
  cpu: { [key: string]: JSONValue };
  gpu: JSONValue[];
  env_vars: { [name: string]: string };
}

/**
 * A data input the cell read.
 */
export interface IRunInput {
  name: string;
  kind: string;
  fingerprint: string;
  shape: JSONValue;
  /**
   * Column to dtype, when the input has columns.
   */
  schema: JSONValue;
  profile: JSONValue;
  path: string | null;
  size: number | null;
}

/**
 * A blob the run recorded: a model, a figure, a file.
 */
export interface IArtifact {
  id: string;
  name: string;
  /**
   * `model`, `figure`, `file`, ...
   */
  kind: string;
  media_type: string;
  size: number | null;
}

/**
 * A capture problem that did not stop the cell.
 */
export interface IWarning {
  kind: string;
  message: string;
}

/**
 * The exception that made a run fail.
 */
export interface IRunFailure {
  ename: string;
  evalue: string;
  /**
   * Traceback lines, with ANSI colour codes.
   */
  traceback: string[];
}

/**
 * One cell of the execution history that led to the run.
 */
export interface IHistoryEntry {
  execution_count: number | null;
  source: string;
  cell_id: string | null;
}

/**
 * A variable the run's cell used, and the cell that defined it.
 */
export interface IDependency {
  name: string;
  execution_count: number | null;
  cell_id: string | null;
}

/**
 * One run with every facet (`GET /trackbook/runs/{id}`).
 */
export interface IRunDetail {
  id: string;
  name: string | null;
  status: string;
  notebook: string | null;
  cell_id: string | null;
  execution_count: number | null;
  started_at: string | null;
  ended_at: string | null;
  duration_s: number | null;
  code: string;
  params: { [key: string]: JSONValue };
  metrics: { [key: string]: MetricValue };
  metric_history: IMetricPoint[];
  seeds: { [key: string]: JSONValue };
  environment: IEnvironment | null;
  inputs: IRunInput[];
  artifacts: IArtifact[];
  warnings: IWarning[];
  error: IRunFailure | null;
  replay_of: string | null;
  tags: { [key: string]: string };
  history: IHistoryEntry[];
  dependencies: IDependency[];
  stdout: string;
  stderr: string;
  user: string | null;
  host: string | null;
}

/**
 * The newest version of a model.
 */
export interface IModelLatest {
  run_id: string;
  run_name: string | null;
  artifact_id: string;
  size: number | null;
  recorded_at: string | null;
}

/**
 * A model in `GET /trackbook/models`.
 */
export interface IModelSummary {
  name: string;
  /**
   * How many versions the model has.
   */
  versions: number;
  latest: IModelLatest | null;
}

/**
 * One version of a model.
 */
export interface IModelVersion {
  version: number | string;
  run_id: string;
  run_name: string | null;
  artifact_id: string;
  size: number | null;
  recorded_at: string | null;
  run_status: string | null;
}

/**
 * A model and its versions (`GET /trackbook/models/{name}`).
 */
export interface IModelDetail {
  name: string;
  versions: IModelVersion[];
}
