/**
 * An in-memory trackbook server for tests: real `ServerConnection` settings
 * whose `fetch` answers the runs and models endpoints as the REST contract
 * says (filters, sort, cursor pages, ETag and 304), and remembers each
 * request.
 */
import { ServerConnection } from '@jupyterlab/services';

/**
 * A run as the server sends it (raw JSON).
 */
export type RawRun = Record<string, unknown> & { id: string };

/**
 * Base URL of the fake server.
 */
export const BASE_URL = 'http://localhost:8888/lab/base/';

/**
 * The fake server: its data can change between requests.
 */
export class RunsServer {
  /**
   * Run rows, newest first (as `-started_at` sorts them).
   */
  runs: RawRun[] = [];
  /**
   * Full runs by id, for `GET runs/{id}`; a row is used when missing.
   */
  details = new Map<string, RawRun>();
  /**
   * Answer of `GET models`.
   */
  models: unknown = { models: [] };
  /**
   * Answers of `GET models/{name}`.
   */
  modelDetails = new Map<string, unknown>();
  /**
   * Every request received, in order.
   */
  requests: Request[] = [];
  /**
   * When set, every request fails with this status.
   */
  failWith: number | null = null;

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
   * The requests to the runs list, as parsed URLs.
   */
  get listRequests(): URL[] {
    return this.requests
      .map(request => new URL(request.url))
      .filter(url => url.pathname.endsWith('/trackbook/runs'));
  }

  private async _answer(request: Request): Promise<Response> {
    this.requests.push(request);
    const url = new URL(request.url);
    const path = url.pathname.slice(new URL(BASE_URL).pathname.length);
    if (this.failWith !== null) {
      return json(this.failWith, { error: 'Boom', message: 'server broke' });
    }
    if (path === 'trackbook/runs') {
      return this._list(url, request.headers.get('If-None-Match'));
    }
    const run = /^trackbook\/runs\/([^/]+)$/.exec(path);
    if (run) {
      const id = decodeURIComponent(run[1]);
      const found = this.details.get(id) ?? this.runs.find(r => r.id === id);
      return found
        ? json(200, found)
        : json(404, { error: 'NotFound', message: `no run ${id}` });
    }
    if (path === 'trackbook/models') {
      return json(200, this.models);
    }
    const model = /^trackbook\/models\/([^/]+)$/.exec(path);
    if (model) {
      const found = this.modelDetails.get(decodeURIComponent(model[1]));
      return found
        ? json(200, found)
        : json(404, { error: 'NotFound', message: 'no model' });
    }
    return json(404, { error: 'NotFound', message: 'Not Found' });
  }

  private _list(url: URL, ifNoneMatch: string | null): Response {
    const query = url.searchParams;
    let runs = this.runs.slice();
    const q = query.get('q');
    if (q) {
      runs = runs.filter(run => JSON.stringify(run).includes(q));
    }
    const status = query.get('status');
    if (status) {
      runs = runs.filter(run => run.status === status);
    }
    const notebook = query.get('notebook');
    if (notebook) {
      runs = runs.filter(run => run.notebook === notebook);
    }
    const tag = query.get('tag');
    if (tag) {
      const [key, value] = tag.split('=');
      runs = runs.filter(
        run => (run.tags as Record<string, string> | undefined)?.[key] === value
      );
    }
    const sort = query.get('sort') ?? '-started_at';
    if (sort !== '-started_at') {
      const descending = sort.startsWith('-');
      const key = descending ? sort.slice(1) : sort;
      const value = (run: RawRun): number | string => {
        if (key.startsWith('metrics.')) {
          const metrics = run.metrics as Record<string, number>;
          return metrics[key.slice('metrics.'.length)] ?? -Infinity;
        }
        return run[key] as number | string;
      };
      runs.sort((a, b) => {
        const [x, y] = [value(a), value(b)];
        const order = x < y ? -1 : x > y ? 1 : 0;
        return descending ? -order : order;
      });
    }
    const limit = Number(query.get('limit') ?? '50');
    const offset = Number(query.get('cursor') ?? '0');
    const page = runs.slice(offset, offset + limit);
    const body = {
      runs: page,
      next_cursor: offset + limit < runs.length ? String(offset + limit) : null,
      metric_keys: Array.from(
        new Set(runs.flatMap(run => Object.keys((run.metrics as object) ?? {})))
      ).sort(),
      param_keys: [],
      tag_keys: Array.from(
        new Set(runs.flatMap(run => Object.keys((run.tags as object) ?? {})))
      ).sort(),
      total: runs.length
    };
    const etag = `"${hash(JSON.stringify(body))}"`;
    if (ifNoneMatch === etag) {
      return new Response(null, { status: 304, headers: { ETag: etag } });
    }
    return json(200, body, { ETag: etag });
  }
}

/**
 * A run row with sensible values; `index` orders the start times (higher is
 * newer).
 *
 * @param index - Position of the run in time.
 * @param overrides - Fields to change.
 */
export function makeRun(
  index: number,
  overrides: Partial<RawRun> = {}
): RawRun {
  const started = new Date(Date.UTC(2024, 0, 1) + index * 60000);
  return {
    id: `run-${String(index).padStart(6, '0')}`,
    name: `run ${index}`,
    status: 'finished',
    notebook: 'train.ipynb',
    started_at: started.toISOString(),
    ended_at: new Date(started.getTime() + 1500).toISOString(),
    duration_s: 1.5,
    params: { lr: 0.01 },
    metrics: { loss: 1 / (index + 1), accuracy: index / (index + 1) },
    tags: { team: 'a' },
    warnings_count: 0,
    replay_of: null,
    ...overrides
  };
}

/**
 * Runs numbered `from` to `to - 1`, newest first.
 *
 * @param from - First index.
 * @param to - One past the last index.
 */
export function makeRuns(from: number, to: number): RawRun[] {
  const runs: RawRun[] = [];
  for (let index = to - 1; index >= from; index--) {
    runs.push(makeRun(index));
  }
  return runs;
}

function json(
  status: number,
  body: unknown,
  headers: Record<string, string> = {}
): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers }
  });
}

function hash(text: string): string {
  let value = 0;
  for (let i = 0; i < text.length; i++) {
    value = (value * 31 + text.charCodeAt(i)) | 0;
  }
  return (value >>> 0).toString(16);
}
