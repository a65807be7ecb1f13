/**
 * The run summary under a tracked cell links to the run: one click opens
 * the sidebar on that run's detail.
 */
import {
  expect,
  test,
  uniqueName,
  SIDEBAR_ID
} from './helpers/TrackbookHelper';

test('the run summary under a tracked cell opens the run in the sidebar', async ({
  page,
  trackbook
}) => {
  const name = uniqueName('summary-link');
  await trackbook.openNotebook('summary-link.ipynb', [
    { source: '%load_ext trackbook' },
    { source: `%%track ${name}\nalpha = 0.3\nloss = 1 - alpha` }
  ]);
  await trackbook.runCell(0);
  const runId = await trackbook.runTrackedCell(1);
  // The sidebar is closed: the link has to open it.
  expect(await page.sidebar.isTabOpen(SIDEBAR_ID)).toBe(false);

  const summary = trackbook.summary(1);
  await expect(summary).toContainText(name);
  await expect(summary).toContainText('loss=0.7');
  await summary.getByRole('button', { name: 'Open in trackbook' }).click();

  await expect.poll(() => page.sidebar.isTabOpen(SIDEBAR_ID)).toBe(true);
  await expect(
    trackbook.detail.locator('.jp-trackbook-RunHeader-id')
  ).toHaveText(runId, { timeout: 10_000 });
  await expect(trackbook.detail.getByRole('heading', { level: 2 })).toHaveText(
    name
  );
  const metrics = trackbook.detail.getByRole('table', { name: 'Metrics' });
  await expect(trackbook.tableRow(metrics, 'loss').locator('td')).toHaveText(
    '0.7'
  );
});
