import { act, fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import { ModelsView, ModelVersions } from '../components/ModelsView';
import { XSS } from './fixtures';
import { flush, setupModel } from './helpers';
import { BASE_URL } from './runsServer';

describe('ModelsView', () => {
  it('lists models and opens one', async () => {
    const { server, model } = await setupModel([]);
    server.models = {
      models: [
        {
          name: 'classifier',
          versions: 2,
          latest: {
            run_id: 'r2',
            run_name: 'tuned',
            artifact_id: 'a2',
            size: 2048,
            recorded_at: '2024-01-02T00:00:00Z'
          }
        },
        { name: XSS, versions: 1, latest: null }
      ]
    };
    render(<ModelsView model={model} />);
    await act(() => flush());

    expect(screen.getByText(/2 versions/)).toHaveTextContent('2 KB');
    expect(screen.getByRole('button', { name: XSS })).toBeInTheDocument();
    expect(document.querySelectorAll('img')).toHaveLength(0);

    fireEvent.click(screen.getByRole('button', { name: 'classifier' }));
    expect(model.view).toEqual({ kind: 'model', name: 'classifier' });
  });

  it('says when no model was recorded', async () => {
    const { model } = await setupModel([]);
    render(<ModelsView model={model} />);
    await act(() => flush());

    expect(
      screen.getByText('No model files recorded yet.')
    ).toBeInTheDocument();
  });
});

describe('ModelVersions', () => {
  it('links each version to its run and its file', async () => {
    const { server, model } = await setupModel([]);
    server.modelDetails.set('classifier', {
      name: 'classifier',
      versions: [
        {
          version: 1,
          run_id: 'r1',
          run_name: 'baseline',
          artifact_id: 'a1',
          size: 1024,
          recorded_at: '2024-01-01T00:00:00Z',
          run_status: 'finished'
        },
        {
          version: 2,
          run_id: 'r2',
          run_name: null,
          artifact_id: 'a2',
          size: 2048,
          recorded_at: '2024-01-02T00:00:00Z',
          run_status: 'failed'
        }
      ]
    });
    render(<ModelVersions model={model} name="classifier" />);
    await act(() => flush());

    const downloads = screen.getAllByRole('link', { name: 'Download' });
    expect(downloads[1]).toHaveAttribute(
      'href',
      `${BASE_URL}trackbook/runs/r2/artifacts/a2`
    );
    fireEvent.click(screen.getByRole('button', { name: 'baseline' }));
    expect(model.view).toEqual({ kind: 'run', runId: 'r1' });

    fireEvent.click(screen.getByRole('button', { name: /Models/ }));
    expect(model.view).toEqual({ kind: 'models' });
  });
});
