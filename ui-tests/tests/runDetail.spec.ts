/**
 * Clicking a run shows what was recorded: the code, the parameters, the
 * metrics, and a chart for a metric logged at several steps.
 */
import { expect, test, uniqueName } from './helpers/TrackbookHelper';

test('the run detail shows code, params, metrics and a step chart', async ({
  trackbook
}) => {
  const name = uniqueName('detail');
  const loop =
    "for step in range(epochs): trackbook.log_metric('loss', 1.0 / (step + 1), step=step)";
  await trackbook.openNotebook('detail.ipynb', [
    { source: '%load_ext trackbook\nimport trackbook' },
    {
      source: [
        `%%track ${name} --seed 7`,
        'lr = 0.05',
        'epochs = 5',
        loop,
        'accuracy = epochs / 8'
      ].join('\n')
    }
  ]);
  await trackbook.runCell(0);
  const runId = await trackbook.runTrackedCell(1);
  await trackbook.openSidebar();
  await trackbook.openRun(runId);

  const detail = trackbook.detail;
  await expect(detail.getByRole('heading', { level: 2 })).toHaveText(name);
  await expect(
    detail.locator('.jp-trackbook-RunHeader .jp-trackbook-Status')
  ).toHaveText('finished');

  // The code of the cell body, highlighted but still the same text.
  const code = detail.getByLabel('Code', { exact: true });
  await expect(code).toContainText(loop);
  await expect(code).toContainText('accuracy = epochs / 8');
  await expect(code).not.toContainText('%%track');

  const params = detail.getByRole('table', { name: 'Parameters' });
  await expect(trackbook.tableRow(params, 'lr').locator('td')).toHaveText(
    '0.05'
  );
  await expect(trackbook.tableRow(params, 'epochs').locator('td')).toHaveText(
    '5'
  );

  // `loss` is the value at the highest step; the loop variable is no metric.
  // (`lr = 0.05` is a literal, so a parameter; `accuracy` is computed.)
  const metrics = detail.getByRole('table', { name: 'Metrics' });
  await expect(trackbook.tableRow(metrics, 'loss').locator('td')).toHaveText(
    '0.2'
  );
  await expect(
    trackbook.tableRow(metrics, 'accuracy').locator('td')
  ).toHaveText('0.625');
  await expect(trackbook.tableRow(metrics, 'step')).toHaveCount(0);

  // The seed given with --seed is recorded.
  const seeds = detail.getByRole('table', { name: 'Seeds' });
  await expect(trackbook.tableRow(seeds, 'seed').locator('td')).toHaveText('7');

  // One chart, for the stepped metric only, with a line through its 5 steps.
  const chart = detail.getByRole('img', { name: 'loss by step' });
  await expect(chart).toBeVisible();
  await expect(detail.locator('.jp-trackbook-MetricChart')).toHaveCount(1);
  const line = chart.locator('path.jp-trackbook-StepChart-line');
  await expect(line).toHaveCount(1);
  const d = (await line.getAttribute('d')) ?? '';
  expect(d.match(/[ML]/g)).toHaveLength(5);
  // The loss falls: the last point is lower on screen (larger y) than the first.
  const ys = Array.from(d.matchAll(/[ML][\d.]+,([\d.]+)/g), m => Number(m[1]));
  expect(ys[ys.length - 1]).toBeGreaterThan(ys[0]);

  await trackbook.screenshotSidebar('detail.png');
});
