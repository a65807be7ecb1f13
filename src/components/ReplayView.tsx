/**
 * One replay: its progress while it runs, then its verdict, differences,
 * failure, the run it recorded and its report. Every string from the
 * server is rendered as React text.
 */
import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatTime, formatValue } from '../format';
import { IReplay, IReplayDifference, VERDICTS } from '../replayApi';
import { Message, shortId } from './common';
import { useTrans } from './trans';

/**
 * The verdict (or, until there is one, the status) as a CSS class suffix:
 * a known value, else `unknown` (a class name never carries server text).
 *
 * @param replay - The replay.
 */
export function verdictClass(replay: IReplay): string {
  const known: readonly string[] = [...VERDICTS, 'queued', 'running'];
  const value = replay.verdict ?? replay.status;
  return known.includes(value)
    ? `jp-trackbook-Verdict-${value.replace(/_/g, '-')}`
    : 'jp-trackbook-Verdict-unknown';
}

/**
 * A replay's verdict, or its status while it has none, as a badge.
 */
export function VerdictBadge(props: { replay: IReplay }): JSX.Element {
  const { replay } = props;
  return (
    <span className={`jp-trackbook-Verdict ${verdictClass(replay)}`}>
      {replay.verdict ?? replay.status}
    </span>
  );
}

/**
 * Properties of the view of one replay.
 */
export interface IReplayViewProps {
  replay: IReplay;
  /**
   * Show a run (the one the replay recorded) in the detail view.
   */
  openRun: (runId: string) => void;
  /**
   * Open the replay's audit report; no button without it.
   */
  openReport?: (replay: IReplay) => void;
}

/**
 * One replay, as far as it got.
 */
export function ReplayView(props: IReplayViewProps): JSX.Element {
  const trans = useTrans();
  const { replay, openRun, openReport } = props;
  const done = replay.status === 'done';
  return (
    <div className="jp-trackbook-ReplayView" data-replay-id={replay.id}>
      <div className="jp-trackbook-ReplayView-header">
        <VerdictBadge replay={replay} />
        <code title={replay.id}>{shortId(replay.id)}</code>
        <span className="jp-trackbook-ReplayView-when">
          {`${replay.mode} · ${formatTime(replay.requested_at)}`}
        </span>
      </div>
      {done ? (
        <ReplayOutcome {...props} />
      ) : (
        <div
          className="jp-trackbook-ReplayProgress"
          role="status"
          aria-live="polite"
        >
          <div className="jp-trackbook-ReplayProgress-bar" />
          <span className="jp-trackbook-ReplayProgress-message">
            {replay.status === 'queued'
              ? trans.__('Waiting for a free replay slot…')
              : (replay.message ?? trans.__('Running…'))}
          </span>
        </div>
      )}
      <div className="jp-trackbook-ReplayView-actions">
        {replay.replay_run_id ? (
          <Button
            small
            minimal
            title={trans.__('Show the run the replay recorded')}
            onClick={() => openRun(replay.replay_run_id as string)}
          >
            {trans.__('Replayed run %1', shortId(replay.replay_run_id))}
          </Button>
        ) : null}
        {openReport && done ? (
          <Button small onClick={() => openReport(replay)}>
            {trans.__('Open report')}
          </Button>
        ) : null}
      </div>
    </div>
  );
}

/**
 * What a done replay found.
 */
function ReplayOutcome(props: IReplayViewProps): JSX.Element {
  const trans = useTrans();
  const { replay } = props;
  const failure = replay.failure;
  return (
    <>
      {failure ? (
        <Message kind="error">
          {failure.cell_index !== null
            ? trans.__(
                'In cell %1 of the replayed notebook: ',
                failure.cell_index + 1
              )
            : ''}
          {`${failure.ename}: ${failure.evalue}`}
        </Message>
      ) : null}
      {replay.differences.length > 0 ? (
        <DifferencesTable differences={replay.differences} />
      ) : failure === null ? (
        <div className="jp-trackbook-Empty">
          {trans.__('No differences from the original run.')}
        </div>
      ) : null}
      {replay.message && !failure ? (
        <p className="jp-trackbook-ReplayView-note">{replay.message}</p>
      ) : null}
    </>
  );
}

/**
 * The differences of a replay, one row each, as text.
 */
export function DifferencesTable(props: {
  differences: IReplayDifference[];
}): JSX.Element {
  const trans = useTrans();
  return (
    <table
      className="jp-trackbook-Differences"
      aria-label={trans.__('Differences')}
    >
      <thead>
        <tr>
          <th scope="col">{trans.__('Facet')}</th>
          <th scope="col">{trans.__('Key')}</th>
          <th scope="col">{trans.__('Original')}</th>
          <th scope="col">{trans.__('Replayed')}</th>
          <th scope="col">{trans.__('Cause')}</th>
        </tr>
      </thead>
      <tbody>
        {props.differences.map((difference, index) => (
          <tr key={index}>
            <td>{difference.facet}</td>
            <th scope="row">{difference.key}</th>
            <td>{formatValue(difference.original)}</td>
            <td>{formatValue(difference.replayed)}</td>
            <td>
              <span className="jp-trackbook-Differences-cause">
                {difference.cause.replace(/_/g, ' ')}
              </span>
              <div className="jp-trackbook-Differences-explanation">
                {difference.explanation}
              </div>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
