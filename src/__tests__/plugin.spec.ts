import { ILayoutRestorer, JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import {
  MimeModel,
  RenderMimeRegistry,
  standardRendererFactories
} from '@jupyterlab/rendermime';
import { ServerConnection } from '@jupyterlab/services';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB, StateDB } from '@jupyterlab/statedb';
import { CommandRegistry } from '@lumino/commands';
import { Signal } from '@lumino/signaling';
import { Widget } from '@lumino/widgets';

import plugin from '../index';
import { NOT_ENABLED_MESSAGE } from '../handshake';
import { RUN_MIME_TYPE } from '../runSummary';
import { PANEL_STATE_KEY } from '../panelState';
import { TrackbookSidebar } from '../panel';
import { FRONTEND_VERSION } from '../version';
import { flush } from './helpers';
import { RunsServer } from './runsServer';

/**
 * The parts of the application the plugin uses.
 */
function fakeApp(
  serverSettings: ServerConnection.ISettings = ServerConnection.makeSettings()
) {
  const shell = { add: jest.fn(), activateById: jest.fn() };
  const app = {
    commands: new CommandRegistry(),
    shell,
    serviceManager: { serverSettings }
  } as unknown as JupyterFrontEnd;
  return { app, shell, commands: app.commands };
}

function addedSidebar(shell: { add: jest.Mock }): TrackbookSidebar {
  const [[sidebar, area, options]] = shell.add.mock.calls;
  expect(area).toBe('left');
  expect(options).toEqual({ rank: 600 });
  return sidebar as TrackbookSidebar;
}

describe('trackbook:plugin', () => {
  beforeEach(() => {
    Notification.dismiss();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('activates, registers its parts and checks the server', async () => {
    const fetch = jest
      .spyOn(globalThis, 'fetch')
      .mockResolvedValue(
        new Response(JSON.stringify({ message: 'Not Found' }), { status: 404 })
      );
    const log = jest.spyOn(console, 'log').mockImplementation(() => {});
    jest.spyOn(console, 'warn').mockImplementation(() => {});
    const { app, shell, commands } = fakeApp();
    const rendermime = new RenderMimeRegistry({
      initialFactories: standardRendererFactories
    });

    plugin.activate(app, null, null, rendermime);

    expect(log).toHaveBeenCalledWith('trackbook is activated');
    for (const command of [
      'trackbook:open',
      'trackbook:open-run',
      'trackbook:refresh',
      'trackbook:compare-selected'
    ]) {
      expect(commands.hasCommand(command)).toBe(true);
    }
    expect(rendermime.mimeTypes).toContain(RUN_MIME_TYPE);
    const sidebar = addedSidebar(shell);
    expect(sidebar.id).toBe('trackbook-sidebar');

    await new Promise(resolve => setTimeout(resolve, 0));
    expect(fetch).toHaveBeenCalledTimes(1);
    const request = fetch.mock.calls[0][0] as Request;
    expect(request.url).toMatch(/\/trackbook\/info(\?\d+)?$/);
    expect(Notification.manager.notifications.map(n => n.message)).toEqual([
      NOT_ENABLED_MESSAGE
    ]);
    // The sidebar shows the same message instead of a table.
    expect(sidebar.model.handshake).toEqual({
      status: 'not-enabled',
      message: NOT_ENABLED_MESSAGE
    });
    sidebar.dispose();
  });
});

describe('trackbook:plugin settings', () => {
  beforeEach(() => {
    Notification.dismiss();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('shows the metric columns of the settings first in run summaries', async () => {
    jest.spyOn(globalThis, 'fetch').mockResolvedValue(
      new Response(
        JSON.stringify({
          version: FRONTEND_VERSION,
          store: { kind: 'sqlite', url: 'sqlite:///x.db' },
          schema_revision: '0001'
        }),
        { status: 200 }
      )
    );
    jest.spyOn(console, 'log').mockImplementation(() => {});
    const changed = new Signal<unknown, void>({});
    const settingRegistry = {
      load: async () => ({
        composite: { metricColumns: ['loss'] },
        changed
      })
    } as unknown as ISettingRegistry;
    const rendermime = new RenderMimeRegistry({
      initialFactories: standardRendererFactories
    });
    const { app } = fakeApp();

    plugin.activate(app, settingRegistry, null, rendermime);
    await new Promise(resolve => setTimeout(resolve, 0));
    const renderer = rendermime.createRenderer(RUN_MIME_TYPE);
    await renderer.renderModel(
      new MimeModel({
        data: {
          [RUN_MIME_TYPE]: {
            id: '01J9Z3Q4N6ABC',
            status: 'finished',
            metrics: { accuracy: 0.9, loss: 0.1 }
          }
        }
      })
    );

    const metrics = Array.from(
      renderer.node.querySelectorAll('.jp-trackbook-RunSummary-metric')
    ).map(node => node.textContent);
    expect(metrics).toEqual(['loss=0.1', 'accuracy=0.9']);
    expect(Notification.manager.count).toBe(0);
  });
});

describe('trackbook:plugin sidebar', () => {
  beforeEach(() => {
    Notification.dismiss();
  });

  afterEach(() => {
    jest.restoreAllMocks();
  });

  it('restores the panel state, saves its changes and opens runs', async () => {
    jest.spyOn(console, 'log').mockImplementation(() => {});
    jest.spyOn(console, 'warn').mockImplementation(() => {});
    const server = new RunsServer();
    const { app, shell, commands } = fakeApp(server.settings);
    const stateDB = new StateDB();
    await stateDB.save(PANEL_STATE_KEY, {
      filters: { q: 'resnet', status: '', notebook: '', tag: '' },
      sort: '-metrics.loss',
      metricColumns: ['loss'],
      selected: ['a', 'b'],
      view: { kind: 'runs' }
    });
    const restorer = { add: jest.fn() } as unknown as ILayoutRestorer;

    plugin.activate(app, null, null, null, null, restorer, stateDB as IStateDB);
    await flush();
    const sidebar = addedSidebar(shell);
    const { model } = sidebar;

    expect(restorer.add).toHaveBeenCalledWith(sidebar, 'trackbook-sidebar');
    expect(model.filters.q).toBe('resnet');
    expect(model.sort).toBe('-metrics.loss');
    expect(model.selection).toEqual(['a', 'b']);
    expect(commands.isEnabled('trackbook:compare-selected')).toBe(true);

    await commands.execute('trackbook:open-run', { runId: 'run-1' });
    expect(model.view).toEqual({ kind: 'run', runId: 'run-1' });
    expect(shell.activateById).toHaveBeenCalledWith('trackbook-sidebar');
    await flush();
    expect(await stateDB.fetch(PANEL_STATE_KEY)).toMatchObject({
      view: { kind: 'run', runId: 'run-1' }
    });

    // The version handshake went to the same server (and failed there).
    Widget.attach(sidebar, document.body);
    await sidebar.loadContent();
    await flush();
    expect(sidebar.node.textContent).toContain('not enabled');
    Widget.detach(sidebar);
    sidebar.dispose();
  });
});
