/**
 * React hooks shared by the sidebar's components.
 */
import { ISignal } from '@lumino/signaling';
import * as React from 'react';

/**
 * Render again whenever one of the signals fires; disconnect on unmount.
 *
 * @param signals - Signals of the model the component reads.
 */
export function useSignals(...signals: Array<ISignal<unknown, unknown>>): void {
  const [, rerender] = React.useReducer((count: number) => count + 1, 0);
  React.useEffect(() => {
    const listener = {};
    const slot = () => rerender();
    for (const signal of signals) {
      signal.connect(slot, listener);
    }
    // A signal that fired between the render and this effect (a response
    // that arrived while the sidebar's views were mounting) found nobody
    // listening: render once more so that nothing emitted meanwhile is
    // lost. Without this the runs list could stay on "Loading runs…" until
    // the next change in the store.
    rerender();
    return () => {
      for (const signal of signals) {
        signal.disconnect(slot, listener);
      }
    };
    // The signals are the model's, fixed for the component's life.
  }, signals);
}

/**
 * A value that follows its input after the input stopped changing for
 * `delay` milliseconds.
 *
 * @param value - The input, e.g. what the user types.
 * @param delay - Quiet time in milliseconds.
 * @param onSettled - Called with the value once it settled.
 */
export function useDebounced<T>(
  value: T,
  delay: number,
  onSettled: (value: T) => void
): void {
  const callback = React.useRef(onSettled);
  callback.current = onSettled;
  const first = React.useRef(true);
  React.useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const timer = setTimeout(() => callback.current(value), delay);
    return () => clearTimeout(timer);
  }, [value, delay]);
}

/**
 * The result of an asynchronous load: pending, done or failed.
 */
export type Loaded<T> =
  | { status: 'loading' }
  | { status: 'done'; value: T }
  | { status: 'failed'; message: string };

/**
 * Run an asynchronous load when its key changes; a result that arrives after
 * the key changed again (or after unmount) is dropped.
 *
 * @param load - The load, e.g. `() => client.getRun(id)`.
 * @param key - What identifies the load (a run id, ...).
 * @returns The state of the load, and a function that loads again.
 */
export function useLoad<T>(
  load: () => Promise<T>,
  key: string
): [Loaded<T>, () => void] {
  const [state, setState] = React.useState<Loaded<T>>({ status: 'loading' });
  const [attempt, setAttempt] = React.useState(0);
  const loader = React.useRef(load);
  loader.current = load;
  const loadedKey = React.useRef(key);
  React.useEffect(() => {
    let current = true;
    if (loadedKey.current !== key) {
      // A reload of the same key keeps showing the old value meanwhile.
      loadedKey.current = key;
      setState({ status: 'loading' });
    }
    loader
      .current()
      .then(value => {
        if (current) {
          setState({ status: 'done', value });
        }
      })
      .catch((error: unknown) => {
        if (current) {
          setState({
            status: 'failed',
            message: error instanceof Error ? error.message : String(error)
          });
        }
      });
    return () => {
      current = false;
    };
  }, [key, attempt]);
  const reload = React.useCallback(() => setAttempt(count => count + 1), []);
  return [state, reload];
}
