/**
 * Typed client of the runs and models endpoints of the trackbook REST API
 * (see api/openapi.yaml).
 */
import { URLExt } from '@jupyterlab/coreutils';
import { ServerConnection } from '@jupyterlab/services';

import {
  parseModel,
  parseModels,
  parseRunDetail,
  parseRunsPage
} from './parse';
import { API_NAMESPACE, requestAPI, requestAPIResponse } from './request';
import { IModelDetail, IModelSummary, IRunDetail, IRunsPage } from './types';

/**
 * The largest page the runs endpoint serves.
 */
export const MAX_PAGE_SIZE = 500;

/**
 * Filters, sort and page of `GET /trackbook/runs`.
 */
export interface IRunsQuery {
  /**
   * Free text matched against names, notebooks, params and tags.
   */
  q?: string;
  status?: string;
  notebook?: string;
  /**
   * `key=value`.
   */
  tag?: string;
  /**
   * `-started_at`, `name`, `-metrics.loss`, ...
   */
  sort?: string;
  limit?: number;
  cursor?: string | null;
}

/**
 * Outcome of a (conditional) runs list request.
 */
export type ListRunsResult =
  | {
      /**
       * The server answered 304: the page is the one the ETag names.
       */
      kind: 'unchanged';
    }
  | {
      kind: 'page';
      page: IRunsPage;
      /**
       * ETag of this page, to send back as `If-None-Match`.
       */
      etag: string | null;
    };

/**
 * What the sidebar needs from the server; tests give a fake.
 */
export interface IRunsClient {
  /**
   * A page of runs.
   *
   * @param query - Filters, sort, page size and cursor.
   * @param etag - ETag of the last answer to the same query, if any.
   */
  listRuns(query: IRunsQuery, etag?: string | null): Promise<ListRunsResult>;
  /**
   * One run with every facet.
   */
  getRun(runId: string): Promise<IRunDetail>;
  /**
   * Every model, with its newest version.
   */
  listModels(): Promise<IModelSummary[]>;
  /**
   * One model and its versions.
   */
  getModel(name: string): Promise<IModelDetail>;
  /**
   * URL of an artifact's bytes, for `<img src>` and download links.
   */
  artifactUrl(runId: string, artifactId: string): string;
}

/**
 * The query string of a runs list request: empty values are left out.
 *
 * @param query - Filters, sort, page size and cursor.
 * @returns `''` or `?a=b&...`.
 */
export function runsQueryString(query: IRunsQuery): string {
  const params = new URLSearchParams();
  const add = (name: string, value: string | number | null | undefined) => {
    if (value !== undefined && value !== null && String(value) !== '') {
      params.append(name, String(value));
    }
  };
  add('q', query.q?.trim());
  add('status', query.status);
  add('notebook', query.notebook?.trim());
  add('tag', query.tag?.trim());
  add('sort', query.sort);
  add(
    'limit',
    query.limit === undefined ? undefined : Math.min(query.limit, MAX_PAGE_SIZE)
  );
  add('cursor', query.cursor);
  const text = params.toString();
  return text ? `?${text}` : '';
}

/**
 * The `IRunsClient` that talks to the trackbook server extension.
 */
export class RestRunsClient implements IRunsClient {
  /**
   * @param serverSettings - Server settings; the default ones of the page if omitted.
   */
  constructor(
    serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
  ) {
    this._settings = serverSettings;
  }

  /**
   * The server settings requests use.
   */
  get serverSettings(): ServerConnection.ISettings {
    return this._settings;
  }

  async listRuns(
    query: IRunsQuery,
    etag?: string | null
  ): Promise<ListRunsResult> {
    const headers: Record<string, string> = {};
    if (etag) {
      headers['If-None-Match'] = etag;
    }
    const response = await requestAPIResponse(
      `runs${runsQueryString(query)}`,
      { method: 'GET', headers },
      this._settings
    );
    if (response.status === 304) {
      return { kind: 'unchanged' };
    }
    return {
      kind: 'page',
      page: parseRunsPage(response.body),
      etag: response.headers.get('ETag')
    };
  }

  async getRun(runId: string): Promise<IRunDetail> {
    const body = await requestAPI<unknown>(
      `runs/${encodeURIComponent(runId)}`,
      { method: 'GET' },
      this._settings
    );
    return parseRunDetail(body);
  }

  async listModels(): Promise<IModelSummary[]> {
    const body = await requestAPI<unknown>(
      'models',
      { method: 'GET' },
      this._settings
    );
    return parseModels(body);
  }

  async getModel(name: string): Promise<IModelDetail> {
    const body = await requestAPI<unknown>(
      `models/${encodeURIComponent(name)}`,
      { method: 'GET' },
      this._settings
    );
    return parseModel(body);
  }

  /**
   * Images and downloads are same-origin requests that carry the session
   * cookie, so the URL holds no token.
   */
  artifactUrl(runId: string, artifactId: string): string {
    return URLExt.join(
      this._settings.baseUrl,
      API_NAMESPACE,
      'runs',
      encodeURIComponent(runId),
      'artifacts',
      encodeURIComponent(artifactId)
    );
  }

  private _settings: ServerConnection.ISettings;
}
