import { act, fireEvent, render, screen, within } from '@testing-library/react';
import * as React from 'react';

import { ROW_HEIGHT, RunsTable, nextSort } from '../components/RunsTable';
import { visibleRange } from '../components/VirtualList';
import { RunsModel } from '../model';
import { parseRunRow } from '../parse';
import { IRunsClient, IRunsQuery, ListRunsResult } from '../runsApi';
import { DEFAULT_SETTINGS } from '../settings';
import { IRunRow } from '../types';
import { flush, HANDSHAKE_OK, setupModel } from './helpers';
import { makeRun, makeRuns } from './runsServer';

/**
 * A client that answers every list request with the same rows, all at once.
 */
class StaticClient implements IRunsClient {
  constructor(public rows: IRunRow[]) {}
  queries: IRunsQuery[] = [];
  async listRuns(query: IRunsQuery): Promise<ListRunsResult> {
    this.queries.push(query);
    return {
      kind: 'page',
      etag: null,
      page: {
        runs: this.rows,
        next_cursor: null,
        metric_keys: ['loss'],
        param_keys: [],
        tag_keys: [],
        total: this.rows.length
      }
    };
  }
  getRun(): never {
    throw new Error('not used');
  }
  listModels(): never {
    throw new Error('not used');
  }
  getModel(): never {
    throw new Error('not used');
  }
  artifactUrl(): string {
    return '';
  }
}

async function manyRunsModel(count: number): Promise<RunsModel> {
  const rows: IRunRow[] = [];
  for (let i = count - 1; i >= 0; i--) {
    rows.push(parseRunRow(makeRun(i)));
  }
  const model = new RunsModel({
    client: new StaticClient(rows),
    settings: { ...DEFAULT_SETTINGS, metricColumns: ['loss'] }
  });
  model.visible = true;
  model.setHandshake(HANDSHAKE_OK);
  await flush();
  return model;
}

function dataRows(): HTMLElement[] {
  return screen
    .getAllByRole('row')
    .filter(row => row.hasAttribute('data-index'));
}

