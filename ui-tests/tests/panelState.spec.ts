/**
 * The sidebar's filters survive a page reload (they are kept in
 * JupyterLab's state database, saved with the workspace).
 */
import { expect, test, uniqueName } from './helpers/TrackbookHelper';

test('the filter text and status survive a page reload', async ({
  page,
  trackbook
}) => {
  // Text no run matches, so the list itself shows the filter applies.
  const text = uniqueName('no-such-run');
  await trackbook.openSidebar();

  const saved = page.waitForRequest(
    request =>
      request.method() === 'PUT' &&
      /\/lab\/api\/workspaces/.test(request.url()) &&
      (request.postData() ?? '').includes(text) &&
      (request.postData() ?? '').includes('"failed"')
  );
  await trackbook.filterText.fill(text);
  await trackbook.sidebar
    .getByRole('combobox', { name: 'Status' })
    .selectOption('failed');
  await expect(
    trackbook.sidebar.getByText('No runs match the filters.')
  ).toBeVisible({ timeout: 10_000 });
  await saved;

  await page.reload();
  await page.waitForSelector('#jupyterlab-splash', { state: 'detached' });
  await trackbook.openSidebar();
  await expect(trackbook.filterText).toHaveValue(text);
  await expect(
    trackbook.sidebar.getByRole('combobox', { name: 'Status' })
  ).toHaveValue('failed');
  await expect(
    trackbook.sidebar.getByText('No runs match the filters.')
  ).toBeVisible({ timeout: 10_000 });
  await expect(trackbook.rows).toHaveCount(0);
  await expect(
    trackbook.sidebar.locator('.jp-trackbook-RunsView-count')
  ).toHaveText('0 runs');
});
