/**
 * Typed wrappers around the trackbook REST API (see api/openapi.yaml).
 *
 * Widgets call these functions, never `requestAPI` with a raw path.
 */
import { ServerConnection } from '@jupyterlab/services';

import { requestAPI } from './request';

/**
 * Where the server keeps its runs.
 */
export interface IStoreInfo {
  /**
   * Kind of metadata database, e.g. `sqlite` or `postgresql`.
   */
  kind: string;
  /**
   * Store URL, with any password redacted by the server.
   */
  url: string;
}

/**
 * Answer of `GET /trackbook/info`: the version handshake.
 */
export interface IServerInfo {
  /**
   * Version of the installed trackbook Python package.
   */
  version: string;
  /**
   * The store the server reads.
   */
  store: IStoreInfo;
  /**
   * Alembic revision of the store's schema.
   */
  schema_revision: string;
}

/**
 * Ask the server extension for its version and store.
 *
 * @param serverSettings - Server settings; the default ones of the page if omitted.
 * @returns The server's description of itself.
 * @throws {ServerConnection.ResponseError} On an error status (404 when the
 *   server extension is not enabled) or an answer of the wrong shape.
 */
export async function getInfo(
  serverSettings?: ServerConnection.ISettings
): Promise<IServerInfo> {
  const body = await requestAPI<unknown>(
    'info',
    { method: 'GET' },
    serverSettings
  );
  if (!isServerInfo(body)) {
    throw new Error(
      'trackbook server sent an unexpected answer to /trackbook/info'
    );
  }
  return body;
}

/**
 * Whether a value has the shape of an `IServerInfo`.
 *
 * @param value - A parsed JSON body.
 */
export function isServerInfo(value: unknown): value is IServerInfo {
  if (typeof value !== 'object' || value === null) {
    return false;
  }
  const info = value as Record<string, unknown>;
  const store = info.store as Record<string, unknown> | null | undefined;
  return (
    typeof info.version === 'string' &&
    typeof info.schema_revision === 'string' &&
    typeof store === 'object' &&
    store !== null &&
    typeof store.kind === 'string' &&
    typeof store.url === 'string'
  );
}
