/**
 * A page object for the trackbook sidebar and tracked notebooks, so that the
 * specs read as what a user does: open a notebook, run a tracked cell, find
 * the run in the sidebar.
 */
import {
  expect,
  IJupyterLabPageFixture,
  test as base
} from '@jupyterlab/galata';
import type { Locator } from '@playwright/test';

/**
 * Id of the sidebar widget (`SIDEBAR_ID` in src/panel.tsx).
 */
export const SIDEBAR_ID = 'trackbook-sidebar';

/**
 * Time for a kernel to start, load trackbook and run a light cell. The first
 * tracked cell of a kernel also captures the environment.
 */
export const CELL_TIMEOUT = 60_000;

/**
 * Page size for the screenshots kept as test artifacts.
 */
const SCREENSHOT_VIEWPORT = { width: 1280, height: 1400 };

/**
 * Sidebar width for those screenshots, in pixels.
 */
const SCREENSHOT_SIDEBAR_WIDTH = 640;

/**
 * A cell of a notebook built for a test.
 */
export interface ICellSpec {
  type?: 'code' | 'markdown';
  source: string;
}

/**
 * A run name no other test (or retry) in the same store uses.
 *
 * @param prefix - What the run is about.
 */
export function uniqueName(prefix: string): string {
  const random = Math.floor(Math.random() * 36 ** 4).toString(36);
  return `${prefix}-${Date.now().toString(36)}${random}`;
}

/**
 * The trackbook parts of a JupyterLab page.
 */
export class TrackbookHelper {
  constructor(
    readonly page: IJupyterLabPageFixture,
    readonly tmpPath: string
  ) {}

  /**
   * The sidebar panel.
   */
  get sidebar(): Locator {
    return this.page.locator(`#${SIDEBAR_ID}`);
  }

  /**
   * The rows of the runs table (header excluded), top first.
   */
  get rows(): Locator {
    return this.sidebar.locator('[role="row"][data-run-id]');
  }

  /**
   * The row of one run.
   *
   * @param runId - Id of the run.
   */
  row(runId: string): Locator {
    return this.sidebar.locator(`[role="row"][data-run-id="${runId}"]`);
  }

  /**
   * The run detail view.
   */
  get detail(): Locator {
    return this.sidebar.locator('.jp-trackbook-RunDetail');
  }

  /**
   * The comparison view.
   */
  get compare(): Locator {
    return this.sidebar.locator('.jp-trackbook-Compare');
  }

  /**
   * The free-text filter of the runs list.
   */
  get filterText(): Locator {
    return this.sidebar.getByRole('searchbox', {
      name: 'Filter runs by text'
    });
  }

  /**
   * Show the sidebar and wait until its runs list answered.
   */
  async openSidebar(): Promise<void> {
    await this.page.sidebar.openTab(SIDEBAR_ID);
    await expect(this.sidebar).toBeVisible();
    await expect(
      this.sidebar.locator('.jp-trackbook-RunsView-count')
    ).toBeVisible({ timeout: 10_000 });
    await expect(this.sidebar.getByText('Loading runs…')).toHaveCount(0, {
      timeout: 10_000
    });
  }

  /**
   * Write a notebook into the test's directory and open it; its kernel (the
   * Python of the environment JupyterLab runs in) starts on opening.
   *
   * @param name - File name, e.g. `detail.ipynb`.
   * @param cells - The cells, in order.
   * @returns The path of the notebook, relative to the server root.
   */
  async openNotebook(name: string, cells: ICellSpec[]): Promise<string> {
    const path = `${this.tmpPath}/${name}`;
    const notebook = {
      nbformat: 4,
      nbformat_minor: 5,
      metadata: {
        kernelspec: {
          name: 'python3',
          display_name: 'Python 3 (ipykernel)',
          language: 'python'
        },
        language_info: { name: 'python' }
      },
      cells: cells.map((cell, index) => ({
        id: `cell-${index}`,
        cell_type: cell.type ?? 'code',
        metadata: {},
        source: cell.source,
        ...((cell.type ?? 'code') === 'code'
          ? { execution_count: null, outputs: [] }
          : {})
      }))
    };
    expect(
      await this.page.contents.uploadContent(
        JSON.stringify(notebook),
        'text',
        path
      )
    ).toBe(true);
    expect(await this.page.notebook.openByPath(path)).toBe(true);
    await this.page.notebook.activate(name);
    // The kernel is ready when the status bar says so.
    await expect(
      this.page.locator('#jp-main-statusbar').getByText('Idle')
    ).toBeVisible({ timeout: CELL_TIMEOUT });
    return path;
  }

