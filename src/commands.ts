/**
 * trackbook's JupyterLab commands.
 */
import { JupyterFrontEnd } from '@jupyterlab/application';
import { Clipboard, InputDialog, Notification } from '@jupyterlab/apputils';
import { TranslationBundle } from '@jupyterlab/translation';

/**
 * Command ids.
 */
export namespace CommandIDs {
  /**
   * Open a run; args `{runId: string}`, asked for when missing.
   */
  export const openRun = 'trackbook:open-run';
}

/**
 * The shell command that prints a run in full.
 *
 * @param runId - Id of the run.
 */
export function showRunCommand(runId: string): string {
  return `trackbook show ${runId}`;
}

/**
 * Register the `trackbook:open-run` command.
 *
 * Until the sidebar exists, opening a run tells the user the run id and the
 * CLI command that shows it, with a button that copies the command.
 *
 * @param commands - The application's command registry.
 * @param trans - Translations of the `trackbook` domain.
 */
export function registerCommands(
  commands: JupyterFrontEnd['commands'],
  trans: TranslationBundle
): void {
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
      const command = showRunCommand(runId);
      Notification.info(
        trans.__(
          'trackbook run %1. To see it in full, run: %2',
          runId,
          command
        ),
        {
          autoClose: 10000,
          actions: [
            {
              label: trans.__('Copy command'),
              caption: command,
              callback: () => Clipboard.copyToSystem(command)
            }
          ]
        }
      );
    }
  });
}
