import { findCell, openCell, serverRelativePath } from '../openCell';

function fakeNotebook(path: string, cellIds: string[]) {
  const notebook = {
    widgets: cellIds.map(id => ({
      model: { id, sharedModel: { getSource: () => `source of ${id}` } }
    })),
    activeCellIndex: 0,
    scrollToItem: jest.fn().mockResolvedValue(undefined)
  };
  return {
    notebook,
    panel: { content: notebook, context: { ready: Promise.resolve(), path } }
  };
}

describe('openCell', () => {
  it('activates the cell with the run cell id and scrolls to it', async () => {
    const { notebook, panel } = fakeNotebook('work/train.ipynb', [
      'a',
      'b',
      'c'
    ]);
    const open = jest.fn().mockReturnValue(panel);

    const result = await openCell({ open }, 'work/train.ipynb', 'c');

    expect(result).toBe('opened');
    expect(open).toHaveBeenCalledWith('work/train.ipynb');
    expect(notebook.activeCellIndex).toBe(2);
    expect(notebook.scrollToItem).toHaveBeenCalledWith(2, 'center');
  });

  it('finds the cell by its code when the run has no cell id', async () => {
    const { notebook, panel } = fakeNotebook('nb.ipynb', ['x', 'y', 'z']);

    const result = await openCell(
      { open: () => panel },
      'nb.ipynb',
      null,
      '  source of y\n'
    );

    expect(result).toBe('opened');
    expect(notebook.activeCellIndex).toBe(1);
  });

  it('finds a %%track cell by its body', () => {
    const cells = ['a = 1', '%%track fit --seed 1\nmodel = fit()\n'].map(
      (source, index) => ({
        model: { id: `c${index}`, sharedModel: { getSource: () => source } }
      })
    );

    expect(findCell(cells, null, 'model = fit()')).toBe(1);
    expect(findCell(cells, 'c0', 'model = fit()')).toBe(0);
    expect(findCell(cells, 'gone', 'a = 1')).toBe(0);
    expect(findCell(cells, null, '')).toBe(-1);
  });

  it('finds the notebook with the tracker when opening returns nothing', async () => {
    const { notebook, panel } = fakeNotebook('nb.ipynb', ['x', 'y']);
    const tracker = {
      find: jest.fn((test: (widget: never) => boolean) =>
        test(panel as never) ? (panel as never) : undefined
      )
    };

    const result = await openCell(
      { open: async () => undefined, tracker },
      'nb.ipynb',
      'y'
    );

    expect(result).toBe('opened');
    expect(notebook.activeCellIndex).toBe(1);
  });

  it('tells when the cell is gone or the document is no notebook', async () => {
    const { notebook, panel } = fakeNotebook('nb.ipynb', ['x']);

    expect(await openCell({ open: () => panel }, 'nb.ipynb', 'gone')).toBe(
      'no-cell'
    );
    expect(notebook.scrollToItem).not.toHaveBeenCalled();
    expect(await openCell({ open: () => panel }, 'nb.ipynb', null)).toBe(
      'no-cell'
    );
    expect(
      await openCell({ open: () => panel }, 'nb.ipynb', null, 'other code')
    ).toBe('no-cell');
    expect(
      await openCell({ open: () => ({ content: {} }) }, 'a.txt', 'x')
    ).toBe('no-notebook');
  });
});

describe('serverRelativePath', () => {
  it('turns an absolute notebook path into a contents path', () => {
    expect(serverRelativePath('/srv/lab/work/nb.ipynb', '/srv/lab')).toBe(
      'work/nb.ipynb'
    );
    expect(serverRelativePath('/srv/lab/nb.ipynb', '/srv/lab/')).toBe(
      'nb.ipynb'
    );
    expect(serverRelativePath('/home/ada/proj/nb.ipynb', '~/proj')).toBe(
      'nb.ipynb'
    );
    expect(serverRelativePath('/home/ada/nb.ipynb', '~')).toBe('nb.ipynb');
    expect(
      serverRelativePath('C:\\Users\\ada\\nb.ipynb', 'C:\\Users\\ada')
    ).toBe('nb.ipynb');
    expect(serverRelativePath('work/nb.ipynb', '/srv/lab')).toBe(
      'work/nb.ipynb'
    );
  });

  it('refuses a notebook outside the root', () => {
    expect(serverRelativePath('/srv/labx/nb.ipynb', '/srv/lab')).toBeNull();
    expect(serverRelativePath('/etc/nb.ipynb', '~/proj')).toBeNull();
    expect(serverRelativePath('/srv/nb.ipynb', '')).toBeNull();
  });

  it('opens nothing for a notebook outside the root', async () => {
    const open = jest.fn();

    const result = await openCell(
      { open, serverRoot: '/srv/lab' },
      '/elsewhere/nb.ipynb',
      'x'
    );

    expect(result).toBe('outside-root');
    expect(open).not.toHaveBeenCalled();
  });
});
