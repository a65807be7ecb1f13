/**
 * The trackbook sidebar in a real JupyterLab page in Chromium: first paint,
 * scrolling, rows in the DOM, runs fetched and JavaScript heap.
 *
 * Called by `benchmarks/bench_sidebar.py` with one JSON argument (the
 * server's URL and token, the Chromium binary, how many page loads and how
 * long to scroll); prints one JSON line of results on stdout, progress on
 * stderr.
 *
 * Timestamps are taken inside the page (`performance.now()`, the time base
 * of event timestamps), so the round trips between this script and the
 * browser are not in any figure.
 */
'use strict';

const path = require('path');

const { installMarks, scrollAndRecord } = require('./inPage');

// Playwright comes with the integration tests' dependencies
// (`cd ui-tests && jlpm install`), not with the extension's.
const { chromium } = require(
  require.resolve('playwright-core', {
    paths: [path.join(__dirname, '..', '..', 'ui-tests')]
  })
);

/** Id of the sidebar widget (`SIDEBAR_ID` in src/panel.tsx). */
const SIDEBAR_ID = 'trackbook-sidebar';
/** Its tab in the left bar, as galata's sidebar helper finds it. */
const TAB = `.lm-TabBar.jp-SideBar .lm-TabBar-content li.lm-TabBar-tab[data-id="${SIDEBAR_ID}"]`;
/** A row of the runs table (header excluded). */
const ROW = `#${SIDEBAR_ID} [role="row"][data-run-id]`;
/** The React views, mounted the first time the sidebar is shown. */
const CONTENT = `#${SIDEBAR_ID} .jp-trackbook-Sidebar-content`;
/** The scrolling element of the runs table, and its child sized to all loaded rows. */
const SCROLLER = `#${SIDEBAR_ID} .jp-trackbook-VirtualList`;
const BODY = `#${SIDEBAR_ID} .jp-trackbook-VirtualList-body`;
/** The box of one row: its height is the table's row height. */
const ITEM = `#${SIDEBAR_ID} .jp-trackbook-VirtualList-item`;
/** JupyterLab's launcher: on screen once the layout is restored. */
const LAUNCHER = '.jp-Launcher';
/** The listing endpoint (not `/runs/{id}`). */
const RUNS_PATH = /\/trackbook\/runs$/;

const TIMEOUT = 120_000;

/** The page opened last, for a screenshot when something fails. */
let lastPage = null;

function log(message) {
  process.stderr.write(`   sidebar: ${message}\n`);
}

/**
 * Counts what `GET /trackbook/runs` brought into a page: answers with a
 * body (200) and the runs in them; 304s (polling, nothing new) apart. Also
 * tracks the listings in flight, for `quiet`.
 */
function watchRuns(page) {
  const seen = {
    pages: 0,
    runs: 0,
    notModified: 0,
    unreadable: 0,
    pending: [],
    inFlight: 0,
    lastActivity: Date.now()
  };
  const isListing = request => RUNS_PATH.test(new URL(request.url()).pathname);
  const track = change => request => {
    if (isListing(request)) {
      seen.inFlight += change;
      seen.lastActivity = Date.now();
    }
  };
  page.on('request', track(1));
  page.on('requestfinished', track(-1));
  page.on('requestfailed', track(-1));
  page.on('response', response => {
    if (!RUNS_PATH.test(new URL(response.url()).pathname)) {
      return;
    }
    if (response.status() === 304) {
      seen.notModified += 1;
      return;
    }
    seen.pending.push(
      response
        .json()
        .then(body => {
          seen.pages += 1;
          seen.runs += body.runs.length;
        })
        // The browser may have dropped a body before it was asked for.
        .catch(() => {
          seen.unreadable += 1;
        })
    );
  });
  return seen;
}

/**
 * No listing in flight for half a second. (Playwright's `networkidle` load
 * state is reached once per page load, so it cannot wait for later
 * requests.)
 */
async function quiet(page, seen) {
  const deadline = Date.now() + TIMEOUT;
  while (seen.inFlight > 0 || Date.now() - seen.lastActivity < 500) {
    if (Date.now() > deadline) {
      throw new Error('GET /trackbook/runs still in flight after the timeout');
    }
    await page.waitForTimeout(50);
  }
}

async function settled(seen) {
  await Promise.all(seen.pending);
  const { pages, runs, notModified, unreadable } = seen;
  return { pages, runs, notModified, unreadable };
}

/** JupyterLab loaded, its first requests answered and a moment of quiet. */
async function waitForLab(page) {
  await page.locator(TAB).waitFor({ state: 'visible', timeout: TIMEOUT });
  await page.locator(LAUNCHER).first().waitFor({ timeout: TIMEOUT });
  await page.waitForLoadState('networkidle', { timeout: TIMEOUT });
  await page.waitForTimeout(1000);
}

async function marks(page) {
  await page.waitForFunction(
    () => window.__trackbookMarks.row !== undefined,
    null,
    { timeout: TIMEOUT, polling: 100 }
  );
  return page.evaluate(() => ({ ...window.__trackbookMarks }));
}

/** Start and end (ms, page time) of the first listing answered after `since`. */
function firstListing(page, since) {
  return page.evaluate(
    ({ since, pattern }) => {
      const re = new RegExp(pattern);
      const entry = performance
        .getEntriesByType('resource')
        .find(
          e => re.test(new URL(e.name).pathname) && e.startTime >= since - 1
        );
      return entry
        ? { start: entry.startTime, end: entry.responseEnd }
        : undefined;
    },
    { since, pattern: RUNS_PATH.source }
  );
}

