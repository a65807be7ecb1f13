/**
 * The sidebar's model: the loaded runs, the query, the selection, what is on
 * screen, and the polling that keeps the list fresh.
 */
import { IDisposable } from '@lumino/disposable';
import { ISignal, Signal } from '@lumino/signaling';

import { HandshakeResult } from './handshake';
import {
  IPanelState,
  IRunFilters,
  SidebarView,
  defaultPanelState,
  isValidSort,
  parsePanelState
} from './panelState';
import { IRunsClient, IRunsQuery } from './runsApi';
import { DEFAULT_SETTINGS, ITrackbookSettings } from './settings';
import { Poller } from './poller';
import { RunsList } from './runsList';
import { IRunRow } from './types';

/**
 * The state of the runs sidebar. Widgets read its getters and listen to its
 * signals; they never call the server for the list themselves.
 */

/**
 * Milliseconds after a summary showed a run the list lacks at which to look
 * again (the record lands a few milliseconds after the summary).
 */
const NOTICE_RECHECK_MS = [250, 1000];

export class RunsModel implements IDisposable {
  /**
   * @param options - Client, settings and environment of the model.
   */
  constructor(options: RunsModel.IOptions) {
    this._client = options.client;
    this._settings = options.settings ?? { ...DEFAULT_SETTINGS };
    this._documentHidden =
      options.documentHidden ??
      (() => typeof document !== 'undefined' && document.hidden);
    this._list = new RunsList(this._client, cursor => this._query(cursor));
    this._poller = new Poller({
      task: () => this._list.poll(),
      interval: () => this._settings.refreshInterval,
      active: () => this._active
    });
    if (typeof document !== 'undefined') {
      document.addEventListener('visibilitychange', this._onVisibility);
    }
  }

  /** The REST client, for the views that fetch one run or model. */
  get client(): IRunsClient {
    return this._client;
  }

  /**
   * Emitted when the loaded runs, their keys, total, loading or error change.
   */
  get runsChanged(): ISignal<RunsList, void> {
    return this._list.changed;
  }

  /** Emitted when the selected runs change. */
  get selectionChanged(): ISignal<this, void> {
    return this._selectionChanged;
  }

  /** Emitted when the view (runs, run, compare, models) changes. */
  get viewChanged(): ISignal<this, void> {
    return this._viewChanged;
  }

  /** Emitted when filters, sort, metric columns or settings change. */
  get queryChanged(): ISignal<this, void> {
    return this._queryChanged;
  }

  /** Emitted when the handshake result changes. */
  get handshakeChanged(): ISignal<this, void> {
    return this._handshakeChanged;
  }

  /**
   * Emitted when any part of the state worth keeping across reloads changes.
   */
  get stateChanged(): ISignal<this, IPanelState> {
    return this._stateChanged;
  }

  /** The user settings in force. */
  get settings(): ITrackbookSettings {
    return this._settings;
  }

  set settings(settings: ITrackbookSettings) {
    const intervalChanged =
      settings.refreshInterval !== this._settings.refreshInterval;
    this._settings = settings;
    if (intervalChanged) {
      this._poller.check();
    }
    this._queryChanged.emit();
  }

  /** Outcome of the version handshake; `null` until it is known. */
  get handshake(): HandshakeResult | null {
    return this._handshake;
  }

  /** Whether the server can be asked for runs. */
  get serverReady(): boolean {
    return (
      this._handshake?.status === 'ok' || this._handshake?.status === 'mismatch'
    );
  }

  /**
   * Record the handshake; when the server answers, load the runs and start
   * polling.
   *
   * @param result - Outcome of `checkServer`.
   */
  setHandshake(result: HandshakeResult): void {
    this._handshake = result;
    this._handshakeChanged.emit();
    if (this.serverReady) {
      // A hidden panel loads its runs when it is first shown.
      this._reloadIfActive();
      this.startPolling();
    } else {
      this.stopPolling();
    }
  }

  /** The loaded runs, in the order of the current sort. */
  get runs(): readonly IRunRow[] {
    return this._list.runs;
  }

  /** How many runs match the filters on the server. */
  get total(): number {
    return this._list.page?.total ?? 0;
  }

  /** Whether the server has more runs after the loaded ones. */
  get hasMore(): boolean {
    return this._list.hasMore;
  }

