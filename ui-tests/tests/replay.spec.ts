/**
 * An auditor replays a run from the sidebar: the replay runs in the
 * background (a fresh kernel started by the server), its progress shows,
 * then the verdict, the run the replay recorded, and the audit report in a
 * sandboxed tab.
 */
import {
  CELL_TIMEOUT,
  expect,
  test,
  uniqueName
} from './helpers/TrackbookHelper';

/**
 * A replay starts a kernel, runs the recorded history and compares: allow
 * for a slow machine.
 */
const REPLAY_TIMEOUT = 120_000;

test('click Replay, see the progress and then the verdict', async ({
  page,
  trackbook
}) => {
  test.setTimeout(240_000);
  const name = uniqueName('replay');
  await trackbook.openNotebook('replay.ipynb', [
    { source: '%load_ext trackbook' },
    {
      source: [
        `%%track ${name}`,
        'import random',
        'draws = 4',
        'total = sum(random.random() for _ in range(draws))'
      ].join('\n')
    }
  ]);
  await trackbook.runCell(0);
  const runId = await trackbook.runTrackedCell(1);
  await trackbook.openSidebar();
  await trackbook.openRun(runId);

  const detail = trackbook.detail;
  const replays = detail.locator('.jp-trackbook-Replays');
  await expect(replays.getByText('Not replayed yet.')).toBeVisible();
  await replays.getByRole('button', { name: 'Replay', exact: true }).click();

  // Progress: queued or running, with what the replay is doing.
  const progress = replays.locator('.jp-trackbook-ReplayProgress');
  await expect(progress).toBeVisible({ timeout: CELL_TIMEOUT });
  await expect(progress).not.toHaveText('');
  const verdict = replays.locator(
    '.jp-trackbook-ReplayView .jp-trackbook-Verdict'
  );
  await expect(verdict).toHaveText(/queued|running/);

  // Then the verdict, and nothing left in progress.
  await expect(verdict).toHaveText('reproduced', { timeout: REPLAY_TIMEOUT });
  await expect(progress).toHaveCount(0);
  await expect(
    replays.getByText('No differences from the original run.')
  ).toBeVisible();
  await trackbook.screenshotSidebar('replay-verdict.png');

  // The report opens in a main-area tab, in a frame with every sandbox
  // restriction, and shows the run.
  await replays.getByRole('button', { name: 'Open report' }).click();
  const frame = page.locator('.jp-trackbook-Report iframe');
  await expect(frame).toHaveAttribute('sandbox', '');
  await expect(
    page.frameLocator('.jp-trackbook-Report iframe').getByText(runId).first()
  ).toBeVisible({ timeout: 30_000 });
  const info = test.info();
  const reportShot = info.outputPath('replay-report.png');
  await page
    .locator('.jp-trackbook-Report')
    .screenshot({ path: reportShot, animations: 'disabled' });
  await info.attach('replay-report.png', {
    path: reportShot,
    contentType: 'image/png'
  });

  // The replay's own run opens in the detail, linked back to the original.
  await replays.getByRole('button', { name: /Replayed run/ }).click();
  await expect(detail.locator('.jp-trackbook-RunHeader-id')).not.toHaveText(
    runId
  );
  await expect(detail.getByRole('heading', { level: 2 })).toHaveText(name);
  await expect(
    detail.locator('.jp-trackbook-RunHeader').getByRole('button', {
      name: runId
    })
  ).toBeVisible();
});
