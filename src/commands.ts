/**
 * trackbook's JupyterLab commands.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { InputDialog } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

/**
 * Command ids.
 */
export namespace CommandIDs {
  /**
   * Show the trackbook sidebar.
   */
  export const open = 'trackbook:open';
  /**
   * Open a run in the sidebar; args `{runId: string}`, asked for when missing.
   */
  export const openRun = 'trackbook:open-run';
  /**
   * Load the runs list again.
   */
  export const refresh = 'trackbook:refresh';
  /**
   * Compare the runs selected in the sidebar.
   */
  export const compareSelected = 'trackbook:compare-selected';
}

/**
 * What the commands do; the plugin wires them to the sidebar.
 */
export interface ICommandHandlers {
  /**
   * Show (activate) the sidebar.
   */
  showSidebar(): void;
  /**
   * Show one run in the sidebar's detail view.
   */
  openRun(runId: string): void;
  /**
   * Load the runs list again.
   */
  refresh(): Promise<void> | void;
  /**
   * Open the comparison of the selected runs.
   */
  compareSelected(): void;
  /**
   * How many runs are selected.
   */
  selectionSize(): number;
}

/**
 * Register trackbook's commands.
 *
 * @param commands - The application's command registry.
 * @param trans - Translations of the `trackbook` domain.
 * @param handlers - What the commands do.
 */
export function registerCommands(
  commands: JupyterFrontEnd['commands'],
  trans: TranslationBundle,
  handlers: ICommandHandlers
): void {
  commands.addCommand(CommandIDs.open, {
    label: trans.__('Open trackbook'),
    caption: trans.__('Show the trackbook runs sidebar'),
    describedBy: { args: { type: 'object', properties: {} } },
    execute: () => handlers.showSidebar()
  });

  commands.addCommand(CommandIDs.openRun, {
    label: args =>
      typeof args.runId === 'string'
        ? trans.__('Open trackbook Run %1', args.runId)
        : trans.__('Open trackbook Run…'),
    caption: trans.__('Show a tracked run by its id'),
    describedBy: {
      args: {
        type: 'object',
        properties: {
          runId: { type: 'string', description: 'Id of the run to open' }
        }
      }
    },
    execute: async args => {
      let runId = typeof args.runId === 'string' ? args.runId.trim() : '';
      if (!runId) {
        const answer = await InputDialog.getText({
          title: trans.__('Open trackbook Run'),
          label: trans.__('Run id'),
          placeholder: trans.__('e.g. 01J9Z3Q4N6…')
        });
        runId = answer.button.accept ? (answer.value ?? '').trim() : '';
      }
      if (!runId) {
        return;
      }
      handlers.openRun(runId);
      handlers.showSidebar();
    }
  });

  commands.addCommand(CommandIDs.refresh, {
    label: trans.__('Refresh trackbook Runs'),
    caption: trans.__('Load the runs list again'),
    describedBy: { args: { type: 'object', properties: {} } },
    execute: () => handlers.refresh()
  });

  commands.addCommand(CommandIDs.compareSelected, {
    label: () =>
      trans.__(
        'Compare Selected trackbook Runs (%1)',
        handlers.selectionSize()
      ),
    caption: trans.__('Compare the runs selected in the trackbook sidebar'),
    describedBy: { args: { type: 'object', properties: {} } },
    isEnabled: () => handlers.selectionSize() >= 2,
    execute: () => {
      handlers.compareSelected();
      handlers.showSidebar();
    }
  });
}
