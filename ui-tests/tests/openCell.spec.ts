/**
 * "Open cell" on a run opens its notebook (closed since) and makes the
 * tracked cell the active cell, scrolled into view.
 */
import { expect, test, uniqueName } from './helpers/TrackbookHelper';

/**
 * Markdown cells above the tracked one, so that it starts out of view.
 */
const FILLER_CELLS = 20;

test('"Open cell" jumps to the tracked cell in its notebook', async ({
  page,
  trackbook
}) => {
  const name = uniqueName('open-cell');
  const notebook = 'open-cell.ipynb';
  const filler = Array.from({ length: FILLER_CELLS }, (_, index) => ({
    type: 'markdown' as const,
    source: `## Notes ${index}\n\n${'Some context for the experiment.\n\n'.repeat(4)}`
  }));
  const trackedIndex = 1 + FILLER_CELLS;
  await trackbook.openNotebook(notebook, [
    { source: '%load_ext trackbook' },
    ...filler,
    { source: `%%track ${name}\nthreshold = 0.5\nhits = 3 * threshold` },
    { source: 'print("after the tracked cell")' }
  ]);
  await trackbook.runCell(0);
  const runId = await trackbook.runTrackedCell(trackedIndex);
  expect(await page.notebook.save()).toBe(true);
  expect(await page.notebook.close(false)).toBe(true);
  await expect(page.activity.getTabLocator(notebook)).toHaveCount(0);

  await trackbook.openSidebar();
  await trackbook.openRun(runId);
  await expect(
    trackbook.detail.locator('.jp-trackbook-RunHeader-notebook')
  ).toContainText(notebook);
  await trackbook.detail.getByRole('button', { name: 'Open cell' }).click();

  // The notebook is open and is the current document ...
  await expect(page.activity.getTabLocator(notebook)).toHaveClass(
    /lm-mod-current/
  );
  await expect
    .poll(() =>
      page.evaluate(() => {
        const app = (
          window as unknown as {
            jupyterapp: {
              shell: {
                currentWidget: {
                  context?: { path: string };
                  content?: { activeCellIndex?: number };
                } | null;
              };
            };
          }
        ).jupyterapp;
        const widget = app.shell.currentWidget;
        return {
          path: widget?.context?.path ?? null,
          activeCell: widget?.content?.activeCellIndex ?? null
        };
      })
    )
    .toEqual({
      path: `${trackbook.tmpPath}/${notebook}`,
      activeCell: trackedIndex
    });
  // ... and the tracked cell is the active one, in view.
  const active = page.locator(
    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell.jp-mod-active'
  );
  await expect(active).toHaveCount(1);
  await expect(active).toContainText(`%%track ${name}`);
  await expect(active).toBeInViewport();
  await expect(trackbook.detail.getByRole('alert')).toHaveCount(0);
  await expect(
    trackbook.detail.locator('.jp-trackbook-Message-warning')
  ).toHaveCount(0);
});
