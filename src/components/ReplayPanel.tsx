/**
 * The Replays section of the run detail: a Replay button, the progress of a
 * replay while it runs (polled), its verdict and differences, and the run's
 * earlier replays.
 */
import { Button, HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { relativeTime } from '../format';
import {
  IReplay,
  IReplaysClient,
  REPLAY_MODES,
  ReplayMode
} from '../replayApi';
import { Message, Section, shortId, useNow } from './common';
import { ReplayView, VerdictBadge } from './ReplayView';
import { useTrans } from './trans';

/**
 * Milliseconds between two looks at a replay that is not done.
 */
export const REPLAY_POLL_MS = 1000;

/**
 * What the run detail needs to replay runs.
 */
export interface IReplayActions {
  /**
   * The replay endpoints.
   */
  client: IReplaysClient;
  /**
   * Open a replay's audit report (in JupyterLab's main area); no button
   * without it.
   */
  openReport?: (replay: IReplay) => void;
  /**
   * Milliseconds between polls of a replay that is not done.
   */
  pollInterval?: number;
}

/**
 * Properties of the Replays section.
 */
export interface IReplayPanelProps extends IReplayActions {
  /**
   * The run to replay.
   */
  runId: string;
  /**
   * Show a run in the detail view (a replay's own run).
   */
  openRun: (runId: string) => void;
}

/**
 * The Replays section of a run.
 */
export function ReplayPanel(props: IReplayPanelProps): JSX.Element {
  const trans = useTrans();
  const { client, runId } = props;
  const [replays, setReplays] = React.useState<IReplay[] | null>(null);
  const [error, setError] = React.useState<string | null>(null);
  const [selected, setSelected] = React.useState<string | null>(null);
  const [starting, setStarting] = React.useState(false);
  const [mode, setMode] = React.useState<ReplayMode>('history');
  const mounted = React.useRef(true);
  React.useEffect(() => {
    mounted.current = true;
    return () => {
      mounted.current = false;
    };
  }, []);

  React.useEffect(() => {
    let current = true;
    setReplays(null);
    client
      .listReplays(runId)
      .then(list => {
        if (current) {
          setReplays(list);
        }
      })
      .catch((reason: unknown) => {
        if (current) {
          setError(message(reason));
        }
      });
    return () => {
      current = false;
    };
  }, [client, runId]);

  usePolling(client, replays, setReplays, props.pollInterval);

  const start = async () => {
    setStarting(true);
    setError(null);
    try {
      const replayId = await client.startReplay(runId, { mode });
      const replay = await client.getReplay(replayId);
      if (mounted.current) {
        setReplays(list => [replay, ...(list ?? [])]);
        setSelected(replayId);
      }
    } catch (reason) {
      if (mounted.current) {
        setError(message(reason));
      }
    } finally {
      if (mounted.current) {
        setStarting(false);
      }
    }
  };

  const shown =
    replays?.find(replay => replay.id === selected) ?? replays?.[0] ?? null;
  return (
    <Section
      title={trans.__('Replays')}
      count={replays?.length}
      className="jp-trackbook-Replays"
    >
      <div className="jp-trackbook-ReplayControls">
        <HTMLSelect
          aria-label={trans.__('Replay mode')}
          value={mode}
          onChange={event => setMode(event.currentTarget.value as ReplayMode)}
          options={REPLAY_MODES.map(value => ({
            value,
            label:
              value === 'history'
                ? trans.__('Recorded history')
                : trans.__('Saved notebook')
          }))}
        />
        <Button
          small
          disabled={starting}
          title={trans.__('Re-execute this run in a fresh kernel and compare')}
          onClick={() => void start()}
        >
          {trans.__('Replay')}
        </Button>
      </div>
      {error !== null ? <Message kind="error">{error}</Message> : null}
      {replays === null && error === null ? (
        <Message>{trans.__('Loading replays…')}</Message>
      ) : null}
      {shown ? (
        <ReplayView
          replay={shown}
          openRun={props.openRun}
          openReport={props.openReport}
        />
      ) : replays !== null ? (
        <div className="jp-trackbook-Empty">
          {trans.__('Not replayed yet.')}
        </div>
      ) : null}
      {replays !== null && replays.length > 1 ? (
        <ReplayList
          replays={replays}
          shown={shown?.id ?? null}
          onSelect={setSelected}
        />
      ) : null}
    </Section>
  );
}

/**
 * Every replay of the run, newest first; one is shown above.
 */
function ReplayList(props: {
  replays: IReplay[];
  shown: string | null;
  onSelect: (replayId: string) => void;
}): JSX.Element {
  const trans = useTrans();
  const now = useNow();
  return (
    <ul
      className="jp-trackbook-ReplayList"
      aria-label={trans.__('Earlier replays')}
    >
      {props.replays.map(replay => (
        <li key={replay.id}>
          <button
            type="button"
            className={`jp-trackbook-ReplayList-item${
              replay.id === props.shown ? ' jp-mod-active' : ''
            }`}
            aria-current={replay.id === props.shown ? 'true' : undefined}
            onClick={() => props.onSelect(replay.id)}
          >
            <VerdictBadge replay={replay} />
            <code>{shortId(replay.id)}</code>
            <span>{`${replay.mode} · ${relativeTime(replay.requested_at, now)}`}</span>
          </button>
        </li>
      ))}
    </ul>
  );
}

/**
 * Look at every replay that is not done every `interval` ms, until it is.
 */
function usePolling(
  client: IReplaysClient,
  replays: IReplay[] | null,
  setReplays: React.Dispatch<React.SetStateAction<IReplay[] | null>>,
  interval = REPLAY_POLL_MS
): void {
  const open = (replays ?? [])
    .filter(replay => replay.status !== 'done')
    .map(replay => replay.id);
  const key = open.join(',');
  const [round, setRound] = React.useState(0);
  React.useEffect(() => {
    if (!key) {
      return;
    }
    let current = true;
    const timer = setTimeout(async () => {
      const fresh = await Promise.all(
        open.map(id => client.getReplay(id).catch(() => null))
      );
      if (!current) {
        return;
      }
      const byId = new Map(
        fresh
          .filter((replay): replay is IReplay => replay !== null)
          .map(replay => [replay.id, replay])
      );
      setReplays(list =>
        list === null ? list : list.map(replay => byId.get(replay.id) ?? replay)
      );
      setRound(count => count + 1); // poll again, changed or not
    }, interval);
    return () => {
      current = false;
      clearTimeout(timer);
    };
  }, [client, key, round, interval]);
}

function message(reason: unknown): string {
  return reason instanceof Error ? reason.message : String(reason);
}
