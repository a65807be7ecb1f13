/**
 * Small pieces the sidebar's views share. Every string is rendered as React
 * text: nothing from the server is ever parsed as HTML.
 */
import * as React from 'react';

import { RUN_STATUSES } from '../runSummary';
import { useTrans } from './trans';

/**
 * The status as a CSS class suffix: a known status, else `unknown` (a class
 * name never carries text from the server).
 *
 * @param status - Run status from the server.
 */
export function statusClass(status: string | null): string {
  return (RUN_STATUSES as readonly string[]).includes(status ?? '')
    ? `jp-trackbook-Status-${status}`
    : 'jp-trackbook-Status-unknown';
}

/**
 * A run's status as a coloured badge.
 */
export function StatusBadge(props: { status: string | null }): JSX.Element {
  const trans = useTrans();
  return (
    <span className={`jp-trackbook-Status ${statusClass(props.status)}`}>
      {props.status ?? trans.__('unknown')}
    </span>
  );
}

/**
 * A notice in place of content: loading, empty, failed.
 */
export function Message(props: {
  kind?: 'info' | 'error' | 'warning';
  children: React.ReactNode;
}): JSX.Element {
  const kind = props.kind ?? 'info';
  return (
    <div
      className={`jp-trackbook-Message jp-trackbook-Message-${kind}`}
      role={kind === 'error' ? 'alert' : 'status'}
    >
      {props.children}
    </div>
  );
}

/**
 * A titled, collapsible section of the run detail.
 */
export function Section(props: {
  title: string;
  count?: number;
  open?: boolean;
  className?: string;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <details
      className={`jp-trackbook-Section ${props.className ?? ''}`}
      open={props.open ?? true}
    >
      <summary className="jp-trackbook-Section-title">
        {props.title}
        {props.count !== undefined ? (
          <span className="jp-trackbook-Section-count">{props.count}</span>
        ) : null}
      </summary>
      <div className="jp-trackbook-Section-body">{props.children}</div>
    </details>
  );
}

/**
 * A two-column table of keys and values (params, seeds, ...).
 */
export function KeyValueTable(props: {
  rows: Array<[string, React.ReactNode]>;
  label: string;
  empty?: string;
}): JSX.Element {
  const trans = useTrans();
  if (props.rows.length === 0) {
    return (
      <div className="jp-trackbook-Empty">
        {props.empty ?? trans.__('None')}
      </div>
    );
  }
  return (
    <table className="jp-trackbook-KeyValue" aria-label={props.label}>
      <tbody>
        {props.rows.map(([key, value]) => (
          <tr key={key}>
            <th scope="row">{key}</th>
            <td>{value}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

/**
 * The short form of a run id shown in tight places.
 *
 * @param runId - Full run id.
 */
export function shortId(runId: string): string {
  return runId.length > 10 ? runId.slice(0, 10) : runId;
}

/**
 * The current time, refreshed every `period` milliseconds, for relative times.
 *
 * @param period - Milliseconds between refreshes.
 */
export function useNow(period = 30000): number {
  const [now, setNow] = React.useState(() => Date.now());
  React.useEffect(() => {
    const timer = setInterval(() => setNow(Date.now()), period);
    return () => clearInterval(timer);
  }, [period]);
  return now;
}
