import { EditorLanguageRegistry } from '@jupyterlab/codemirror';
import {
  act,
  fireEvent,
  render,
  screen,
  waitFor,
  within
} from '@testing-library/react';
import * as React from 'react';

import { RunDetail } from '../components/RunDetail';
import { makeDetail, XSS } from './fixtures';
import { flush, setupModel } from './helpers';
import { BASE_URL, makeRun, RunsServer } from './runsServer';

async function renderDetail(
  detail: Record<string, unknown> & { id: string },
  extra: Partial<React.ComponentProps<typeof RunDetail>> = {}
): Promise<{ server: RunsServer; container: HTMLElement }> {
  const { server, model } = await setupModel([makeRun(0, { id: detail.id })]);
  server.details.set(detail.id, detail);
  const { container } = render(
    <RunDetail model={model} runId={detail.id} {...extra} />
  );
  await act(() => flush());
  return { server, container };
}

function section(title: string): HTMLElement {
  const summary = screen.getByText(title, {
    selector: '.jp-trackbook-Section-title'
  });
  return summary.closest('details') as HTMLElement;
}

describe('RunDetail', () => {
  it('shows every recorded facet as text', async () => {
    const detail = makeDetail(0);
    await renderDetail(detail);

    expect(screen.getByRole('heading', { name: 'run 0' })).toBeInTheDocument();
    expect(screen.getByText(detail.id)).toBeInTheDocument();
    expect(screen.getByText('ada@lab-1')).toBeInTheDocument();
    expect(screen.getByText('train.ipynb [7]')).toBeInTheDocument();
    expect(screen.getByText('team=a')).toBeInTheDocument();

    expect(screen.getByLabelText('Code')).toHaveTextContent(
      'model = fit(x, lr=0.01) print("done")',
      { normalizeWhitespace: true }
    );
    const params = within(section('Parameters'));
    expect(params.getByText('[64,32]')).toBeInTheDocument();
    expect(params.getByText('0.01')).toBeInTheDocument();
    const metrics = within(section('Metrics'));
    expect(metrics.getByText('0.25')).toBeInTheDocument();
    expect(metrics.getByText('nan')).toBeInTheDocument();
    expect(within(section('Seeds')).getAllByText('42')).toHaveLength(2);

    const inputs = within(section('Inputs'));
    expect(inputs.getByText('df')).toBeInTheDocument();
    expect(inputs.getByText('[100,3]')).toBeInTheDocument();
    expect(inputs.getByText('sha256:feedbeef')).toBeInTheDocument();
    expect(inputs.getByText('float64')).toBeInTheDocument();

    const environment = within(section('Environment'));
    expect(environment.getByText('3.12.1')).toBeInTheDocument();
    expect(environment.getByText('abc123')).toBeInTheDocument();
    expect(environment.getByText('pandas')).toBeInTheDocument();

    const warnings = section('Warnings');
    expect(warnings).toHaveClass('jp-trackbook-Warnings');
    expect(warnings).toHaveTextContent('hidden_state');
    expect(warnings).toHaveTextContent('x was defined by a deleted cell');

    const history = section('History');
    expect(history).not.toHaveAttribute('open');
    expect(history).toHaveTextContent('x = np.ones(3)');
  });

  it('shows figures from the artifact URL and links model files', async () => {
    const detail = makeDetail(0);
    await renderDetail(detail);

    const figure = screen.getByRole('img', { name: 'loss.png' });
    expect(figure).toHaveAttribute(
      'src',
      `${BASE_URL}trackbook/runs/run-000000/artifacts/${'f'.repeat(64)}`
    );
    const model = screen.getByRole('link', { name: 'model' });
    expect(model).toHaveAttribute(
      'href',
      `${BASE_URL}trackbook/runs/run-000000/artifacts/${'a'.repeat(64)}`
    );
    expect(model).toHaveAttribute('download', 'model');
    expect(section('Models')).toHaveTextContent('1 MB');
  });

  it('draws a chart for a metric logged at several steps', async () => {
    await renderDetail(makeDetail(0));

    const chart = screen.getByRole('img', { name: 'loss by step' });
    const path = chart.querySelector('path');
    expect(path).not.toBeNull();
    expect(path?.getAttribute('d')?.match(/[ML]/g)).toHaveLength(5);
    // accuracy was logged once: no chart.
    expect(screen.queryByRole('img', { name: 'accuracy by step' })).toBeNull();
  });

  it('shows the error with an ANSI-free traceback', async () => {
    await renderDetail(
      makeDetail(0, {
        status: 'failed',
        error: {
          ename: 'ValueError',
          evalue: 'bad value',
          traceback: [
            '\u001b[0;31m---------------------------------------\u001b[0m',
            '\u001b[0;31mValueError\u001b[0m: bad value'
          ]
        }
      })
    );

    const error = section('Error');
    expect(error).toHaveTextContent('ValueError: bad value');
    const traceback = screen.getByLabelText('Traceback');
    expect(traceback.tagName).toBe('PRE');
    expect(traceback.textContent).not.toContain('\u001b');
    expect(traceback.textContent).toContain('ValueError: bad value');
  });

  it('renders hostile strings as text, never as HTML', async () => {
    const detail = makeDetail(0, {
      name: XSS,
      tags: { [XSS]: XSS },
      params: { [XSS]: XSS },
      metrics: { [XSS]: 1 },
      code: XSS,
      notebook: XSS,
      user: XSS,
      warnings: [{ kind: XSS, message: XSS }],
      inputs: [
        {
          name: XSS,
          kind: XSS,
          fingerprint: XSS,
          shape: XSS,
          schema: { [XSS]: XSS },
          profile: null,
          path: XSS,
          size: 1
        }
      ],
      artifacts: [
        { id: 'b'.repeat(64), name: XSS, kind: 'model', media_type: XSS }
      ],
      error: { ename: XSS, evalue: XSS, traceback: [XSS] },
      history: [{ execution_count: 1, source: XSS, cell_id: XSS }],
      stdout: XSS,
      stderr: XSS,
      environment: null
    });
    const { container } = await renderDetail(detail);
    // Open every collapsed section, in case closed content renders lazily.
    container.querySelectorAll('details').forEach(details => {
      details.open = true;
    });

    expect(container.querySelectorAll('img')).toHaveLength(0);
    expect(container.querySelector('[onerror]')).toBeNull();
    expect(screen.getByRole('heading', { name: XSS })).toBeInTheDocument();
    expect(screen.getByText(`${XSS}=${XSS}`)).toBeInTheDocument();
    expect(screen.getByLabelText('Code')).toHaveTextContent(XSS);
    expect(screen.getByLabelText('Traceback')).toHaveTextContent(XSS);
    expect(
      screen.getAllByText(XSS, { exact: false }).length
    ).toBeGreaterThanOrEqual(10);
  });

  it('opens the cell the run came from', async () => {
    const openCell = jest.fn().mockResolvedValue('opened');
    await renderDetail(makeDetail(0), { openCell });

    fireEvent.click(screen.getByRole('button', { name: 'Open cell' }));
    await act(() => flush());

    expect(openCell).toHaveBeenCalledWith(
      'train.ipynb',
      'cell-1',
      'model = fit(x, lr=0.01)\nprint("done")'
    );
    expect(screen.queryByRole('alert')).toBeNull();
  });

  it('says so when the cell is gone', async () => {
    const openCell = jest.fn().mockResolvedValue('no-cell');
    await renderDetail(makeDetail(0), { openCell });

    fireEvent.click(screen.getByRole('button', { name: 'Open cell' }));
    await act(() => flush());

    expect(
      screen.getByText(/The cell was not found in the notebook/)
    ).toBeInTheDocument();
  });

  it('copies the run id', async () => {
    const copy = jest.fn();
    await renderDetail(makeDetail(0), { copy });

    fireEvent.click(screen.getByRole('button', { name: 'Copy id' }));

    expect(copy).toHaveBeenCalledWith('run-000000');
  });

  it('highlights the code with the language registry', async () => {
    const languages = new EditorLanguageRegistry();
    for (const language of EditorLanguageRegistry.getDefaultLanguages()) {
      languages.addLanguage(language);
    }
    const detail = makeDetail(0, { code: 'def f(x):\n    return x + 1' });
    await renderDetail(detail, { languages });

    const code = screen.getByLabelText('Code');
    await waitFor(() => expect(code.querySelector('span')).not.toBeNull());
    expect(code.textContent).toBe('def f(x):\n    return x + 1');
    const keyword = Array.from(code.querySelectorAll('span')).find(
      span => span.textContent === 'def'
    );
    expect(keyword?.className).toBeTruthy();
  });

  it('says when the run cannot be loaded', async () => {
    const { model } = await setupModel([]);
    render(<RunDetail model={model} runId="missing" />);
    await act(() => flush());

    expect(screen.getByRole('alert')).toHaveTextContent('no run missing');
  });

  it('fetches the run again when the list sees its status change', async () => {
    const running = makeDetail(0, { status: 'running', ended_at: null });
    const { server, model } = await setupModel([
      makeRun(0, { status: 'running' })
    ]);
    server.details.set(running.id, running);
    render(<RunDetail model={model} runId={running.id} />);
    await act(() => flush());
    expect(screen.getAllByText('running').length).toBeGreaterThan(0);

    server.runs[0] = { ...server.runs[0], status: 'finished' };
    server.details.set(running.id, { ...running, status: 'finished' });
    await act(() => model.poll());
    await act(() => flush());

    expect(screen.queryByText('running')).toBeNull();
    expect(screen.getByText('finished')).toBeInTheDocument();
  });
});
