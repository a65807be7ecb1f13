import { mergeFirstPage } from '../runsList';
import { IRunRow } from '../types';
import { parseRunRow } from '../parse';
import { flush, HANDSHAKE_OK, setupModel, useFakeTimers } from './helpers';
import { makeRun, makeRuns } from './runsServer';

function last<T>(items: readonly T[]): T | undefined {
  return items[items.length - 1];
}

describe('RunsModel loading', () => {
  it('loads the first page of the current query, newest first', async () => {
    const { server, model } = await setupModel(makeRuns(0, 120));

    expect(server.listRequests).toHaveLength(1);
    const query = server.listRequests[0].searchParams;
    expect(query.get('sort')).toBe('-started_at');
    expect(query.get('limit')).toBe('50');
    expect(query.get('cursor')).toBeNull();
    expect(model.runs).toHaveLength(50);
    expect(model.runs[0].id).toBe('run-000119');
    expect(model.total).toBe(120);
    expect(model.hasMore).toBe(true);
    expect(model.metricKeys).toEqual(['accuracy', 'loss']);
  });

  it('loads the next pages with the cursor and stops at the end', async () => {
    const { server, model } = await setupModel(makeRuns(0, 120));

    await model.loadMore();
    await model.loadMore();
    await model.loadMore();

    expect(model.runs).toHaveLength(120);
    expect(new Set(model.runs.map(run => run.id)).size).toBe(120);
    expect(model.hasMore).toBe(false);
    expect(
      server.listRequests.map(url => url.searchParams.get('cursor'))
    ).toEqual([null, '50', '100']);
  });

  it('starts again from the first page when a cursor is refused', async () => {
    const { server, model } = await setupModel(makeRuns(0, 120));
    const fetch = server.settings.fetch;
    let refused = false;
    (server.settings as { fetch: typeof fetch }).fetch = async (
      input,
      init
    ) => {
      const url = new URL((input as Request).url);
      if (url.searchParams.get('cursor') && !refused) {
        refused = true;
        return new Response(
          JSON.stringify({ error: 'UsageError', message: 'cursor: invalid' }),
          { status: 400 }
        );
      }
      return fetch(input, init);
    };

    await model.loadMore();
    await flush();

    expect(refused).toBe(true);
    expect(model.error).toBeNull();
    expect(model.runs).toHaveLength(50);
    expect(model.hasMore).toBe(true);
  });

  it('uses the page size of the settings', async () => {
    const { server } = await setupModel(makeRuns(0, 10), { pageSize: 7 });

    expect(server.listRequests[0].searchParams.get('limit')).toBe('7');
  });

  it('sends filters and sort and reloads from the first page', async () => {
    const runs = makeRuns(0, 30);
    runs[3] = { ...runs[3], status: 'failed' };
    const { server, model } = await setupModel(runs);

    model.setFilters({ status: 'failed', q: 'run' });
    await flush();

    const query = server.listRequests[1].searchParams;
    expect(query.get('status')).toBe('failed');
    expect(query.get('q')).toBe('run');
    expect(model.runs.map(run => run.id)).toEqual([runs[3].id]);

    model.setSort('-metrics.loss');
    await flush();
    expect(server.listRequests[2].searchParams.get('sort')).toBe(
      '-metrics.loss'
    );
  });

  it('drops an answer that arrives after the query changed', async () => {
    const { model } = await setupModel([
      makeRun(1, { name: 'alpha' }),
      makeRun(0, { name: 'beta' })
    ]);

    model.setFilters({ q: 'alpha' });
    model.setFilters({ q: 'beta' });
    await flush();

    expect(model.runs.map(run => run.name)).toEqual(['beta']);
  });

  it('keeps the error message of a failed load', async () => {
    const { server, model } = await setupModel([], {}, { load: false });
    server.failWith = 500;

    model.setHandshake(HANDSHAKE_OK);
    await flush();

    expect(model.error).toBe('server broke');
    expect(model.runs).toHaveLength(0);
  });

  it('asks nothing when the server extension is missing', async () => {
    const { server, model } = await setupModel([], {}, { load: false });

    model.setHandshake({ status: 'not-enabled', message: 'not enabled' });
    await flush();

    expect(server.requests).toHaveLength(0);
    expect(model.serverReady).toBe(false);
  });

  it('loads a hidden panel only when it is first shown', async () => {
    const { server, model } = await setupModel(
      makeRuns(0, 3),
      {},
      {
        visible: false
      }
    );
    expect(server.requests).toHaveLength(0);

    model.visible = true;
    await flush();

    expect(server.listRequests).toHaveLength(1);
    expect(model.runs).toHaveLength(3);
  });
});

