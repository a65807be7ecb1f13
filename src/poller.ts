/**
 * A timer that runs a task every few seconds while someone is looking.
 */
import { IDisposable } from '@lumino/disposable';

/**
 * Options of the poller.
 */
export interface IPollerOptions {
  /**
   * The task; the next run is scheduled once it settled.
   */
  task: () => Promise<void>;
  /**
   * Seconds between the end of a run and the start of the next.
   */
  interval: () => number;
  /**
   * Whether polling is worth it now (panel and page visible).
   */
  active: () => boolean;
}

/**
 * Runs a task at an interval while `active()` holds; call `check()` when
 * `active()` may have changed.
 */
export class Poller implements IDisposable {
  /**
   * @param options - The task, its interval and when to run it.
   */
  constructor(options: IPollerOptions) {
    this._options = options;
  }

  /**
   * Whether the poller runs.
   */
  get running(): boolean {
    return this._running;
  }

  /**
   * Start polling (the first run comes after one interval).
   */
  start(): void {
    this._running = true;
    this._schedule();
  }

  /**
   * Stop polling.
   */
  stop(): void {
    this._running = false;
    this._clear();
  }

  /**
   * Re-evaluate after `active()` or the interval may have changed.
   *
   * @param runNow - Run the task at once when active (to catch up after the
   *   panel was hidden, or because something changed); while a run is under
   *   way, run again as soon as it settles, since it may have started too
   *   early to see the change.
   */
  check(runNow = false): void {
    if (runNow && this._busy) {
      this._again = true;
      return;
    }
    if (runNow && this._running && this._options.active()) {
      this._clear();
      this._run();
      return;
    }
    if (!this._busy) {
      this._schedule();
    }
  }

  /**
   * Whether the poller is disposed.
   */
  get isDisposed(): boolean {
    return this._isDisposed;
  }

  /**
   * Stop for good.
   */
  dispose(): void {
    this._isDisposed = true;
    this.stop();
  }

  private _schedule(): void {
    this._clear();
    if (!this._running || this._isDisposed || !this._options.active()) {
      return;
    }
    this._timer = setTimeout(() => {
      this._timer = null;
      this._run();
    }, this._options.interval() * 1000);
  }

  private _run(): void {
    this._busy = true;
    this._options
      .task()
      .catch(reason => console.error('trackbook: polling failed', reason))
      .then(() => {
        this._busy = false;
        const again = this._again;
        this._again = false;
        if (
          again &&
          this._running &&
          !this._isDisposed &&
          this._options.active()
        ) {
          this._run();
        } else {
          this._schedule();
        }
      });
  }

  private _clear(): void {
    if (this._timer !== null) {
      clearTimeout(this._timer);
      this._timer = null;
    }
  }

  private _options: IPollerOptions;
  private _running = false;
  private _busy = false;
  private _again = false;
  private _isDisposed = false;
  private _timer: ReturnType<typeof setTimeout> | null = null;
}
