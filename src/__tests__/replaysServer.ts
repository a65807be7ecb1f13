/**
 * An in-memory trackbook server for the replay endpoints: real
 * `ServerConnection` settings whose `fetch` answers as the REST contract
 * says. A replay walks through the states a test scripts for it, one per
 * `GET`, as a real replay moves from queued to running to done.
 */
import { ServerConnection } from '@jupyterlab/services';

import { BASE_URL } from './runsServer';

/**
 * A replay as the server sends it (raw JSON).
 */
export type RawReplay = Record<string, unknown> & { id: string };

/**
 * A replay of `runId` in the given state.
 *
 * @param id - Replay id.
 * @param runId - The replayed run.
 * @param fields - Fields to change.
 */
export function makeReplay(
  id: string,
  runId: string,
  fields: Partial<RawReplay> = {}
): RawReplay {
  return {
    id,
    run_id: runId,
    status: 'queued',
    mode: 'history',
    overrides: {},
    rtol: 0,
    atol: 0,
    requested_at: '2024-05-01T12:00:00Z',
    started_at: null,
    ended_at: null,
    message: null,
    verdict: null,
    differences: [],
    failure: null,
    replay_run_id: null,
    notebook_artifact: null,
    report_artifact: null,
    user: 'ada',
    ...fields
  };
}

/**
 * The fake server.
 */
export class ReplaysServer {
  /**
   * Replays by id; the first state is the current one, later ones follow on
   * each `GET` of that replay.
   */
  replays = new Map<string, RawReplay[]>();
  /**
   * The states the next started replay will go through after `queued`.
   */
  nextStates: Array<Partial<RawReplay>> = [];
  /**
   * When set, starting a replay fails with this status and message.
   */
  refuse: { status: number; message: string } | null = null;
  /**
   * Every request received, in order, with its body.
   */
  requests: Array<{ method: string; path: string; body: string }> = [];

  /**
   * Server settings whose requests this server answers.
   */
  readonly settings: ServerConnection.ISettings = ServerConnection.makeSettings(
    {
      baseUrl: BASE_URL,
      token: 'secret-token',
      fetch: (input: RequestInfo) => this._answer(input as Request)
    }
  );

  /**
   * How many times a replay was asked for.
   *
   * @param replayId - The replay.
   */
  gets(replayId: string): number {
    return this.requests.filter(
      r => r.method === 'GET' && r.path === `trackbook/replays/${replayId}`
    ).length;
  }

  private async _answer(request: Request): Promise<Response> {
    const path = new URL(request.url).pathname.slice(
      new URL(BASE_URL).pathname.length
    );
    const body = request.method === 'POST' ? await request.text() : '';
    this.requests.push({ method: request.method, path, body });
    const runReplays = /^trackbook\/runs\/([^/]+)\/replays$/.exec(path);
    if (runReplays && request.method === 'POST') {
      return this._start(decodeURIComponent(runReplays[1]));
    }
    if (runReplays) {
      const runId = decodeURIComponent(runReplays[1]);
      const list = [...this.replays.values()]
        .map(states => states[0])
        .filter(replay => replay.run_id === runId)
        .reverse();
      return json(200, { replays: list });
    }
    const one = /^trackbook\/replays\/([^/]+)$/.exec(path);
    if (one) {
      const states = this.replays.get(decodeURIComponent(one[1]));
      if (!states) {
        return json(404, { error: 'Not Found', message: 'no such replay' });
      }
      const current = states[0];
      if (states.length > 1) {
        states.shift();
      }
      return json(200, current);
    }
    return json(404, { error: 'Not Found', message: 'Not Found' });
  }

  private _start(runId: string): Response {
    if (this.refuse) {
      return json(this.refuse.status, {
        error: 'Bad Request',
        message: this.refuse.message
      });
    }
    const id = `REPLAY${String(this.replays.size + 1).padStart(20, '0')}`;
    const queued = makeReplay(id, runId);
    this.replays.set(id, [
      queued,
      ...this.nextStates.map(state => ({ ...queued, ...state }))
    ]);
    this.nextStates = [];
    return json(202, { replay_id: id, run_id: runId, status: 'queued' });
  }
}

function json(status: number, body: unknown): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' }
  });
}