describe('RunsModel polling', () => {
  beforeEach(() => {
    useFakeTimers();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('sends the last ETag and changes nothing on 304', async () => {
    const { server, model } = await setupModel(makeRuns(0, 5));
    const changed = jest.fn();
    model.runsChanged.connect(changed);

    await jest.advanceTimersByTimeAsync(2000);
    await flush();

    expect(server.listRequests).toHaveLength(2);
    const conditional = server.requests[1];
    expect(conditional.headers.get('If-None-Match')).toMatch(/^".+"$/);
    expect(changed).not.toHaveBeenCalled();
    expect(model.runs).toHaveLength(5);
  });

  it('merges a new run at the top, keeping pages and selection', async () => {
    const { server, model } = await setupModel(makeRuns(0, 120));
    await model.loadMore();
    model.toggleSelected('run-000042');
    const before = model.runs.map(run => run.id);

    server.runs.unshift(makeRun(500, { name: 'fresh', status: 'running' }));
    await jest.advanceTimersByTimeAsync(2000);
    await flush();

    expect(model.runs[0].name).toBe('fresh');
    expect(model.runs.slice(1).map(run => run.id)).toEqual(before);
    expect(model.selection).toEqual(['run-000042']);
    expect(model.total).toBe(121);
    // The cursor still points after the last loaded row.
    await model.loadMore();
    expect(last(server.listRequests)?.searchParams.get('cursor')).toBe('100');
  });

  it('updates a run whose status changed', async () => {
    const { server, model } = await setupModel([
      makeRun(1, { status: 'running' }),
      makeRun(0)
    ]);

    server.runs[0] = { ...server.runs[0], status: 'finished' };
    await jest.advanceTimersByTimeAsync(2000);
    await flush();

    expect(model.runs.map(run => run.status)).toEqual(['finished', 'finished']);
  });

  it('pauses while the panel is hidden and catches up when shown', async () => {
    const { server, model } = await setupModel(makeRuns(0, 2));

    model.visible = false;
    await jest.advanceTimersByTimeAsync(20000);
    expect(server.listRequests).toHaveLength(1);

    server.runs.unshift(makeRun(9));
    model.visible = true;
    await flush();

    expect(server.listRequests).toHaveLength(2);
    expect(model.runs[0].id).toBe('run-000009');
  });

  it('pauses while the browser tab is hidden', async () => {
    const { server, hidden } = await setupModel(makeRuns(0, 2));

    hidden.value = true;
    document.dispatchEvent(new Event('visibilitychange'));
    await jest.advanceTimersByTimeAsync(20000);
    expect(server.listRequests).toHaveLength(1);

    hidden.value = false;
    document.dispatchEvent(new Event('visibilitychange'));
    await flush();
    expect(server.listRequests).toHaveLength(2);
  });

  it('follows a new refresh interval at once', async () => {
    const { server, model } = await setupModel(makeRuns(0, 2));

    model.settings = { ...model.settings, refreshInterval: 10 };
    await jest.advanceTimersByTimeAsync(9000);
    expect(server.listRequests).toHaveLength(1);
    await jest.advanceTimersByTimeAsync(1000);
    await flush();
    expect(server.listRequests).toHaveLength(2);
  });

  it('asks at once when a summary shows a run the list lacks', async () => {
    const { server, model } = await setupModel(makeRuns(0, 2));

    server.runs.unshift(makeRun(7));
    model.noticeRun('run-000007', 'finished');
    await flush();

    expect(server.listRequests).toHaveLength(2);
    expect(model.runs[0].id).toBe('run-000007');

    // The list shows that run with that status: nothing to ask.
    model.noticeRun('run-000007', 'finished');
    await flush();
    expect(server.listRequests).toHaveLength(2);
  });

  it('looks again shortly for a run whose record lands after its summary', async () => {
    const { server, model } = await setupModel(makeRuns(0, 2));

    model.noticeRun('run-000007', 'finished');
    await flush();
    expect(server.listRequests).toHaveLength(2);
    expect(model.runs[0].id).not.toBe('run-000007');

    server.runs.unshift(makeRun(7));
    await jest.advanceTimersByTimeAsync(250);
    await flush();
    expect(server.listRequests).toHaveLength(3);
    expect(model.runs[0].id).toBe('run-000007');

    // Found: the later look asks nothing.
    await jest.advanceTimersByTimeAsync(1000);
    await flush();
    expect(server.listRequests).toHaveLength(3);
  });

  it('asks once more for a run noticed while a poll is under way', async () => {
    const { server, model } = await setupModel(makeRuns(0, 2));

    // Showing the panel again starts a poll at once ...
    model.visible = false;
    model.visible = true;
    // ... which may be too early to see the run a summary now shows.
    server.runs.unshift(makeRun(7));
    model.noticeRun('run-000007', 'finished');
    await flush();

    expect(server.listRequests).toHaveLength(3);
    expect(model.runs[0].id).toBe('run-000007');
  });

  it('stops for good when disposed', async () => {
    const { server, model } = await setupModel(makeRuns(0, 2));

    model.dispose();
    await jest.advanceTimersByTimeAsync(20000);

    expect(server.listRequests).toHaveLength(1);
    expect(model.isDisposed).toBe(true);
  });
});

describe('RunsModel state', () => {
  it('reports every change worth keeping', async () => {
    const { model } = await setupModel(makeRuns(0, 3));
    const states: unknown[] = [];
    model.stateChanged.connect((_, state) => states.push(state));

    model.setFilters({ tag: 'team=a' });
    model.setSort('name');
    model.setMetricColumns(['loss']);
    model.setSelection(['run-000001', 'run-000002']);
    model.compareSelected();

    expect(states).toHaveLength(5);
    expect(last(states)).toEqual({
      filters: { q: '', status: '', notebook: '', tag: 'team=a' },
      sort: 'name',
      metricColumns: ['loss'],
      selected: ['run-000001', 'run-000002'],
      view: { kind: 'compare', runIds: ['run-000001', 'run-000002'] }
    });
  });

  it('restores a saved state and queries with it', async () => {
    const { server, model } = await setupModel(makeRuns(0, 3));

    model.restoreState({
      filters: { q: 'x', status: 'failed' },
      sort: '-duration_s',
      metricColumns: ['accuracy'],
      selected: ['a', 'b'],
      view: { kind: 'run', runId: 'a' }
    });
    await flush();

    const query = last(server.listRequests)?.searchParams;
    expect(query?.get('q')).toBe('x');
    expect(query?.get('sort')).toBe('-duration_s');
    expect(model.metricColumns).toEqual(['accuracy']);
    expect(model.selection).toEqual(['a', 'b']);
    expect(model.view).toEqual({ kind: 'run', runId: 'a' });
  });

  it('ignores a malformed saved state', async () => {
    const { model } = await setupModel([]);

    model.restoreState({
      filters: 'nope',
      sort: 'DROP TABLE',
      selected: [1, 'ok'],
      view: { kind: 'compare', runIds: ['only-one'] }
    });

    expect(model.filters).toEqual({ q: '', status: '', notebook: '', tag: '' });
    expect(model.sort).toBe('-started_at');
    expect(model.selection).toEqual(['ok']);
    expect(model.view).toEqual({ kind: 'runs' });
  });

  it('falls back to the metric columns of the settings', async () => {
    const { model } = await setupModel([], { metricColumns: ['f1'] });

    expect(model.metricColumns).toEqual(['f1']);
    model.settings = { ...model.settings, metricColumns: ['auc'] };
    expect(model.metricColumns).toEqual(['auc']);
    model.setMetricColumns(['loss']);
    expect(model.metricColumns).toEqual(['loss']);
    model.setMetricColumns(null);
    expect(model.metricColumns).toEqual(['auc']);
  });

  it('compares only two or more runs', async () => {
    const { model } = await setupModel([]);

    model.toggleSelected('a');
    expect(model.compareSelected()).toBe(false);
    expect(model.view).toEqual({ kind: 'runs' });
    model.toggleSelected('b');
    model.toggleSelected('a');
    expect(model.selection).toEqual(['b']);
  });
});

describe('mergeFirstPage', () => {
  const row = (id: string, status = 'finished'): IRunRow =>
    parseRunRow({ id, status });

  it('puts new runs on top and each run once', () => {
    const { rows, added } = mergeFirstPage(
      [row('c'), row('b', 'failed')],
      [row('b'), row('a')]
    );

    expect(rows.map(r => `${r.id}:${r.status}`)).toEqual([
      'c:finished',
      'b:failed',
      'a:finished'
    ]);
    expect(added).toBe(1);
  });
});