  /** Every metric key of the matching runs. */
  get metricKeys(): readonly string[] {
    return this._list.page?.metric_keys ?? [];
  }

  /** Every tag key of the matching runs. */
  get tagKeys(): readonly string[] {
    return this._list.page?.tag_keys ?? [];
  }

  /** Whether a page is being fetched. */
  get loading(): boolean {
    return this._list.loading;
  }

  /** The last error met while fetching runs; `null` after a success. */
  get error(): string | null {
    return this._list.error;
  }

  /** Filters in force. */
  get filters(): Readonly<IRunFilters> {
    return this._state.filters;
  }

  /**
   * Change some filters and reload the list.
   *
   * @param filters - The filters to change.
   */
  setFilters(filters: Partial<IRunFilters>): void {
    const next = { ...this._state.filters, ...filters };
    const keys = Object.keys(next) as Array<keyof IRunFilters>;
    if (keys.every(key => next[key] === this._state.filters[key])) {
      return;
    }
    this._state.filters = next;
    this._queryChanged.emit();
    this._emitState();
    void this._list.refresh();
  }

  /** Sort in force, as the `sort` query parameter writes it. */
  get sort(): string {
    return this._state.sort;
  }

  /**
   * Change the sort and reload the list.
   *
   * @param sort - `-started_at`, `name`, `-metrics.loss`, ...
   */
  setSort(sort: string): void {
    if (sort === this._state.sort || !isValidSort(sort)) {
      return;
    }
    this._state.sort = sort;
    this._queryChanged.emit();
    this._emitState();
    void this._list.refresh();
  }

  /** Metric columns of the runs table: the user's choice, else the setting. */
  get metricColumns(): readonly string[] {
    return this._state.metricColumns ?? this._settings.metricColumns;
  }

  /** Whether the user chose the metric columns (rather than the setting). */
  get metricColumnsCustomized(): boolean {
    return this._state.metricColumns !== null;
  }

  /**
   * Choose the metric columns.
   *
   * @param columns - Metric keys in order; `null` to follow the setting.
   */
  setMetricColumns(columns: readonly string[] | null): void {
    this._state.metricColumns = columns === null ? null : [...columns];
    this._queryChanged.emit();
    this._emitState();
  }

  /** Ids of the selected runs. */
  get selection(): readonly string[] {
    return this._state.selected;
  }

  /**
   * Whether a run is selected.
   *
   * @param runId - Id of the run.
   */
  isSelected(runId: string): boolean {
    return this._state.selected.includes(runId);
  }

  /**
   * Select a run, or unselect it when it is selected.
   *
   * @param runId - Id of the run.
   */
  toggleSelected(runId: string): void {
    const selected = this._state.selected;
    this.setSelection(
      selected.includes(runId)
        ? selected.filter(id => id !== runId)
        : [...selected, runId]
    );
  }

  /**
   * Replace the selection.
   *
   * @param runIds - Ids of the runs to select.
   */
  setSelection(runIds: readonly string[]): void {
    this._state.selected = Array.from(new Set(runIds));
    this._selectionChanged.emit();
    this._emitState();
  }

  /** What the sidebar shows. */
  get view(): SidebarView {
    return this._state.view;
  }

  /**
   * Show something else.
   *
   * @param view - The view to show.
   */
  setView(view: SidebarView): void {
    this._state.view = view;
    this._viewChanged.emit();
    this._emitState();
  }

  /**
   * Show one run in full.
   *
   * @param runId - Id of the run.
   */
  openRun(runId: string): void {
    this.setView({ kind: 'run', runId });
  }

  /**
   * Compare the selected runs; does nothing with fewer than two.
   *
   * @returns Whether the comparison opened.
   */
  compareSelected(): boolean {
    if (this._state.selected.length < 2) {
      return false;
    }
    this.setView({ kind: 'compare', runIds: [...this._state.selected] });
    return true;
  }

  /** The state to save across reloads. */
  saveState(): IPanelState {
    return JSON.parse(JSON.stringify(this._state)) as IPanelState;
  }

