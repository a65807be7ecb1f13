import { Notification } from '@jupyterlab/apputils';
import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';

import { CommandIDs, registerCommands } from '../commands';

describe('trackbook:open-run', () => {
  beforeEach(() => {
    Notification.dismiss();
  });

  it('tells how to see the run in full', async () => {
    const commands = new CommandRegistry();
    registerCommands(commands, nullTranslator.load('trackbook'));

    await commands.execute(CommandIDs.openRun, { runId: '01J9Z3Q4N6ABC' });

    expect(Notification.manager.count).toBe(1);
    const [shown] = Notification.manager.notifications;
    expect(shown.type).toBe('info');
    expect(shown.message).toContain('trackbook show 01J9Z3Q4N6ABC');
    expect(shown.options.actions?.map(action => action.label)).toEqual([
      'Copy command'
    ]);
  });

  it('has a label for the command palette', () => {
    const commands = new CommandRegistry();
    registerCommands(commands, nullTranslator.load('trackbook'));

    expect(commands.label(CommandIDs.openRun)).toBe('Open trackbook Run…');
  });
});
