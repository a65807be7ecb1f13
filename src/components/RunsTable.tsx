/**
 * The runs table: virtualised rows, sortable headers, selection, all of it
 * usable with the keyboard.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatMetric, formatTime, relativeTime } from '../format';
import { RunsModel } from '../model';
import { formatDuration } from '../runSummary';
import { IRunRow } from '../types';
import { StatusBadge, shortId, useNow } from './common';
import { useSignals } from './hooks';
import { useTrans } from './trans';
import { VirtualList } from './VirtualList';

/**
 * Height of one row, in pixels.
 */
export const ROW_HEIGHT = 28;

/**
 * Height of the header row, in pixels.
 */
export const HEADER_HEIGHT = 28;

/**
 * A column of the runs table.
 */
interface IColumn {
  id: string;
  label: string;
  /**
   * Width in pixels.
   */
  width: number;
  /**
   * Value of the `sort` parameter that sorts ascending by this column.
   */
  sortKey?: string;
  /**
   * Whether the first click sorts descending (times, numbers).
   */
  descendingFirst?: boolean;
  render: (run: IRunRow, now: number) => React.ReactNode;
  title?: (run: IRunRow) => string;
}

/**
 * The columns: fixed ones, then one per chosen metric.
 *
 * @param trans - Translations of the `trackbook` domain.
 * @param metricColumns - Metric keys to show.
 */
export function runColumns(
  trans: TranslationBundle,
  metricColumns: readonly string[]
): IColumn[] {
  const fixed: IColumn[] = [
    {
      id: 'status',
      label: trans.__('Status'),
      width: 84,
      render: run => <StatusBadge status={run.status} />
    },
    {
      id: 'name',
      label: trans.__('Name'),
      width: 170,
      sortKey: 'name',
      render: run => (
        <>
          {run.name ?? shortId(run.id)}
          {run.warnings_count > 0 ? (
            <span
              className="jp-trackbook-RunsTable-warnings"
              title={trans._n(
                '%1 capture warning',
                '%1 capture warnings',
                run.warnings_count
              )}
            >
              {`⚠ ${run.warnings_count}`}
            </span>
          ) : null}
        </>
      ),
      title: run => run.name ?? run.id
    },
    {
      id: 'started',
      label: trans.__('Started'),
      width: 90,
      sortKey: 'started_at',
      descendingFirst: true,
      render: (run, now) => relativeTime(run.started_at, now),
      title: run => formatTime(run.started_at)
    },
    {
      id: 'duration',
      label: trans.__('Duration'),
      width: 80,
      sortKey: 'duration_s',
      descendingFirst: true,
      render: run =>
        run.duration_s === null ? '' : formatDuration(run.duration_s)
    },
    {
      id: 'notebook',
      label: trans.__('Notebook'),
      width: 150,
      render: run => run.notebook ?? '',
      title: run => run.notebook ?? ''
    }
  ];
  const metrics: IColumn[] = metricColumns.map(key => ({
    id: `metric:${key}`,
    label: key,
    width: 90,
    sortKey: `metrics.${key}`,
    descendingFirst: true,
    render: run => formatMetric(run.metrics[key]),
    title: run => `${key} = ${formatMetric(run.metrics[key])}`
  }));
  return [...fixed, ...metrics];
}

/**
 * The sort after a click on a column header: the other direction when the
 * table is already sorted by it, else the column's first direction.
 *
 * @param current - The sort in force.
 * @param column - The clicked column.
 */
export function nextSort(
  current: string,
  column: { sortKey?: string; descendingFirst?: boolean }
): string {
  const key = column.sortKey;
  if (!key) {
    return current;
  }
  if (current === key) {
    return `-${key}`;
  }
  if (current === `-${key}`) {
    return key;
  }
  return column.descendingFirst ? `-${key}` : key;
}

const CHECKBOX_WIDTH = 30;

/**
 * Properties of the runs table.
 */
export interface IRunsTableProps {
  model: RunsModel;
  /**
   * Height used while the table cannot be measured.
   */
  fallbackHeight?: number;
}

/**
 * The runs table.
 */