async function heapBytes(cdp) {
  await cdp.send('HeapProfiler.collectGarbage');
  const usage = await cdp.send('Runtime.getHeapUsage');
  return usage.usedSize;
}

/**
 * A fresh workspace (JupyterLab's default layout: the sidebar closed) is
 * loaded; then the trackbook tab is clicked. Then the same workspace, which
 * now has the sidebar open, is loaded again: the layout restorer opens it.
 */
async function measureOpening(context, options, index) {
  const page = await context.newPage();
  const seen = watchRuns(page);
  const url = `${options.url}/lab/workspaces/bench-${index}?token=${options.token}`;
  await page.goto(url, { timeout: TIMEOUT });
  await waitForLab(page);
  if (await page.locator(`#${SIDEBAR_ID}`).isVisible()) {
    throw new Error(
      'a fresh workspace opened with the trackbook sidebar shown'
    );
  }
  const saved = page.waitForResponse(
    r =>
      r.request().method() === 'PUT' &&
      r.url().includes(`/lab/api/workspaces/bench-${index}`),
    { timeout: TIMEOUT }
  );
  await page.locator(TAB).click();
  const click = await marks(page);
  const listing = await firstListing(page, click.pointerdown);
  const atFirstPaint = await settled(seen);
  // The layout (sidebar open) must reach the server before the reload.
  await saved;
  await quiet(page, seen);

  await page.reload({ timeout: TIMEOUT });
  const restored = await marks(page);
  const restoredListing = await firstListing(page, 0);
  await page.close();
  return {
    click: {
      ms: click.row - click.pointerdown,
      content: click.content - click.pointerdown,
      request: listing && listing.start - click.pointerdown,
      response: listing && listing.end - click.pointerdown
    },
    runsAtFirstPaint: atFirstPaint.runs,
    restored: {
      navigation: restored.row,
      tab: restored.tab,
      content: restored.content,
      response: restoredListing && restoredListing.end
    }
  };
}

async function measureScrolling(context, options) {
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  const seen = watchRuns(page);
  await page.goto(
    `${options.url}/lab/workspaces/bench-scroll?token=${options.token}`,
    { timeout: TIMEOUT }
  );
  await waitForLab(page);
  const heapLab = await heapBytes(cdp);
  await page.locator(TAB).click();
  await marks(page);
  await quiet(page, seen);
  await page.waitForTimeout(1000);
  const firstPage = await settled(seen);
  const heapFirstPage = await heapBytes(cdp);
  const rowsAtStart = await page.locator(ROW).count();

  const scroll = await page.evaluate(scrollAndRecord, {
    scroller: SCROLLER,
    item: ITEM,
    body: BODY,
    seconds: options.scrollSeconds,
    rowsPerSecond: options.rowsPerSecond
  });
  // Let the page asked for during the last frames arrive.
  await quiet(page, seen);
  const rowsInDom = await page.locator(ROW).count();
  const domNodes = await page.evaluate(
    selector => document.querySelector(selector).querySelectorAll('*').length,
    `#${SIDEBAR_ID}`
  );
  const fetched = await settled(seen);
  const heapAfter = await heapBytes(cdp);
  const rowsLoaded = await page.evaluate(
    ({ body, rowHeight }) =>
      Math.round(document.querySelector(body).offsetHeight / rowHeight),
    { body: BODY, rowHeight: scroll.rowHeight }
  );
  await page.close();
  return {
    ...scroll,
    rowsAtStart,
    rowsInDom,
    domNodes,
    rowsLoaded,
    fetchedFirstPage: firstPage,
    fetched,
    heap: { lab: heapLab, firstPage: heapFirstPage, afterScroll: heapAfter }
  };
}

async function main() {
  const options = JSON.parse(process.argv[2]);
  const browser = await chromium.launch({
    executablePath: options.chromium,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync'
    ]
  });
  try {
    const context = await browser.newContext({ viewport: options.viewport });
    await context.addInitScript(installMarks, {
      tab: TAB,
      content: CONTENT,
      row: ROW
    });
    // On a failure, what the last page showed (JupyterLab's own error
    // dialogs included) is saved for the person running the benchmark.
    context.on('page', page => (lastPage = page));
    const openings = [];
    for (let index = 0; index < options.loads; index++) {
      const opening = await measureOpening(context, options, index);
      log(
        `load ${index + 1}/${options.loads}: click to first row ` +
          `${opening.click.ms.toFixed(0)} ms, restored page ${opening.restored.navigation.toFixed(0)} ms`
      );
      openings.push(opening);
    }
    const scrolling = await measureScrolling(context, options);
    log(
      `scrolled ${scrolling.rowsScrolled} rows in ${scrolling.intervals.length} frames`
    );
    process.stdout.write(
      JSON.stringify({
        browser: browser.version(),
        openings,
        scrolling
      }) + '\n'
    );
  } catch (error) {
    if (lastPage && !lastPage.isClosed() && options.failureScreenshot) {
      await lastPage.screenshot({ path: options.failureScreenshot });
      log(`screenshot of the failing page: ${options.failureScreenshot}`);
    }
    throw error;
  } finally {
    await browser.close();
  }
}

main().catch(error => {
  process.stderr.write(`${error.stack || error}\n`);
  process.exit(1);
});
