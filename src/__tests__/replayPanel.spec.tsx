import {
  act,
  fireEvent,
  render,
  screen,
  waitFor,
  within
} from '@testing-library/react';
import * as React from 'react';

import { ReplayPanel } from '../components/ReplayPanel';
import { IReplay, RestReplaysClient } from '../replayApi';
import {
  createReportWidget,
  IReportShell,
  openReport,
  reportWidgetId
} from '../reportWidget';
import { XSS } from './fixtures';
import { flush } from './helpers';
import { makeReplay, ReplaysServer } from './replaysServer';
import { BASE_URL } from './runsServer';

const RUN = '01HZY5Q3J9C8V1W2X3Y4Z5A6B7';
const REPLAYED_RUN = '01HZY5Q3J9C8V1W2X3Y4Z5A6C9';

function setup(
  server = new ReplaysServer(),
  extra: Partial<React.ComponentProps<typeof ReplayPanel>> = {}
) {
  const openRun = jest.fn();
  const openReport = jest.fn();
  const client = new RestReplaysClient(server.settings);
  const view = render(
    <ReplayPanel
      client={client}
      runId={RUN}
      openRun={openRun}
      openReport={openReport}
      pollInterval={5}
      {...extra}
    />
  );
  return { server, openRun, openReport, view };
}

function verdict(): HTMLElement {
  return document.querySelector(
    '.jp-trackbook-ReplayView .jp-trackbook-Verdict'
  ) as HTMLElement;
}

describe('ReplayPanel', () => {
  it('starts a replay, shows its progress, then the verdict', async () => {
    const server = new ReplaysServer();
    server.nextStates = [
      { status: 'running', message: 'starting a python3 kernel' },
      { status: 'running', message: 'executing cell 2 of 3' },
      {
        status: 'done',
        verdict: 'reproduced',
        replay_run_id: REPLAYED_RUN,
        ended_at: '2024-05-01T12:00:09Z'
      }
    ];
    const { openRun, openReport } = setup(server);
    await act(() => flush());
    expect(screen.getByText('Not replayed yet.')).toBeInTheDocument();

    fireEvent.click(screen.getByRole('button', { name: 'Replay' }));

    expect(
      await screen.findByText('Waiting for a free replay slot…')
    ).toBeInTheDocument();
    expect(
      await screen.findByText('executing cell 2 of 3')
    ).toBeInTheDocument();
    expect(screen.getByRole('status')).toHaveTextContent(
      'executing cell 2 of 3'
    );
    await waitFor(() => expect(verdict()).toHaveTextContent('reproduced'));
    expect(verdict()).toHaveClass('jp-trackbook-Verdict-reproduced');
    expect(
      screen.getByText('No differences from the original run.')
    ).toBeInTheDocument();
    expect(screen.queryByRole('status')).toBeNull();

    const post = server.requests.find(r => r.method === 'POST');
    expect(post?.path).toBe(`trackbook/runs/${RUN}/replays`);
    expect(JSON.parse(post?.body ?? '')).toEqual({ mode: 'history' });

    fireEvent.click(screen.getByRole('button', { name: /Replayed run/ }));
    expect(openRun).toHaveBeenCalledWith(REPLAYED_RUN);
    fireEvent.click(screen.getByRole('button', { name: 'Open report' }));
    expect(openReport).toHaveBeenCalledWith(
      expect.objectContaining({ id: 'REPLAY00000000000000000001' })
    );

    // Done: nobody asks for it any more.
    const asked = server.gets('REPLAY00000000000000000001');
    await act(() => flush(20));
    expect(server.gets('REPLAY00000000000000000001')).toBe(asked);
  });

  it('replays the saved notebook when asked to', async () => {
    const { server } = setup();
    await act(() => flush());

    fireEvent.change(screen.getByRole('combobox', { name: 'Replay mode' }), {
      target: { value: 'notebook' }
    });
    fireEvent.click(screen.getByRole('button', { name: 'Replay' }));
    await act(() => flush());

    const post = server.requests.find(r => r.method === 'POST');
    expect(JSON.parse(post?.body ?? '')).toEqual({ mode: 'notebook' });
  });

  it("shows the server's reason when a replay cannot start", async () => {
    const server = new ReplaysServer();
    server.refuse = {
      status: 400,
      message: `run ${RUN} has no saved notebook to replay: use --mode history`
    };
    setup(server);
    await act(() => flush());

    fireEvent.click(screen.getByRole('button', { name: 'Replay' }));

    expect(await screen.findByRole('alert')).toHaveTextContent(
      'has no saved notebook to replay: use --mode history'
    );
    expect(screen.getByRole('button', { name: 'Replay' })).toBeEnabled();
    expect(screen.getByText('Not replayed yet.')).toBeInTheDocument();
  });

  it('renders differences and failures as text, never as HTML', async () => {
    const server = new ReplaysServer();
    server.replays.set('R1', [
      makeReplay('R1', RUN, {
        status: 'done',
        verdict: 'failed',
        differences: [
          {
            facet: 'metric',
            key: XSS,
            original: XSS,
            replayed: { [XSS]: [XSS] },
            cause: XSS,
            explanation: XSS
          }
        ],
        failure: { cell_index: 3, ename: XSS, evalue: XSS },
        message: XSS
      })
    ]);
    const { view } = setup(server);
    await act(() => flush());

    const table = screen.getByRole('table', { name: 'Differences' });
    expect(within(table).getByRole('rowheader')).toHaveTextContent(XSS);
    // key, original, cause and explanation
    expect(within(table).getAllByText(XSS)).toHaveLength(4);
    expect(
      within(table).getByText(JSON.stringify({ [XSS]: [XSS] }))
    ).toBeInTheDocument();
    expect(screen.getByRole('alert')).toHaveTextContent(
      `In cell 4 of the replayed notebook: ${XSS}: ${XSS}`
    );
    expect(verdict()).toHaveTextContent('failed');
    expect(view.container.querySelectorAll('img')).toHaveLength(0);
    expect(view.container.querySelector('[onerror]')).toBeNull();
  });

  it('lists earlier replays, newest first, and shows the one chosen', async () => {
    const server = new ReplaysServer();
    server.replays.set('R1', [
      makeReplay('R1', RUN, {
        status: 'done',
        verdict: 'differs',
        differences: [
          {
            facet: 'input',
            key: 'data.csv',
            original: 'sha256:aa',
            replayed: 'sha256:bb',
            cause: 'input_data_changed',
            explanation: 'The file data.csv changed.'
          }
        ]
      })
    ]);
    server.replays.set('R2', [
      makeReplay('R2', RUN, { status: 'done', verdict: 'reproduced' })
    ]);
    setup(server);
    await act(() => flush());

    const list = screen.getByRole('list', { name: 'Earlier replays' });
    const items = within(list).getAllByRole('button');
    expect(items.map(item => item.textContent)).toEqual([
      expect.stringContaining('reproduced'),
      expect.stringContaining('differs')
    ]);
    expect(verdict()).toHaveTextContent('reproduced');

    fireEvent.click(items[1]);

    expect(verdict()).toHaveTextContent('differs');
    expect(screen.getByText('input data changed')).toBeInTheDocument();
    expect(screen.getByText('The file data.csv changed.')).toBeInTheDocument();
    expect(items[1]).toHaveAttribute('aria-current', 'true');
  });

  it('follows a replay that was already running when the run was opened', async () => {
    const server = new ReplaysServer();
    server.replays.set('R1', [
      makeReplay('R1', RUN, { status: 'running', message: 'executing cell 1' }),
      makeReplay('R1', RUN, { status: 'running', message: 'executing cell 1' }),
      makeReplay('R1', RUN, { status: 'done', verdict: 'differs' })
    ]);
    const { view } = setup(server);

    await waitFor(() => expect(verdict()).toHaveTextContent('differs'));
    view.unmount();
  });
});

