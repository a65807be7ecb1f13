/**
 * Run names, tags and parameters come from notebooks anyone may have
 * written: the sidebar shows them as text, never as HTML.
 */
import { expect, test } from './helpers/TrackbookHelper';

const PAYLOAD = '<img src=x onerror=alert(1)>';

test('HTML in a run name, tag and parameter shows as literal text', async ({
  page,
  trackbook
}) => {
  const dialogs: string[] = [];
  page.on('dialog', dialog => {
    dialogs.push(`${dialog.type()}: ${dialog.message()}`);
    void dialog.dismiss();
  });

  await trackbook.openNotebook('untrusted.ipynb', [
    { source: '%load_ext trackbook\nimport trackbook' },
    {
      // The magic splits its line like a shell: quotes keep the payload whole.
      source: [
        `%%track "${PAYLOAD}" --tag "k=${PAYLOAD}"`,
        `label = "${PAYLOAD}"`,
        `trackbook.log_param("note", "${PAYLOAD}")`,
        'score = 0.5'
      ].join('\n')
    }
  ]);
  await trackbook.runCell(0);
  const runId = await trackbook.runTrackedCell(1);
  await trackbook.openSidebar();

  // The list: the name cell holds the payload as text.
  const row = trackbook.row(runId);
  await expect(row).toBeVisible({ timeout: 10_000 });
  await expect(row.locator('.jp-trackbook-RunsTable-name')).toHaveText(PAYLOAD);

  // The detail: name, tag and both parameters as text.
  await trackbook.openRun(runId);
  const detail = trackbook.detail;
  await expect(detail.getByRole('heading', { level: 2 })).toHaveText(PAYLOAD);
  await expect(
    detail.getByRole('list', { name: 'Tags' }).getByRole('listitem')
  ).toHaveText([`k=${PAYLOAD}`]);
  const params = detail.getByRole('table', { name: 'Parameters' });
  await expect(trackbook.tableRow(params, 'label').locator('td')).toHaveText(
    PAYLOAD
  );
  await expect(trackbook.tableRow(params, 'note').locator('td')).toHaveText(
    PAYLOAD
  );
  await expect(detail.getByLabel('Code', { exact: true })).toContainText(
    `label = "${PAYLOAD}"`
  );

  // Filtering by the tag value finds the run (it is data, not markup).
  await trackbook.sidebar.getByRole('button', { name: '← Runs' }).click();
  await trackbook.filterText.fill(PAYLOAD);
  await expect(row).toBeVisible({ timeout: 10_000 });

  // No element was made from the payload, anywhere in the page, and no
  // script ran.
  await expect(trackbook.sidebar.locator('img')).toHaveCount(0);
  await expect(page.locator('img[src="x"]')).toHaveCount(0);
  expect(dialogs).toEqual([]);
});
