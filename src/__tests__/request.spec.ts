import { ServerConnection } from '@jupyterlab/services';

import { getInfo } from '../api';
import { requestAPI } from '../request';
import { fakeServer, withoutQuery } from './fakeServer';

const INFO = {
  version: '0.1.0',
  store: { kind: 'sqlite', url: 'sqlite:///home/me/.trackbook/trackbook.db' },
  schema_revision: '0001'
};

describe('requestAPI', () => {
  afterEach(() => {
    document.cookie = '_xsrf=; expires=Thu, 01 Jan 1970 00:00:00 GMT';
  });

  it('calls the trackbook namespace under the base URL', async () => {
    const server = fakeServer({
      'trackbook/runs/abc': { status: 200, body: { id: 'abc' } }
    });

    const body = await requestAPI<{ id: string }>(
      'runs/abc',
      {},
      server.settings
    );

    expect(body).toEqual({ id: 'abc' });
    expect(server.requests).toHaveLength(1);
    expect(withoutQuery(server.requests[0].url)).toBe(
      'http://localhost:8888/lab/base/trackbook/runs/abc'
    );
  });

  it('adds no cache-busting parameter the server would refuse', async () => {
    const server = fakeServer({
      'trackbook/runs': { status: 200, body: { runs: [] } }
    });

    await requestAPI('runs?limit=5', {}, server.settings);
    await requestAPI('runs', {}, server.settings);

    expect(server.requests.map(request => request.url)).toEqual([
      'http://localhost:8888/lab/base/trackbook/runs?limit=5',
      'http://localhost:8888/lab/base/trackbook/runs'
    ]);
    expect(server.requests[0].cache).toBe('reload');
  });

  it('sends the token and the XSRF header', async () => {
    document.cookie = '_xsrf=xsrf-value';
    const server = fakeServer({
      'trackbook/info': { status: 200, body: INFO }
    });

    await requestAPI('info', { method: 'GET' }, server.settings);

    const headers = server.requests[0].headers;
    expect(headers.get('Authorization')).toBe('token secret-token');
    expect(headers.get('X-XSRFToken')).toBe('xsrf-value');
    expect(server.requests[0].method).toBe('GET');
  });

  it("throws a ResponseError carrying the server's message", async () => {
    const server = fakeServer({
      'trackbook/runs/nope': {
        status: 404,
        body: { message: 'run nope not found', reason: 'Not Found' }
      }
    });

    const error = await requestAPI('runs/nope', {}, server.settings).catch(
      (reason: unknown) => reason
    );

    expect(error).toBeInstanceOf(ServerConnection.ResponseError);
    const responseError = error as ServerConnection.ResponseError;
    expect(responseError.message).toBe('run nope not found');
    expect(responseError.response.status).toBe(404);
  });

  it('uses the body text when an error answer is not JSON', async () => {
    const server = fakeServer({
      'trackbook/info': { status: 500, body: 'Internal Server Error' }
    });

    await expect(requestAPI('info', {}, server.settings)).rejects.toThrow(
      'Internal Server Error'
    );
  });

  it('returns undefined for an empty body', async () => {
    const server = fakeServer({ 'trackbook/runs/abc': { status: 204 } });

    await expect(
      requestAPI('runs/abc', { method: 'DELETE' }, server.settings)
    ).resolves.toBeUndefined();
  });

  it('turns a failed fetch into a NetworkError', async () => {
    const settings = ServerConnection.makeSettings({
      baseUrl: 'http://localhost:8888/',
      fetch: () => Promise.reject(new TypeError('connection refused'))
    });

    await expect(requestAPI('info', {}, settings)).rejects.toBeInstanceOf(
      ServerConnection.NetworkError
    );
  });
});

describe('getInfo', () => {
  it('returns the server description', async () => {
    const server = fakeServer({
      'trackbook/info': { status: 200, body: INFO }
    });

    await expect(getInfo(server.settings)).resolves.toEqual(INFO);
  });

  it('rejects an answer of the wrong shape', async () => {
    const server = fakeServer({
      'trackbook/info': { status: 200, body: { version: 1 } }
    });

    await expect(getInfo(server.settings)).rejects.toThrow(
      'unexpected answer to /trackbook/info'
    );
  });
});
