import {
  ILayoutRestorer,
  JupyterFrontEnd,
  JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { Clipboard, ICommandPalette } from '@jupyterlab/apputils';
import { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import { PageConfig } from '@jupyterlab/coreutils';
import { IDocumentManager } from '@jupyterlab/docmanager';
import { INotebookTracker } from '@jupyterlab/notebook';
import { IRenderMimeRegistry } from '@jupyterlab/rendermime';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { IStateDB } from '@jupyterlab/statedb';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { ReadonlyPartialJSONObject } from '@lumino/coreutils';

import { getInfo } from './api';
import { CommandIDs, registerCommands } from './commands';
// Both are needed during activation: the handshake starts at once and the
// renderer factory must be registered before notebooks are restored.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { checkServer, reportHandshake } from './handshake';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { createRunSummaryFactory } from './renderer';
// The model, its client and the (empty) sidebar are needed at activation:
// commands and run summaries use the model, and the sidebar's icon must be
// there from the start. The sidebar's React views load on first show.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { RunsModel } from './model';
import { openCell } from './openCell';
import { PANEL_STATE_KEY } from './panelState';
// The sidebar's options hold the replay client from the start; it is a thin
// wrapper over the request helper the runs client loads anyway.
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { RestReplaysClient } from './replayApi';
import { openReport } from './reportWidget';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { SIDEBAR_ID, TrackbookSidebar } from './panel';
// eslint-disable-next-line jupyter/prefer-lazy-imports
import { RestRunsClient } from './runsApi';
import { DEFAULT_SETTINGS, readSettings } from './settings';
import { FRONTEND_VERSION } from './version';

/**
 * Id of the main plugin; also the id of its settings (schema/plugin.json).
 */
export const PLUGIN_ID = 'trackbook:plugin';

/**
 * Rank of the sidebar among the left panels (file browser 100, running 200,
 * table of contents 400, extension manager 1000).
 */
const SIDEBAR_RANK = 600;

/**
 * The trackbook main plugin: checks the server extension, adds the runs
 * sidebar and its commands, and renders the run summaries tracked cells
 * display.
 */
const plugin: JupyterFrontEndPlugin<void> = {
  id: PLUGIN_ID,
  description: 'Auditable, replayable notebook experiments for JupyterLab',
  autoStart: true,
  optional: [
    ISettingRegistry,
    ICommandPalette,
    IRenderMimeRegistry,
    ITranslator,
    ILayoutRestorer,
    IStateDB,
    IDocumentManager,
    INotebookTracker,
    IEditorLanguageRegistry
  ],
  activate: (
    app: JupyterFrontEnd,
    settingRegistry: ISettingRegistry | null,
    palette: ICommandPalette | null,
    rendermime: IRenderMimeRegistry | null,
    translator: ITranslator | null,
    restorer: ILayoutRestorer | null,
    stateDB: IStateDB | null,
    docManager: IDocumentManager | null,
    notebooks: INotebookTracker | null,
    languages: IEditorLanguageRegistry | null
  ) => {
    console.log('trackbook is activated');
    const trans = (translator ?? nullTranslator).load('trackbook');

    const serverSettings = app.serviceManager.serverSettings;
    const model = new RunsModel({
      client: new RestRunsClient(serverSettings),
      settings: { ...DEFAULT_SETTINGS }
    });
    const handshake = () =>
      checkServer(FRONTEND_VERSION, () => getInfo(serverSettings)).then(
        result => {
          model.setHandshake(result);
          return result;
        }
      );

    const replaysClient = new RestReplaysClient(serverSettings);
    const sidebar = new TrackbookSidebar({
      model,
      trans,
      onRetry: () => void handshake(),
      copy: text => Clipboard.copyToSystem(text),
      languages,
      replays: {
        client: replaysClient,
        openReport: replay =>
          openReport(app.shell, {
            url: replaysClient.reportUrl(replay.id),
            runId: replay.run_id,
            replayId: replay.id,
            trans
          })
      },
      openCell: (path, cellId, source) =>
        openCell(
          {
            open: docPath =>
              docManager
                ? docManager.openOrReveal(docPath)
                : app.commands.execute('docmanager:open', { path: docPath }),
            tracker: notebooks,
            serverRoot: PageConfig.getOption('serverRoot')
          },
          path,
          cellId,
          source
        )
    });
    app.shell.add(sidebar, 'left', { rank: SIDEBAR_RANK });
    restorer?.add(sidebar, SIDEBAR_ID);

    registerCommands(app.commands, trans, {
      showSidebar: () => app.shell.activateById(SIDEBAR_ID),
      openRun: runId => model.openRun(runId),
      refresh: () => model.refresh(),
      compareSelected: () => {
        model.compareSelected();
      },
      selectionSize: () => model.selection.length
    });
    model.selectionChanged.connect(() => {
      app.commands.notifyCommandChanged(CommandIDs.compareSelected);
    }, sidebar);
    const category = trans.__('trackbook');
    for (const command of [
      CommandIDs.open,
      CommandIDs.openRun,
      CommandIDs.refresh,
      CommandIDs.compareSelected
    ]) {
      palette?.addItem({ command, category });
    }

    // Registered during activation, before the layout is restored, so that
    // notebooks reopened at startup already know the MIME type.
    rendermime?.addFactory(
      createRunSummaryFactory({
        openRun: runId => app.commands.execute(CommandIDs.openRun, { runId }),
        preferredMetrics: () => model.settings.metricColumns,
        runShown: (runId, status) => model.noticeRun(runId, status)
      })
    );

    if (settingRegistry) {
      settingRegistry
        .load(PLUGIN_ID)
        .then(loaded => {
          const update = () => {
            model.settings = readSettings(loaded.composite);
          };
          update();
          loaded.changed.connect(update, sidebar);
        })
        .catch(reason => {
          console.error('trackbook: failed to load settings', reason);
        });
    }

    if (stateDB) {
      stateDB
        .fetch(PANEL_STATE_KEY)
        .then(saved => {
          if (saved !== undefined) {
            model.restoreState(saved);
          }
          model.stateChanged.connect((_, state) => {
            void stateDB.save(
              PANEL_STATE_KEY,
              state as unknown as ReadonlyPartialJSONObject
            );
          }, sidebar);
        })
        .catch(reason => {
          console.error('trackbook: failed to restore the panel state', reason);
        });
    }

    void handshake().then(reportHandshake);
  }
};

export default plugin;