describe('RunsTable', () => {
  it('shows a row per run with its columns', async () => {
    const { model } = await setupModel(makeRuns(0, 3), {
      metricColumns: ['loss']
    });

    render(<RunsTable model={model} />);

    const rows = dataRows();
    expect(rows).toHaveLength(3);
    const cells = within(rows[0]).getAllByRole('gridcell');
    expect(cells.map(cell => cell.textContent)).toEqual([
      '',
      'finished',
      'run 2',
      expect.stringMatching(/ago|2024/),
      '1.5 s',
      'train.ipynb',
      '0.3333'
    ]);
  });

  it('renders only the rows in view for 10,000 runs', async () => {
    const model = await manyRunsModel(10000);

    render(<RunsTable model={model} fallbackHeight={400} />);

    expect(model.runs).toHaveLength(10000);
    const rendered = dataRows();
    expect(rendered.length).toBeLessThanOrEqual(25);
    expect(rendered[0]).toHaveAttribute('data-index', '0');

    const list = document.querySelector('.jp-trackbook-VirtualList')!;
    act(() => {
      list.scrollTop = 5000 * ROW_HEIGHT;
      fireEvent.scroll(list);
    });

    const scrolled = dataRows().map(row => Number(row.dataset.index));
    expect(scrolled.length).toBeLessThanOrEqual(25);
    expect(scrolled).toContain(5000);
    expect(scrolled).not.toContain(0);
  });

  it('sorts by clicking a header, any metric included', async () => {
    const { server, model } = await setupModel(makeRuns(0, 3), {
      metricColumns: ['loss']
    });
    render(<RunsTable model={model} />);

    fireEvent.click(screen.getByRole('button', { name: /loss/ }));
    await act(() => flush());

    expect(model.sort).toBe('-metrics.loss');
    expect(
      server.listRequests[server.listRequests.length - 1].searchParams.get(
        'sort'
      )
    ).toBe('-metrics.loss');
    const header = screen.getByRole('columnheader', { name: /loss/ });
    expect(header).toHaveAttribute('aria-sort', 'descending');

    fireEvent.click(screen.getByRole('button', { name: /loss/ }));
    expect(model.sort).toBe('metrics.loss');
    await act(() => flush());
  });

  it('moves, selects and opens with the keyboard', async () => {
    const { model } = await setupModel(makeRuns(0, 5));
    render(<RunsTable model={model} />);
    const [first] = dataRows();
    expect(first).toHaveAttribute('tabindex', '0');
    first.focus();

    fireEvent.keyDown(first, { key: 'ArrowDown' });
    fireEvent.keyDown(document.activeElement!, { key: 'ArrowDown' });
    const focused = document.activeElement as HTMLElement;
    expect(focused.dataset.index).toBe('2');
    expect(focused).toHaveAttribute('tabindex', '0');

    fireEvent.keyDown(focused, { key: ' ' });
    expect(model.selection).toEqual(['run-000002']);
    expect(focused).toHaveAttribute('aria-selected', 'true');

    fireEvent.keyDown(focused, { key: 'ArrowUp' });
    fireEvent.keyDown(document.activeElement!, { key: ' ' });
    expect(model.selection).toEqual(['run-000002', 'run-000003']);

    fireEvent.keyDown(document.activeElement!, { key: 'End' });
    expect((document.activeElement as HTMLElement).dataset.index).toBe('4');

    fireEvent.keyDown(document.activeElement!, { key: 'Enter' });
    expect(model.view).toEqual({ kind: 'run', runId: 'run-000000' });
  });

  it('selects with the checkbox without opening the run', async () => {
    const { model } = await setupModel(makeRuns(0, 2));
    render(<RunsTable model={model} />);

    fireEvent.click(screen.getByRole('checkbox', { name: 'Select run run 0' }));

    expect(model.selection).toEqual(['run-000000']);
    expect(model.view).toEqual({ kind: 'runs' });
  });

  it('loads the next page when the end comes into view', async () => {
    const { server, model } = await setupModel(makeRuns(0, 60), {
      pageSize: 10
    });
    render(<RunsTable model={model} fallbackHeight={2000} />);
    await act(() => flush());

    // 2000 px show every loaded row, so each page asks for the next one.
    expect(model.runs).toHaveLength(60);
    expect(server.listRequests.length).toBeGreaterThanOrEqual(6);
    expect(screen.queryByRole('button', { name: /Load more/ })).toBeNull();
  });

  it('offers a button that loads more', async () => {
    const { model } = await setupModel(makeRuns(0, 120));
    render(<RunsTable model={model} fallbackHeight={200} />);

    const button = screen.getByRole('button', {
      name: 'Load more (50 of 120)'
    });
    fireEvent.click(button);
    await act(() => flush());

    expect(model.runs).toHaveLength(100);
  });

  it('keeps the rows in view in place when runs arrive on top', async () => {
    const { server, model } = await setupModel(makeRuns(0, 50));
    render(<RunsTable model={model} fallbackHeight={300} />);
    const list = document.querySelector('.jp-trackbook-VirtualList')!;
    act(() => {
      list.scrollTop = 20 * ROW_HEIGHT;
      fireEvent.scroll(list);
    });

    server.runs.unshift(makeRun(101), makeRun(100));
    await act(() => model.poll());

    expect(model.runs[0].id).toBe('run-000101');
    expect(list.scrollTop).toBe(22 * ROW_HEIGHT);
  });
});

describe('nextSort', () => {
  it('flips the direction of the current column', () => {
    const column = { sortKey: 'started_at', descendingFirst: true };
    expect(nextSort('-started_at', column)).toBe('started_at');
    expect(nextSort('started_at', column)).toBe('-started_at');
    expect(nextSort('name', column)).toBe('-started_at');
    expect(nextSort('-started_at', { sortKey: 'name' })).toBe('name');
    expect(nextSort('name', {})).toBe('name');
  });
});

describe('visibleRange', () => {
  it('covers the view and the overscan', () => {
    expect(visibleRange(0, 100, 10, 1000, 2)).toEqual({ first: 0, last: 11 });
    expect(visibleRange(500, 100, 10, 1000, 2)).toEqual({
      first: 48,
      last: 61
    });
    expect(visibleRange(0, 100, 10, 0, 2)).toEqual({ first: 0, last: -1 });
    expect(visibleRange(9990, 100, 10, 1000, 2).last).toBe(999);
  });
});
