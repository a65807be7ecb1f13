import { JupyterFrontEnd } from '@jupyterlab/application';
import { Notification } from '@jupyterlab/apputils';
import {
  MimeModel,
  RenderMimeRegistry,
  standardRendererFactories
} from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { CommandRegistry } from '@lumino/commands';
import { Signal } from '@lumino/signaling';

import plugin from '../index';
import { NOT_ENABLED_MESSAGE } from '../handshake';
import { RUN_MIME_TYPE } from '../runSummary';
import { FRONTEND_VERSION } from '../version';

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
    const commands = new CommandRegistry();
    const rendermime = new RenderMimeRegistry({
      initialFactories: standardRendererFactories
    });
    const app = { commands } as unknown as JupyterFrontEnd;

    plugin.activate(app, null, null, rendermime);

    expect(log).toHaveBeenCalledWith('trackbook is activated');
    expect(commands.hasCommand('trackbook:open-run')).toBe(true);
    expect(rendermime.mimeTypes).toContain(RUN_MIME_TYPE);

    await new Promise(resolve => setTimeout(resolve, 0));
    expect(fetch).toHaveBeenCalledTimes(1);
    const request = fetch.mock.calls[0][0] as Request;
    expect(request.url).toMatch(/\/trackbook\/info(\?\d+)?$/);
    expect(Notification.manager.notifications.map(n => n.message)).toEqual([
      NOT_ENABLED_MESSAGE
    ]);
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
    const app = {
      commands: new CommandRegistry()
    } as unknown as JupyterFrontEnd;

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
