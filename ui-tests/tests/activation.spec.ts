import { expect, test } from '@jupyterlab/galata';

/**
 * The labextension activates, and a tracked cell shows its run summary,
 * rendered by trackbook's MIME renderer as text.
 */
test.use({ autoGoto: false });

test('activates and renders the summary of a tracked cell', async ({
  page
}) => {
  const logs: string[] = [];
  page.on('console', message => logs.push(message.text()));
  await page.goto();
  await expect
    .poll(() => logs.some(line => line.includes('trackbook is activated')))
    .toBe(true);

  await page.notebook.createNew('tracked.ipynb');
  await page.notebook.setCell(0, 'code', '%load_ext trackbook');
  await page.notebook.addCell(
    'code',
    '%%track "<img src=x onerror=alert(1)>"\nscore = 0.25 * 2'
  );
  let dialogs = 0;
  page.on('dialog', async dialog => {
    dialogs += 1;
    await dialog.dismiss();
  });
  await page.notebook.runCell(0, true);
  await page.notebook.runCell(1, true);

  const summary = page.locator('.jp-trackbook-RunSummary');
  await expect(summary).toBeVisible({ timeout: 30000 });
  await expect(summary).toContainText('finished');
  await expect(summary).toContainText('score');
  await expect(summary).toContainText('<img src=x onerror=alert(1)>');
  expect(await summary.locator('img').count()).toBe(0);
  expect(dialogs).toBe(0);
  await summary.screenshot({ path: test.info().outputPath('run-summary.png') });
});
