/**
 * Typed client of the replay endpoints of the trackbook REST API (see
 * api/openapi.yaml): start a replay, follow it, list a run's replays, and
 * the URL of a replay's audit report.
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';
import { JSONValue } from '@lumino/coreutils';

import { UnexpectedAnswerError } from './parse';
import { API_NAMESPACE, requestAPI } from './request';

/**
 * How a replay rebuilds the run: the recorded execution history, or the
 * saved notebook top to bottom.
 */
export type ReplayMode = 'history' | 'notebook';

/**
 * The replay modes, in the order the sidebar offers them.
 */
export const REPLAY_MODES: readonly ReplayMode[] = ['history', 'notebook'];

/**
 * The verdicts a done replay can have.
 */
export const VERDICTS = [
  'reproduced',
  'reproduced_within_tolerance',
  'differs',
  'failed'
] as const;

/**
 * One way a replay differs from the original run. Every string comes from
 * the store and is untrusted: render it as text.
 */
export interface IReplayDifference {
  /**
   * `param`, `metric`, `input`, `artifact`, `stdout`, `environment`, ...
   */
  facet: string;
  /**
   * The param, metric, input, artifact or package.
   */
  key: string;
  original: JSONValue;
  replayed: JSONValue;
  /**
   * The likely cause, e.g. `input_data_changed`.
   */
  cause: string;
  /**
   * A sentence for a human.
   */
  explanation: string;
}

/**
 * Where a failed replay stopped.
 */
export interface IReplayFailure {
  /**
   * The failing cell, 0-based in the executed notebook.
   */
  cell_index: number | null;
  ename: string;
  evalue: string;
}

/**
 * A replay as `GET /trackbook/replays/{id}` describes it.
 */
export interface IReplay {
  id: string;
  /**
   * The replayed run.
   */
  run_id: string;
  /**
   * `queued`, `running` or `done`.
   */
  status: string;
  mode: string;
  requested_at: string | null;
  started_at: string | null;
  ended_at: string | null;
  /**
   * Progress while it runs; notes, or why it failed, once done.
   */
  message: string | null;
  /**
   * One of `VERDICTS` once done.
   */
  verdict: string | null;
  differences: IReplayDifference[];
  failure: IReplayFailure | null;
  /**
   * The run the replayed cell recorded.
   */
  replay_run_id: string | null;
}

/**
 * What a replay request may set; the server's defaults otherwise.
 */
export interface IStartReplayOptions {
  mode?: ReplayMode;
  overrides?: { [name: string]: JSONValue };
  rtol?: number;
  atol?: number;
  /**
   * Seconds the replay may run once its kernel started.
   */
  timeout?: number;
}

/**
 * What the sidebar needs from the server to replay runs; tests give a fake.
 */
export interface IReplaysClient {
  /**
   * Start a replay of a run; it runs in the background.
   *
   * @returns The id of the new, queued replay.
   * @throws {ServerConnection.ResponseError} With the server's message
   *   (400: the run cannot be replayed this way; 429: too many replays).
   */
  startReplay(runId: string, options?: IStartReplayOptions): Promise<string>;
  /**
   * One replay, as it stands.
   */
  getReplay(replayId: string): Promise<IReplay>;
  /**
   * The replays of a run, newest first.
   */
  listReplays(runId: string): Promise<IReplay[]>;
  /**
   * URL of the replay's HTML audit report (to show in a sandboxed frame).
   */
  reportUrl(replayId: string): string;
}

/**
 * The `IReplaysClient` that talks to the trackbook server extension.
 */
export class RestReplaysClient implements IReplaysClient {
  /**
   * @param serverSettings - Server settings; the default ones of the page if omitted.
   */
  constructor(
    serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {
    this._settings = serverSettings;
  }

  async startReplay(
    runId: string,
    options: IStartReplayOptions = {}
  ): Promise<string> {
    // `makeRequest` sends the XSRF header JupyterLab's cookie holds.
    const body = await requestAPI<unknown>(
      `runs/${encodeURIComponent(runId)}/replays`,
      {
        method: 'POST',
        body: JSON.stringify(options),
        headers: { 'Content-Type': 'application/json' }
      },
      this._settings
    );
    if (
      !isRecord(body) ||
      typeof body.replay_id !== 'string' ||
      !body.replay_id
    ) {
      throw new UnexpectedAnswerError('answer to a replay request');
    }
    return body.replay_id;
  }

  async getReplay(replayId: string): Promise<IReplay> {
    const body = await requestAPI<unknown>(
      `replays/${encodeURIComponent(replayId)}`,
      { method: 'GET' },
      this._settings
    );
    return parseReplay(body);
  }

  async listReplays(runId: string): Promise<IReplay[]> {
    const body = await requestAPI<unknown>(
      `runs/${encodeURIComponent(runId)}/replays`,
      { method: 'GET' },
      this._settings
    );
    if (!isRecord(body) || !Array.isArray(body.replays)) {
      throw new UnexpectedAnswerError('list of replays');
    }
    return body.replays.map(parseReplay);
  }

  /**
   * A same-origin URL: the frame's request carries the session cookie, so
   * the URL holds no token.
   */
  reportUrl(replayId: string): string {
    return URLExt.join(
      this._settings.baseUrl,
      API_NAMESPACE,
      'replays',
      encodeURIComponent(replayId),
      'report'
    );
  }

  private _settings: ServerConnection.ISettings;
}

/**
 * Read a replay; a field of the wrong type takes an empty value.
 *
 * @param value - The parsed JSON body.
 * @throws {UnexpectedAnswerError} When it is not an object with an `id`.
 */
export function parseReplay(value: unknown): IReplay {
  if (!isRecord(value) || typeof value.id !== 'string' || !value.id) {
    throw new UnexpectedAnswerError('replay');
  }
  const failure = isRecord(value.failure) ? value.failure : null;
  return {
    id: value.id,
    run_id: text(value.run_id),
    status: text(value.status) || 'unknown',
    mode: text(value.mode),
    requested_at: textOrNull(value.requested_at),
    started_at: textOrNull(value.started_at),
    ended_at: textOrNull(value.ended_at),
    message: textOrNull(value.message),
    verdict: textOrNull(value.verdict),
    differences: Array.isArray(value.differences)
      ? value.differences.filter(isRecord).map(parseDifference)
      : [],
    failure: failure
      ? {
          cell_index:
            typeof failure.cell_index === 'number' ? failure.cell_index : null,
          ename: text(failure.ename),
          evalue: text(failure.evalue)
        }
      : null,
    replay_run_id: textOrNull(value.replay_run_id)
  };
}

function parseDifference(value: Record<string, unknown>): IReplayDifference {
  return {
    facet: text(value.facet),
    key: text(value.key),
    original: json(value.original),
    replayed: json(value.replayed),
    cause: text(value.cause),
    explanation: text(value.explanation)
  };
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function text(value: unknown): string {
  return typeof value === 'string' ? value : '';
}

function textOrNull(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

function json(value: unknown): JSONValue {
  return value === undefined ? null : (value as JSONValue);
}
