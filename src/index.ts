import {
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';

import { CommandIDs, registerCommands } from './commands';
// Both are needed during activation: the handshake starts at once and the
// renderer factory must be registered before notebooks are restored.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { checkServer, reportHandshake } from './handshake';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { createRunSummaryFactory } from './renderer';
import { DEFAULT_SETTINGS, ITrackbookSettings, readSettings } from './settings';
import { FRONTEND_VERSION } from './version';

/**
 * Id of the main plugin; also the id of its settings (schema/plugin.json).
 */
export const PLUGIN_ID = 'trackbook:plugin';

/**
 * The trackbook main plugin: checks the server extension, registers the
 * commands and renders the run summaries tracked cells display.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Auditable, replayable notebook experiments for JupyterLab',
  autoStart: true,
  optional: [
    ISettingRegistry,
    ICommandPalette,
    IRenderMimeRegistry,
    ITranslator
  ],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    rendermime: IRenderMimeRegistry | null,
    translator: ITranslator | null
  ) => {
    console.log('trackbook is activated');
    const trans = (translator ?? nullTranslator).load('trackbook');

    let settings: ITrackbookSettings = { ...DEFAULT_SETTINGS };

    registerCommands(app.commands, trans);
    palette?.addItem({
      command: CommandIDs.openRun,
      category: trans.__('trackbook')
    });

    // Registered during activation, before the layout is restored, so that
    // notebooks reopened at startup already know the MIME type.
    rendermime?.addFactory(
      createRunSummaryFactory({
        openRun: runId => app.commands.execute(CommandIDs.openRun, { runId }),
        preferredMetrics: () => settings.metricColumns
      })
    );

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(loaded => {
          const update = () => {
            settings = readSettings(loaded.composite);
          };
          update();
          loaded.changed.connect(update);
        })
        .catch(reason => {
          console.error('trackbook: failed to load settings', reason);
        });
    }

    void checkServer(FRONTEND_VERSION).then(reportHandshake);
  }
};

export default plugin;