export function RunsTable(props: IRunsTableProps): JSX.Element {
  const { model } = props;
  useSignals(model.runsChanged, model.selectionChanged, model.queryChanged);
  const trans = useTrans();
  const now = useNow();
  const runs = model.runs;
  const columns = runColumns(trans, model.metricColumns);
  const template = [CHECKBOX_WIDTH, ...columns.map(c => c.width)]
    .map(width => `${width}px`)
    .join(' ');
  const minWidth = CHECKBOX_WIDTH + columns.reduce((s, c) => s + c.width, 0);

  const [focused, setFocused] = React.useState(0);
  const [scrollTo, setScrollTo] = React.useState<number | null>(null);
  const moved = React.useRef(false);
  const root = React.useRef<HTMLDivElement>(null);
  const focusedIndex = Math.min(focused, Math.max(0, runs.length - 1));

  React.useEffect(() => {
    if (!moved.current) {
      return;
    }
    moved.current = false;
    root.current
      ?.querySelector<HTMLElement>(`[data-index="${focusedIndex}"]`)
      ?.focus();
  });

  const moveTo = (index: number) => {
    const bounded = Math.max(0, Math.min(runs.length - 1, index));
    moved.current = true;
    setFocused(bounded);
    setScrollTo(bounded);
  };

  const onKeyDown = (event: React.KeyboardEvent, index: number) => {
    const run = runs[index];
    switch (event.key) {
      case 'Enter':
        model.openRun(run.id);
        break;
      case ' ':
        model.toggleSelected(run.id);
        break;
      case 'ArrowDown':
        moveTo(index + 1);
        break;
      case 'ArrowUp':
        moveTo(index - 1);
        break;
      case 'PageDown':
        moveTo(index + 10);
        break;
      case 'PageUp':
        moveTo(index - 10);
        break;
      case 'Home':
        moveTo(0);
        break;
      case 'End':
        moveTo(runs.length - 1);
        break;
      default:
        return;
    }
    event.preventDefault();
  };

  const onEndReached = React.useCallback(() => {
    if (model.hasMore && !model.loading) {
      void model.loadMore();
    }
  }, [model]);

  const header = (
    <div
      className="jp-trackbook-RunsTable-header"
      role="row"
      style={{ gridTemplateColumns: template, height: HEADER_HEIGHT }}
    >
      <span role="columnheader" className="jp-trackbook-RunsTable-cell">
        <span className="jp-trackbook-visuallyHidden">
          {trans.__('Selected')}
        </span>
      </span>
      {columns.map(column => (
        <HeaderCell
          key={column.id}
          column={column}
          sort={model.sort}
          onSort={sort => model.setSort(sort)}
        />
      ))}
    </div>
  );

  const renderRow = (index: number) => {
    const run = runs[index];
    const selected = model.isSelected(run.id);
    return (
      <div
        className={`jp-trackbook-RunsTable-row${selected ? ' jp-mod-selected' : ''}`}
        role="row"
        aria-rowindex={index + 2}
        aria-selected={selected}
        data-index={index}
        data-run-id={run.id}
        tabIndex={index === focusedIndex ? 0 : -1}
        style={{ gridTemplateColumns: template }}
        onClick={() => {
          setFocused(index);
          model.openRun(run.id);
        }}
        onFocus={() => setFocused(index)}
        onKeyDown={event => onKeyDown(event, index)}
      >
        <span role="gridcell" className="jp-trackbook-RunsTable-cell">
          <input
            type="checkbox"
            tabIndex={-1}
            checked={selected}
            aria-label={trans.__('Select run %1', run.name ?? run.id)}
            onClick={event => event.stopPropagation()}
            onChange={() => model.toggleSelected(run.id)}
          />
        </span>
        {columns.map(column => (
          <span
            key={column.id}
            role="gridcell"
            className={`jp-trackbook-RunsTable-cell jp-trackbook-RunsTable-${column.id.startsWith('metric:') ? 'metric' : column.id}`}
            title={column.title?.(run)}
          >
            {column.render(run, now)}
          </span>
        ))}
      </div>
    );
  };

  return (
    <div className="jp-trackbook-RunsTable" ref={root}>
      <VirtualList
        role="grid"
        ariaLabel={trans.__('Runs')}
        ariaRowCount={model.total + 1}
        itemCount={runs.length}
        itemHeight={ROW_HEIGHT}
        itemKey={index => runs[index].id}
        renderItem={renderRow}
        header={header}
        headerHeight={HEADER_HEIGHT}
        minWidth={minWidth}
        scrollToIndex={scrollTo}
        onEndReached={onEndReached}
        fallbackHeight={props.fallbackHeight}
      />
      {model.hasMore ? (
        <div className="jp-trackbook-RunsTable-more">
          <Button
            small
            minimal
            disabled={model.loading}
            onClick={() => void model.loadMore()}
          >
            {model.loading
              ? trans.__('Loading…')
              : trans.__('Load more (%1 of %2)', runs.length, model.total)}
          </Button>
        </div>
      ) : null}
    </div>
  );
}

/**
 * A column header: a button that sorts when the column can be sorted.
 */
function HeaderCell(props: {
  column: IColumn;
  sort: string;
  onSort: (sort: string) => void;
}): JSX.Element {
  const { column, sort } = props;
  const key = column.sortKey;
  const direction =
    key === undefined
      ? null
      : sort === key
        ? 'ascending'
        : sort === `-${key}`
          ? 'descending'
          : null;
  return (
    <span
      role="columnheader"
      className="jp-trackbook-RunsTable-cell"
      aria-sort={direction ?? (key ? 'none' : undefined)}
      title={column.label}
    >
      {key ? (
        <button
          type="button"
          className="jp-trackbook-RunsTable-sort"
          onClick={() => props.onSort(nextSort(sort, column))}
        >
          {column.label}
          <span aria-hidden="true" className="jp-trackbook-RunsTable-arrow">
            {direction === 'ascending'
              ? ' ▲'
              : direction === 'descending'
                ? ' ▼'
                : ''}
          </span>
        </button>
      ) : (
        column.label
      )}
    </span>
  );
}
