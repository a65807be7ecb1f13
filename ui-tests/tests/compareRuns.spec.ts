/**
 * Selecting two runs and comparing them puts their parameters and metrics
 * side by side, the rows that differ highlighted.
 */
import { expect, test, uniqueName } from './helpers/TrackbookHelper';

test('two selected runs compare side by side with differences highlighted', async ({
  trackbook
}) => {
  const first = uniqueName('compare-a');
  const second = uniqueName('compare-b');
  const body = (lr: string) =>
    [`lr = ${lr}`, 'depth = 3', 'score = lr * depth'].join('\n');
  await trackbook.openNotebook('compare.ipynb', [
    { source: '%load_ext trackbook' },
    { source: `%%track ${first}\n${body('0.1')}` },
    { source: `%%track ${second}\n${body('0.2')}` }
  ]);
  await trackbook.runCell(0);
  const firstId = await trackbook.runTrackedCell(1);
  const secondId = await trackbook.runTrackedCell(2);
  await trackbook.openSidebar();

  const compareButton = trackbook.sidebar.getByRole('button', {
    name: /^Compare \(\d+\)$/
  });
  await expect(compareButton).toBeDisabled();
  await trackbook.sidebar
    .getByRole('checkbox', { name: `Select run ${first}` })
    .check();
  await expect(compareButton).toBeDisabled();
  await trackbook.sidebar
    .getByRole('checkbox', { name: `Select run ${second}` })
    .check();
  await expect(trackbook.row(firstId)).toHaveAttribute('aria-selected', 'true');
  await expect(trackbook.row(secondId)).toHaveAttribute(
    'aria-selected',
    'true'
  );
  await expect(compareButton).toHaveText('Compare (2)');
  await compareButton.click();

  const compare = trackbook.compare;
  await expect(compare.getByText('Comparing 2 runs')).toBeVisible();
  const params = compare.getByRole('table', { name: 'Parameters' });
  await expect(params).toBeVisible({ timeout: 10_000 });
  // One column per run, in the order they were selected.
  await expect(params.locator('thead .jp-trackbook-Compare-run')).toHaveText([
    first,
    second
  ]);

  const lr = trackbook.tableRow(params, 'lr');
  const depth = trackbook.tableRow(params, 'depth');
  await expect(lr.locator('td')).toHaveText(['0.1', '0.2']);
  await expect(depth.locator('td')).toHaveText(['3', '3']);
  await expect(lr).toHaveClass(/jp-trackbook-Compare-diff/);
  await expect(depth).not.toHaveClass(/jp-trackbook-Compare-diff/);
  // The highlight is visible, not only a class name.
  const background = (row: typeof lr) =>
    row
      .locator('td')
      .first()
      .evaluate(cell => getComputedStyle(cell).backgroundColor);
  expect(await background(lr)).not.toEqual(await background(depth));

  const metrics = compare.getByRole('table', { name: 'Metrics' });
  const score = trackbook.tableRow(metrics, 'score');
  await expect(score.locator('td')).toHaveText(['0.3', '0.6']);
  await expect(score).toHaveClass(/jp-trackbook-Compare-diff/);

  await expect(
    compare.getByRole('img', { name: 'score of the compared runs' })
  ).toBeVisible();
  await trackbook.screenshotSidebar('compare.png');

  // "Only differences" hides the rows that are the same.
  await compare.getByRole('checkbox', { name: 'Only differences' }).check();
  await expect(depth).toHaveCount(0);
  await expect(lr).toHaveCount(1);
});
