import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

/**
 * The URL namespace of the trackbook server extension.
 */
export const API_NAMESPACE = 'trackbook';

/**
 * Call the trackbook server extension.
 *
 * `ServerConnection.makeRequest` adds the token and the XSRF header, so every
 * call to the REST API goes through here.
 *
 * @param endPoint - Path under `/trackbook/`, for example `info` or `runs/ID`.
 * @param init - Fetch options (method, body, ...).
 * @param serverSettings - Server settings; the default ones of the page if omitted.
 * @returns The response body parsed as JSON (`undefined` for an empty body).
 * @throws {ServerConnection.NetworkError} When the server cannot be reached.
 * @throws {ServerConnection.ResponseError} When the server answers with an
 *   error status; its message is the server's JSON `message` when there is one.
 */
export async function requestAPI<T>(
  endPoint = '',
  init: RequestInit = {},
  serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<T> {
  const { body } = await requestAPIResponse(endPoint, init, serverSettings);
  return body as T;
}

/**
 * An answer of the trackbook server extension.
 */
export interface IAPIResponse {
  /**
   * HTTP status: 2xx, or 304 for a conditional request whose resource has
   * not changed.
   */
  status: number;
  /**
   * The body parsed as JSON (`undefined` for an empty body).
   */
  body: unknown;
  /**
   * The response headers (`ETag`, ...).
   */
  headers: Headers;
}

/**
 * Call the trackbook server extension and keep the status and headers.
 *
 * Like `requestAPI`, but a `304 Not Modified` (the answer to a request with
 * `If-None-Match`) is a success, not an error.
 *
 * @param endPoint - Path under `/trackbook/`, with its query string if any.
 * @param init - Fetch options (method, body, headers, ...).
 * @param serverSettings - Server settings; the default ones of the page if omitted.
 * @throws {ServerConnection.NetworkError} When the server cannot be reached.
 * @throws {ServerConnection.ResponseError} On any other error status.
 */
export async function requestAPIResponse(
  endPoint = '',
  init: RequestInit = {},
  serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
): Promise<IAPIResponse> {
  const url = URLExt.join(serverSettings.baseUrl, API_NAMESPACE, endPoint);
  // `makeRequest` appends a cache-busting `?<timestamp>` when the cache mode
  // is `no-store`; the trackbook endpoints refuse query parameters they do not
  // know. `reload` is as fresh (never answered from the browser cache) and
  // leaves the URL alone, and a 304 to our own If-None-Match reaches us.
  const request: RequestInit = { cache: 'reload', ...init };

  let response: Response;
  try {
    response = await ServerConnection.makeRequest(url, request, serverSettings);
  } catch (error) {
    throw new ServerConnection.NetworkError(error as TypeError);
  }

  const text = await response.text();
  const body = Private.parseBody(text);

  if (!response.ok && response.status !== 304) {
    const { message, traceback } = Private.errorDetails(body, text, response);
    throw new ServerConnection.ResponseError(response, message, traceback);
  }
  return { status: response.status, body, headers: response.headers };
}

/**
 * Helpers private to this module.
 */
namespace Private {
  /**
   * Parse a response body as JSON; a body that is not JSON stays a string.
   */
  export function parseBody(text: string): unknown {
    if (text.length === 0) {
      return undefined;
    }
    try {
      return JSON.parse(text);
    } catch {
      return text;
    }
  }

  /**
   * The message (and traceback) to show for an error response.
   *
   * jupyter_server's APIHandler answers errors with `{message, reason}` and,
   * in debug mode, a `traceback`.
   */
  export function errorDetails(
    body: unknown,
    text: string,
    response: Response
  ): { message: string; traceback: string | undefined } {
    if (typeof body === 'object' && body !== null) {
      const record = body as Record<string, unknown>;
      const message =
        typeof record.message === 'string' && record.message.length > 0
          ? record.message
          : typeof record.reason === 'string' && record.reason.length > 0
            ? record.reason
            : fallback(response);
      const traceback =
        typeof record.traceback === 'string' ? record.traceback : undefined;
      return { message, traceback };
    }
    return {
      message: text.length > 0 ? text : fallback(response),
      traceback: undefined
    };
  }

  function fallback(response: Response): string {
    return `Invalid response: ${response.status} ${response.statusText}`;
  }
}