  /**
   * Bring back a saved state; anything malformed in it is ignored.
   *
   * @param saved - What the state database returned.
   */
  restoreState(saved: unknown): void {
    this._state = parsePanelState(saved);
    this._queryChanged.emit();
    this._selectionChanged.emit();
    this._viewChanged.emit();
    this._reloadIfActive();
  }

  /** Whether the panel is on screen; polling pauses while it is not. */
  get visible(): boolean {
    return this._visible;
  }

  set visible(visible: boolean) {
    if (visible === this._visible) {
      return;
    }
    this._visible = visible;
    this._onVisibility();
  }

  /** Load the first page again, forgetting the loaded rows. */
  refresh(): Promise<void> {
    return this._list.refresh();
  }

  /** Load the next page after the loaded rows. */
  loadMore(): Promise<void> {
    return this._list.loadMore();
  }

  /**
   * Ask whether the first page changed (with the ETag of the last answer) and
   * merge it when it did, keeping the loaded rows, the scroll position and
   * the selection.
   */
  poll(): Promise<void> {
    return this._list.poll();
  }

  /**
   * A run summary was shown for a run (a tracked cell in this JupyterLab just
   * finished, or a notebook with summaries opened). Unless the list already
   * shows the run with that status, ask the server now instead of at the next
   * poll: a run recorded here appears at once, not up to an interval later.
   *
   * @param runId - Id of the run.
   * @param status - The status the summary shows.
   */
  noticeRun(runId: string, status: string): void {
    const lacking = (): boolean =>
      !this._isDisposed &&
      this._list.runs.find(run => run.id === runId)?.status !== status;
    if (lacking()) {
      this._poller.check(true);
      // The kernel writes a run's record just behind the cell's reply, so the
      // first look may come too early: look again shortly.
      for (const delay of NOTICE_RECHECK_MS) {
        window.setTimeout(() => {
          if (lacking()) {
            this._poller.check(true);
          }
        }, delay);
      }
    }
  }

  /**
   * Poll every `refreshInterval` seconds while the panel and the page are
   * visible.
   */
  startPolling(): void {
    this._poller.start();
  }

  /** Stop polling. */
  stopPolling(): void {
    this._poller.stop();
  }

  /** Whether the model is disposed. */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /** Stop polling and disconnect every listener. */
  dispose(): void {
    if (this._isDisposed) {
      return;
    }
    this._isDisposed = true;
    this._poller.dispose();
    this._list.dispose();
    if (typeof document !== 'undefined') {
      document.removeEventListener('visibilitychange', this._onVisibility);
    }
    Signal.clearData(this);
  }

  private _query(cursor: string | null): IRunsQuery {
    return {
      ...this._state.filters,
      sort: this._state.sort,
      limit: this._settings.pageSize,
      cursor
    };
  }

  /**
   * Forget the loaded runs; load them now if the panel is on screen, else
   * when it is next shown (`poll` loads when nothing is loaded).
   */
  private _reloadIfActive(): void {
    this._list.clear();
    if (this.serverReady && this._active) {
      void this._list.refresh();
    }
  }

  private get _active(): boolean {
    return this._visible && !this._documentHidden();
  }

  private _onVisibility = (): void => {
    // Catch up at once on what happened while the panel was hidden.
    this._poller.check(true);
  };

  private _emitState(): void {
    this._stateChanged.emit(this.saveState());
  }

  private _client: IRunsClient;
  private _list: RunsList;
  private _poller: Poller;
  private _settings: ITrackbookSettings;
  private _documentHidden: () => boolean;
  private _handshake: HandshakeResult | null = null;
  private _state: IPanelState = defaultPanelState();
  private _visible = false;
  private _isDisposed = false;
  private _selectionChanged = new Signal<this, void>(this);
  private _viewChanged = new Signal<this, void>(this);
  private _queryChanged = new Signal<this, void>(this);
  private _handshakeChanged = new Signal<this, void>(this);
  private _stateChanged = new Signal<this, IPanelState>(this);
}

/**
 * Types of the runs model.
 */
export namespace RunsModel {
  /** Options of the runs model. */
  export interface IOptions {
    /** How to reach the server. */
    client: IRunsClient;
    /** Settings at creation; later ones are set with `model.settings = ...`. */
    settings?: ITrackbookSettings;
    /** Whether the browser tab is hidden (replaced in tests). */
    documentHidden?: () => boolean;
  }
}
