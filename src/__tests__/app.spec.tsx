import { act, fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import { TrackbookApp } from '../components/App';
import { NOT_ENABLED_MESSAGE } from '../handshake';
import { makeDetail } from './fixtures';
import { flush, HANDSHAKE_OK, setupModel } from './helpers';
import { makeRuns } from './runsServer';

describe('TrackbookApp', () => {
  it('shows the handshake message instead of a table', async () => {
    const { model } = await setupModel([], {}, { load: false });
    const onRetry = jest.fn();
    render(<TrackbookApp model={model} onRetry={onRetry} />);
    expect(screen.getByRole('status')).toHaveTextContent(
      'Connecting to the trackbook server'
    );

    act(() =>
      model.setHandshake({
        status: 'not-enabled',
        message: NOT_ENABLED_MESSAGE
      })
    );

    expect(screen.getByRole('alert')).toHaveTextContent(NOT_ENABLED_MESSAGE);
    expect(screen.queryByRole('grid')).toBeNull();
    fireEvent.click(screen.getByRole('button', { name: 'Try again' }));
    expect(onRetry).toHaveBeenCalled();
  });

  it('warns about a version mismatch and still lists runs', async () => {
    const { model } = await setupModel(makeRuns(0, 2), {}, { load: false });
    render(<TrackbookApp model={model} />);

    act(() =>
      model.setHandshake({
        status: 'mismatch',
        info: HANDSHAKE_OK.status === 'ok' ? HANDSHAKE_OK.info : undefined!,
        message: 'versions differ: reinstall trackbook'
      })
    );
    await act(() => flush());

    expect(
      screen.getByText('versions differ: reinstall trackbook')
    ).toBeInTheDocument();
    expect(screen.getByRole('grid', { name: 'Runs' })).toBeInTheDocument();
    expect(screen.getByText('2 runs')).toBeInTheDocument();
  });

  it('says how to record a first run', async () => {
    const { model } = await setupModel([]);
    render(<TrackbookApp model={model} />);

    expect(
      screen.getByText(/Run a notebook cell that starts with %%track/)
    ).toBeInTheDocument();
  });

  it('compares the runs selected in the table', async () => {
    const { server, model } = await setupModel(makeRuns(0, 3));
    for (const index of [0, 1, 2]) {
      server.details.set(`run-00000${index}`, makeDetail(index));
    }
    render(<TrackbookApp model={model} />);
    const compare = screen.getByRole('button', { name: 'Compare (0)' });
    expect(compare).toBeDisabled();

    fireEvent.click(screen.getByRole('checkbox', { name: 'Select run run 0' }));
    fireEvent.click(screen.getByRole('checkbox', { name: 'Select run run 2' }));
    fireEvent.click(screen.getByRole('button', { name: 'Compare (2)' }));
    await act(() => flush());

    expect(screen.getByText('Comparing 2 runs')).toBeInTheDocument();
    expect(
      screen.getByRole('table', { name: 'Parameters' })
    ).toBeInTheDocument();

    fireEvent.click(screen.getByRole('button', { name: '← Runs' }));
    expect(screen.getByRole('grid', { name: 'Runs' })).toBeInTheDocument();
  });

  it('opens a run from the table and goes back', async () => {
    const { server, model } = await setupModel(makeRuns(0, 2));
    server.details.set('run-000001', makeDetail(1));
    render(<TrackbookApp model={model} />);

    fireEvent.click(screen.getByText('run 1'));
    await act(() => flush());

    expect(screen.getByRole('heading', { name: 'run 1' })).toBeInTheDocument();
    fireEvent.click(screen.getByRole('button', { name: '← Runs' }));
    expect(screen.getByRole('grid', { name: 'Runs' })).toBeInTheDocument();
  });

  it('switches to the models section', async () => {
    const { model } = await setupModel([]);
    render(<TrackbookApp model={model} />);

    fireEvent.click(screen.getByRole('button', { name: 'Models' }));
    await act(() => flush());

    expect(model.view).toEqual({ kind: 'models' });
    expect(
      screen.getByText('No model files recorded yet.')
    ).toBeInTheDocument();
  });

  it('shows the metric columns picked from the metric keys', async () => {
    const { model } = await setupModel(makeRuns(0, 2));
    render(<TrackbookApp model={model} />);

    fireEvent.click(screen.getByRole('button', { name: 'Columns (0)' }));
    fireEvent.click(screen.getByRole('checkbox', { name: 'accuracy' }));

    expect(model.metricColumns).toEqual(['accuracy']);
    expect(
      screen.getByRole('columnheader', { name: /accuracy/ })
    ).toBeInTheDocument();
    fireEvent.click(
      screen.getByRole('button', { name: 'Use the default columns' })
    );
    expect(model.metricColumns).toEqual([]);
  });
});