describe('RestReplaysClient', () => {
  it('builds the report URL under the trackbook namespace', () => {
    const client = new RestReplaysClient(new ReplaysServer().settings);
    expect(client.reportUrl('R1')).toBe(
      `${BASE_URL}trackbook/replays/R1/report`
    );
  });

  it('refuses an answer that is not a replay', async () => {
    const server = new ReplaysServer();
    server.replays.set('R1', [{ id: '' } as never]);
    const client = new RestReplaysClient(server.settings);
    await expect(client.getReplay('R1')).rejects.toThrow('unexpected replay');
  });
});

describe('report widget', () => {
  const replay = { id: 'R1', run_id: RUN } as IReplay;

  it('shows the report in a frame with every sandbox restriction', () => {
    const widget = createReportWidget({
      url: `${BASE_URL}trackbook/replays/R1/report`,
      runId: replay.run_id,
      replayId: replay.id
    });
    const frame = widget.content.node.querySelector('iframe');
    expect(frame).not.toBeNull();
    expect(frame?.getAttribute('sandbox')).toBe('');
    expect(frame?.getAttribute('src')).toBe(
      `${BASE_URL}trackbook/replays/R1/report`
    );
    expect(widget.id).toBe(reportWidgetId('R1'));
    expect(widget.title.label).toBe(`Audit ${RUN.slice(0, 10)}`);
    widget.dispose();
  });

  it('opens one tab per replay and shows it again when asked twice', () => {
    const shell: IReportShell = { add: jest.fn(), activateById: jest.fn() };
    const options = {
      url: 'report',
      runId: replay.run_id,
      replayId: 'R2'
    };
    const first = openReport(shell, options);
    const second = openReport(shell, options);

    expect(second).toBe(first);
    expect(shell.add).toHaveBeenCalledTimes(1);
    expect(shell.activateById).toHaveBeenLastCalledWith(reportWidgetId('R2'));
    first.dispose();
    expect(openReport(shell, options)).not.toBe(first);
  });
});
