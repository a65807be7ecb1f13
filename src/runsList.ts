/**
 * The runs loaded in the browser: the first pages of the current query,
 * grown page by page with the cursor and kept fresh with conditional
 * requests. Never the whole store.
 */
import { ServerConnection } from '@jupyterlab/services';
import { ISignal, Signal } from '@lumino/signaling';

import { IRunsClient, IRunsQuery } from './runsApi';
import { IRunRow, IRunsPage } from './types';

/**
 * Put the rows of a freshly fetched first page on top of the rows already
 * loaded: the fresh page is the truth for its range (new runs, changed
 * statuses), older rows follow in their order, each run once.
 *
 * @param fresh - The first page, just fetched.
 * @param loaded - The rows on screen.
 * @returns The merged rows, and how many of them were not loaded before.
 */
export function mergeFirstPage(
  fresh: readonly IRunRow[],
  loaded: readonly IRunRow[]
): { rows: IRunRow[]; added: number } {
  const freshIds = new Set(fresh.map(run => run.id));
  const loadedIds = new Set(loaded.map(run => run.id));
  const added = fresh.filter(run => !loadedIds.has(run.id)).length;
  return {
    rows: [...fresh, ...loaded.filter(run => !freshIds.has(run.id))],
    added
  };
}

/**
 * A paged, refreshable list of runs for one query at a time.
 */
export class RunsList {
  /**
   * @param client - How to reach the server.
   * @param query - The query of the list, for a page after `cursor`.
   */
  constructor(
    client: IRunsClient,
    query: (cursor: string | null) => IRunsQuery
  ) {
    this._client = client;
    this._query = query;
  }

  /**
   * Emitted when rows, keys, total, loading or error change.
   */
  get changed(): ISignal<this, void> {
    return this._changed;
  }

  /**
   * The loaded runs, in the order of the query's sort.
   */
  get runs(): readonly IRunRow[] {
    return this._runs;
  }

  /**
   * The last page fetched (its keys and total hold for the whole query);
   * `null` while nothing is loaded.
   */
  get page(): IRunsPage | null {
    return this._page;
  }

  /**
   * Whether the server has more runs after the loaded ones.
   */
  get hasMore(): boolean {
    return this._nextCursor !== null;
  }

  /**
   * Whether a page is being fetched.
   */
  get loading(): boolean {
    return this._loading;
  }

  /**
   * The last error met; `null` after a success.
   */
  get error(): string | null {
    return this._error;
  }

  /**
   * Forget everything loaded and drop the answers still on their way.
   */
  clear(): void {
    ++this._generation;
    this._page = null;
    this._runs = [];
    this._nextCursor = null;
    this._etag = null;
    this._loading = false;
    this._changed.emit();
  }

  /**
   * Load the first page, replacing the loaded rows.
   */
  async refresh(): Promise<void> {
    const generation = ++this._generation;
    this._etag = null;
    this._setLoading(true);
    try {
      const result = await this._client.listRuns(this._query(null));
      if (generation !== this._generation || result.kind !== 'page') {
        return;
      }
      this._page = result.page;
      this._etag = result.etag;
      this._runs = result.page.runs;
      this._nextCursor = result.page.next_cursor;
      this._error = null;
    } catch (error) {
      if (generation === this._generation) {
        this._runs = [];
        this._page = null;
        this._nextCursor = null;
        this._error = messageOf(error);
      }
    } finally {
      if (generation === this._generation) {
        this._setLoading(false);
      }
    }
  }

  /**
   * Load the next page after the loaded rows.
   */
  async loadMore(): Promise<void> {
    if (this._nextCursor === null || this._loading) {
      return;
    }
    const generation = this._generation;
    this._setLoading(true);
    try {
      const result = await this._client.listRuns(this._query(this._nextCursor));
      if (generation !== this._generation || result.kind !== 'page') {
        return;
      }
      const known = new Set(this._runs.map(run => run.id));
      this._runs = [
        ...this._runs,
        ...result.page.runs.filter(run => !known.has(run.id))
      ];
      this._nextCursor = result.page.next_cursor;
      this._error = null;
    } catch (error) {
      if (generation === this._generation) {
        if (isRejectedCursor(error)) {
          // Cursors are signed by the server process: after a server restart
          // the next page must be found again from the first one.
          this._loading = false;
          return this.refresh();
        }
        this._error = messageOf(error);
      }
    } finally {
      if (generation === this._generation) {
        this._setLoading(false);
      }
    }
  }

  /**
   * Ask whether the first page changed (sending the ETag of the last answer)
   * and merge it when it did, keeping the loaded rows below it. Loads the
   * first page when nothing is loaded yet.
   */
  async poll(): Promise<void> {
    if (this._loading) {
      return;
    }
    if (this._page === null) {
      return this.refresh();
    }
    const generation = this._generation;
    try {
      const result = await this._client.listRuns(this._query(null), this._etag);
      if (generation !== this._generation) {
        return;
      }
      if (result.kind === 'page') {
        this._runs = mergeFirstPage(result.page.runs, this._runs).rows;
        // The cursor stays the one after the last loaded row.
        this._page = { ...result.page, next_cursor: this._nextCursor };
        this._etag = result.etag;
      } else if (this._error === null) {
        return;
      }
      this._error = null;
      this._changed.emit();
    } catch (error) {
      if (generation === this._generation) {
        this._error = messageOf(error);
        this._changed.emit();
      }
    }
  }

  /**
   * Stop listening to answers still on their way.
   */
  dispose(): void {
    ++this._generation;
    Signal.clearData(this);
  }

  private _setLoading(loading: boolean): void {
    this._loading = loading;
    this._changed.emit();
  }

  private _client: IRunsClient;
  private _query: (cursor: string | null) => IRunsQuery;
  private _runs: IRunRow[] = [];
  private _page: IRunsPage | null = null;
  private _nextCursor: string | null = null;
  private _etag: string | null = null;
  private _loading = false;
  private _error: string | null = null;
  /**
   * Bumped whenever the query changes, so that late answers are dropped.
   */
  private _generation = 0;
  private _changed = new Signal<this, void>(this);
}

function isRejectedCursor(error: unknown): boolean {
  return (
    error instanceof ServerConnection.ResponseError &&
    error.response.status === 400 &&
    /cursor/i.test(error.message)
  );
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
