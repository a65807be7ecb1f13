import { ServerConnection } from '@jupyterlab/services';

import { RestRunsClient, runsQueryString } from '../runsApi';
import { makeDetail } from './fixtures';
import { BASE_URL, makeRun, makeRuns, RunsServer } from './runsServer';

describe('runsQueryString', () => {
  it('leaves out empty filters and encodes the rest', () => {
    expect(runsQueryString({})).toBe('');
    expect(
      runsQueryString({
        q: ' lr 0.1 ',
        status: '',
        tag: 'team=a&b',
        sort: '-metrics.f1 score',
        limit: 50,
        cursor: null
      })
    ).toBe('?q=lr+0.1&tag=team%3Da%26b&sort=-metrics.f1+score&limit=50');
  });

  it('asks for no more than the server serves', () => {
    expect(runsQueryString({ limit: 1000 })).toBe('?limit=500');
  });
});

describe('RestRunsClient', () => {
  it('lists runs, then answers 304 as unchanged', async () => {
    const server = new RunsServer();
    server.runs = makeRuns(0, 3);
    const client = new RestRunsClient(server.settings);

    const first = await client.listRuns({ limit: 2 });
    if (first.kind !== 'page') {
      throw new Error('expected a page');
    }
    expect(first.page.runs.map(run => run.id)).toEqual([
      'run-000002',
      'run-000001'
    ]);
    expect(first.page.next_cursor).toBe('2');
    expect(first.etag).toMatch(/^".+"$/);

    expect(await client.listRuns({ limit: 2 }, first.etag)).toEqual({
      kind: 'unchanged'
    });
    expect(server.requests[1].headers.get('If-None-Match')).toBe(first.etag);
    expect(server.requests[0].headers.get('If-None-Match')).toBeNull();
    expect(server.requests[1].headers.get('Authorization')).toBe(
      'token secret-token'
    );
  });

  it('reads nan and inf metric values', async () => {
    const server = new RunsServer();
    server.runs = [makeRun(0, { metrics: { a: 'nan', b: '-inf', c: 2 } })];
    const result = await new RestRunsClient(server.settings).listRuns({});

    expect(result.kind === 'page' && result.page.runs[0].metrics).toEqual({
      a: 'nan',
      b: '-inf',
      c: 2
    });
  });

  it('gets one run by its encoded id', async () => {
    const server = new RunsServer();
    server.details.set('a/b c', makeDetail(0, { id: 'a/b c' }));

    const run = await new RestRunsClient(server.settings).getRun('a/b c');

    expect(run.id).toBe('a/b c');
    expect(run.environment?.packages.numpy).toBe('1.26.4');
    expect(new URL(server.requests[0].url).pathname).toBe(
      '/lab/base/trackbook/runs/a%2Fb%20c'
    );
  });

  it('turns an error answer into an error with its message', async () => {
    const server = new RunsServer();

    await expect(
      new RestRunsClient(server.settings).getRun('nope')
    ).rejects.toThrow('no run nope');
    await expect(
      new RestRunsClient(server.settings).getRun('nope')
    ).rejects.toBeInstanceOf(ServerConnection.ResponseError);
  });

  it('lists models and gets one', async () => {
    const server = new RunsServer();
    server.models = { models: [{ name: 'm', versions: 1, latest: null }] };
    server.modelDetails.set('m', { name: 'm', versions: [] });
    const client = new RestRunsClient(server.settings);

    expect(await client.listModels()).toEqual([
      { name: 'm', versions: 1, latest: null }
    ]);
    expect(await client.getModel('m')).toEqual({ name: 'm', versions: [] });
  });

  it('builds artifact URLs under the base URL without a token', () => {
    const client = new RestRunsClient(new RunsServer().settings);

    expect(client.artifactUrl('r 1', 'abc')).toBe(
      `${BASE_URL}trackbook/runs/r%201/artifacts/abc`
    );
  });
});
