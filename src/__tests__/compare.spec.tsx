import { act, fireEvent, render, screen, within } from '@testing-library/react';
import * as React from 'react';

import { CompareView } from '../components/CompareView';
import { diffEnvironments, compareParams } from '../diff';
import { parseRunDetail } from '../parse';
import { makeDetail, XSS } from './fixtures';
import { flush, setupModel } from './helpers';
import { RawRun } from './runsServer';

function withPackages(
  detail: RawRun,
  packages: Record<string, string>
): RawRun {
  const environment = detail.environment as Record<string, unknown>;
  return { ...detail, environment: { ...environment, packages } };
}

async function renderCompare(details: RawRun[]) {
  const { server, model } = await setupModel([]);
  for (const detail of details) {
    server.details.set(detail.id, detail);
  }
  render(
    <CompareView model={model} runIds={details.map(detail => detail.id)} />
  );
  await act(() => flush());
  return { server, model };
}

function rowOf(table: string, key: string): HTMLElement {
  const cell = within(screen.getByRole('table', { name: table })).getByRole(
    'rowheader',
    { name: key }
  );
  return cell.closest('tr') as HTMLElement;
}

describe('CompareView', () => {
  const a = withPackages(
    makeDetail(1, { name: 'baseline', params: { lr: 0.01, depth: 3 } }),
    { numpy: '1.26.4', pandas: '2.2.0', torch: '2.1.0' }
  );
  const b = withPackages(
    makeDetail(2, {
      name: 'tuned',
      params: { lr: 0.1, depth: 3, dropout: 0.2 },
      metrics: { loss: 0.2, accuracy: 0.9 },
      metric_history: []
    }),
    { numpy: '1.26.4', pandas: '2.2.1', scipy: '1.12.0' }
  );

  it('puts params and metrics side by side, differences highlighted', async () => {
    await renderCompare([a, b]);

    const lr = rowOf('Parameters', 'lr');
    expect(lr).toHaveClass('jp-trackbook-Compare-diff');
    expect(
      within(lr)
        .getAllByRole('cell')
        .map(c => c.textContent)
    ).toEqual(['0.01', '0.1']);
    expect(rowOf('Parameters', 'depth')).not.toHaveClass(
      'jp-trackbook-Compare-diff'
    );
    const dropout = rowOf('Parameters', 'dropout');
    expect(dropout).toHaveClass('jp-trackbook-Compare-diff');
    expect(within(dropout).getAllByRole('cell')[0]).toHaveTextContent('—');

    expect(rowOf('Metrics', 'loss')).toHaveClass('jp-trackbook-Compare-diff');
    expect(rowOf('Metrics', 'accuracy')).not.toHaveClass(
      'jp-trackbook-Compare-diff'
    );

    fireEvent.click(screen.getByRole('checkbox', { name: 'Only differences' }));
    expect(
      within(screen.getByRole('table', { name: 'Parameters' })).queryByRole(
        'rowheader',
        { name: 'depth' }
      )
    ).toBeNull();
  });

  it('diffs the environments package by package', async () => {
    await renderCompare([a, b]);

    const packages = screen.getByRole('table', { name: 'Packages' });
    const changed = within(packages)
      .getAllByRole('row')
      .filter(row => row.dataset.change)
      .map(
        row => `${row.dataset.change}:${row.querySelector('th')?.textContent}`
      );
    expect(changed).toEqual(['changed:pandas', 'added:scipy', 'removed:torch']);
    expect(screen.getByText('3 of 4 packages differ')).toBeInTheDocument();

    fireEvent.click(
      screen.getByRole('checkbox', { name: 'Show all packages' })
    );
    expect(
      within(packages).getByRole('rowheader', { name: 'numpy' })
    ).toBeInTheDocument();
  });

  it('overlays the chosen metric of every run on one chart', async () => {
    await renderCompare([a, b]);

    const select = screen.getByRole('combobox', { name: 'Metric to chart' });
    fireEvent.change(select, { target: { value: 'loss' } });

    const chart = screen.getByRole('img', {
      name: 'loss of the compared runs'
    });
    // a logged loss at 5 steps (a line), b only a final value (a dot).
    expect(chart.querySelectorAll('path')).toHaveLength(1);
    expect(chart.querySelectorAll('circle')).toHaveLength(1);
    expect(
      screen.getByText('baseline', { selector: 'figcaption *' })
    ).toBeInTheDocument();
  });

  it('opens a run from its column', async () => {
    const { model } = await renderCompare([a, b]);

    fireEvent.click(screen.getAllByRole('button', { name: 'tuned' })[0]);

    expect(model.view).toEqual({ kind: 'run', runId: b.id });
  });

  it('shows hostile names and values as text', async () => {
    await renderCompare([
      makeDetail(1, { name: XSS, params: { [XSS]: XSS } }),
      makeDetail(2)
    ]);

    expect(document.querySelectorAll('img')).toHaveLength(0);
    expect(screen.getAllByText(XSS).length).toBeGreaterThan(2);
  });
});

describe('diff', () => {
  it('tells changed, added and removed packages apart', () => {
    const rows = diffEnvironments([
      parseRunDetail(withPackages(makeDetail(1), { a: '1', b: '1', c: '1' })),
      parseRunDetail(withPackages(makeDetail(2), { a: '1', b: '2', d: '1' })),
      parseRunDetail(makeDetail(3, { environment: null }))
    ]);

    expect(rows.map(row => [row.name, row.change])).toEqual([
      ['a', 'removed'],
      ['b', 'removed'],
      ['c', 'removed'],
      ['d', 'added']
    ]);
  });

  it('compares values of different types by their text', () => {
    const rows = compareParams([
      parseRunDetail(makeDetail(1, { params: { n: 1, s: 'x' } })),
      parseRunDetail(makeDetail(2, { params: { n: 1, s: 'y' } }))
    ]);

    expect(rows).toEqual([
      { key: 'n', values: ['1', '1'], differs: false },
      { key: 's', values: ['x', 'y'], differs: true }
    ]);
  });
});
