import { nullTranslator } from '@jupyterlab/translation';
import { CommandRegistry } from '@lumino/commands';

import { CommandIDs, ICommandHandlers, registerCommands } from '../commands';

function setup(selected = 0) {
  const commands = new CommandRegistry();
  const handlers: jest.Mocked<ICommandHandlers> = {
    showSidebar: jest.fn(),
    openRun: jest.fn(),
    refresh: jest.fn(),
    compareSelected: jest.fn(),
    selectionSize: jest.fn(() => selected)
  };
  registerCommands(commands, nullTranslator.load('trackbook'), handlers);
  return { commands, handlers };
}

describe('trackbook commands', () => {
  it('opens a run in the sidebar', async () => {
    const { commands, handlers } = setup();

    await commands.execute(CommandIDs.openRun, { runId: ' 01J9Z3Q4N6ABC ' });

    expect(handlers.openRun).toHaveBeenCalledWith('01J9Z3Q4N6ABC');
    expect(handlers.showSidebar).toHaveBeenCalled();
  });

  it('shows the sidebar and refreshes it', async () => {
    const { commands, handlers } = setup();

    await commands.execute(CommandIDs.open);
    await commands.execute(CommandIDs.refresh);

    expect(handlers.showSidebar).toHaveBeenCalledTimes(1);
    expect(handlers.refresh).toHaveBeenCalledTimes(1);
  });

  it('compares only with two or more runs selected', async () => {
    expect(setup(1).commands.isEnabled(CommandIDs.compareSelected)).toBe(false);
    const { commands, handlers } = setup(3);
    expect(commands.isEnabled(CommandIDs.compareSelected)).toBe(true);
    expect(commands.label(CommandIDs.compareSelected)).toBe(
      'Compare Selected trackbook Runs (3)'
    );

    await commands.execute(CommandIDs.compareSelected);

    expect(handlers.compareSelected).toHaveBeenCalled();
    expect(handlers.showSidebar).toHaveBeenCalled();
  });

  it('has labels for the command palette', () => {
    const { commands } = setup();

    expect(commands.label(CommandIDs.openRun)).toBe('Open trackbook Run…');
    expect(commands.label(CommandIDs.open)).toBe('Open trackbook');
    expect(commands.label(CommandIDs.refresh)).toBe('Refresh trackbook Runs');
  });
});
