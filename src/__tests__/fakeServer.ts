/**
 * A fake Jupyter server for tests: real `ServerConnection` settings whose
 * `fetch` answers from a table and remembers each request.
 */
import { ServerConnection } from '@jupyterlab/services';

/**
 * One canned answer.
 */
export interface IFakeAnswer {
  status: number;
  body?: unknown;
}

/**
 * Server settings and the requests they received.
 */
export interface IFakeServer {
  settings: ServerConnection.ISettings;
  requests: Request[];
}

/**
 * Make server settings whose `fetch` answers `answers[path]` (path relative
 * to the base URL), 404 for any other path.
 *
 * @param answers - Canned answers by path.
 * @param baseUrl - Base URL of the fake server.
 */
export function fakeServer(
  answers: { [path: string]: IFakeAnswer },
  baseUrl = 'http://localhost:8888/lab/base/'
): IFakeServer {
  const requests: Request[] = [];
  const fetch = async (input: RequestInfo): Promise<Response> => {
    const request = input as Request;
    requests.push(request);
    // ServerConnection appends a cache buster (`?<timestamp>`) to GETs.
    const path = withoutQuery(request.url).slice(baseUrl.length);
    const answer = answers[path] ?? {
      status: 404,
      body: { message: 'Not Found', reason: null }
    };
    // A 204 answer must have no body at all, not an empty one.
    const text =
      answer.body === undefined
        ? null
        : typeof answer.body === 'string'
          ? answer.body
          : JSON.stringify(answer.body);
    return new Response(text, {
      status: answer.status,
      headers: { 'Content-Type': 'application/json' }
    });
  };
  const settings = ServerConnection.makeSettings({
    baseUrl,
    token: 'secret-token',
    fetch
  });
  return { settings, requests };
}

/**
 * A URL without its query string.
 *
 * @param url - Any URL.
 */
export function withoutQuery(url: string): string {
  return url.split('?')[0];
}
