/**
 * Shared set-up of the sidebar tests.
 */
import { HandshakeResult } from '../handshake';
import { RunsModel } from '../model';
import { RestRunsClient } from '../runsApi';
import { DEFAULT_SETTINGS, ITrackbookSettings } from '../settings';
import { FRONTEND_VERSION } from '../version';
import { RawRun, RunsServer } from './runsServer';

/**
 * The real `setTimeout`, taken before any test fakes the timers.
 */
const realSetTimeout = setTimeout;

/**
 * A successful handshake.
 */
export const HANDSHAKE_OK: HandshakeResult = {
  status: 'ok',
  info: {
    version: FRONTEND_VERSION,
    store: { kind: 'sqlite', url: 'sqlite:///store.db' },
    schema_revision: '0001'
  }
};

/**
 * Let pending network answers (fake fetch, body reading) come in.
 *
 * Waits on the real `setTimeout`, so this works with and without fake
 * timers.
 */
export async function flush(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) {
    await new Promise(resolve => realSetTimeout(resolve, 0));
  }
}

/**
 * Jest fake timers that leave the I/O machinery of `fetch` alone.
 */
export function useFakeTimers(): void {
  jest.useFakeTimers({
    doNotFake: ['nextTick', 'queueMicrotask']
  });
}

/**
 * A model talking to a fake server through the real REST client.
 */
export interface IModelSetup {
  server: RunsServer;
  model: RunsModel;
  /**
   * Whether the browser tab counts as hidden.
   */
  hidden: { value: boolean };
}

/**
 * A visible model whose handshake succeeded and whose first page loaded.
 *
 * @param runs - The server's runs, newest first.
 * @param settings - Settings to change.
 * @param options - `visible: false` for a hidden panel, `load: false` to skip
 *   the handshake.
 */
export async function setupModel(
  runs: RawRun[],
  settings: Partial<ITrackbookSettings> = {},
  options: { visible?: boolean; load?: boolean } = {}
): Promise<IModelSetup> {
  const server = new RunsServer();
  server.runs = runs;
  const hidden = { value: false };
  const model = new RunsModel({
    client: new RestRunsClient(server.settings),
    settings: { ...DEFAULT_SETTINGS, ...settings },
    documentHidden: () => hidden.value
  });
  model.visible = options.visible ?? true;
  if (options.load ?? true) {
    model.setHandshake(HANDSHAKE_OK);
    await flush();
  }
  return { server, model, hidden };
}