  /**
   * Run a cell of the active notebook and wait until it finished.
   *
   * @param index - Index of the cell.
   */
  async runCell(index: number): Promise<void> {
    expect(await this.page.notebook.runCell(index, true)).toBe(true);
  }

  /**
   * The run summary a tracked cell displayed.
   *
   * @param index - Index of the cell.
   */
  summary(index: number): Locator {
    return this.page
      .locator('.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell')
      .nth(index)
      .locator('.jp-trackbook-RunSummary');
  }

  /**
   * Run a `%%track` cell and read the id of its run from the summary it
   * displayed.
   *
   * @param index - Index of the cell.
   * @returns The run id.
   */
  async runTrackedCell(index: number): Promise<string> {
    await this.runCell(index);
    return this.summaryRunId(index);
  }

  /**
   * The id of the run whose summary a cell shows (the summary shows a short
   * id; its tooltip has the full one on its first line).
   *
   * @param index - Index of the cell.
   */
  async summaryRunId(index: number): Promise<string> {
    const summary = this.summary(index);
    await expect(summary).toBeVisible({ timeout: CELL_TIMEOUT });
    await expect(summary).toHaveAttribute('data-status', 'finished');
    const title = await summary
      .locator('.jp-trackbook-RunSummary-id')
      .getAttribute('title');
    const runId = (title ?? '').split('\n')[0];
    expect(runId).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    return runId;
  }

  /**
   * Open a run of the list in the detail view.
   *
   * @param runId - Id of the run.
   */
  async openRun(runId: string): Promise<void> {
    await expect(this.row(runId)).toBeVisible({ timeout: 10_000 });
    await this.row(runId).locator('.jp-trackbook-RunsTable-name').click();
    await expect(this.detail.locator('.jp-trackbook-RunHeader-id')).toHaveText(
      runId,
      { timeout: 10_000 }
    );
  }

  /**
   * A row of a key-value or comparison table, found by its key.
   *
   * @param table - The table.
   * @param key - The key in the row's header cell.
   */
  tableRow(table: Locator, key: string): Locator {
    return table.locator('tr').filter({
      has: this.page.locator('th', { hasText: new RegExp(`^${key}$`) })
    });
  }

  /**
   * Save a screenshot of the sidebar as a test artifact (not a golden image:
   * pixels differ across machines) and attach it to the report.
   *
   * @param name - File name, e.g. `list.png`.
   */
  async screenshotSidebar(name: string): Promise<void> {
    // Room for the table's columns and the detail's sections: a tall page
    // and a wide sidebar (the panel scrolls inside, which a screenshot of
    // the element would cut).
    await this.page.setViewportSize(SCREENSHOT_VIEWPORT);
    expect(await this.page.sidebar.setWidth(SCREENSHOT_SIDEBAR_WIDTH)).toBe(
      true
    );
    await expect
      .poll(async () => (await this.sidebar.boundingBox())?.width ?? 0)
      .toBeGreaterThan(SCREENSHOT_SIDEBAR_WIDTH - 20);
    const info = base.info();
    const path = info.outputPath(name);
    await this.sidebar.screenshot({ path, animations: 'disabled' });
    await info.attach(name, { path, contentType: 'image/png' });
  }
}

/**
 * Galata's test, with a `trackbook` fixture bound to the test's page and
 * directory.
 */
export const test = base.extend<{ trackbook: TrackbookHelper }>({
  trackbook: async ({ page, tmpPath }, use) => {
    await use(new TrackbookHelper(page, tmpPath));
  }
});

export { expect };
