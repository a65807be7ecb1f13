/**
 * Open the notebook a run came from and bring its cell into view.
 */
import type { INotebookTracker, NotebookPanel } from '@jupyterlab/notebook';

/**
 * What happened: the cell is shown, or why not.
 */
export type OpenCellResult =
  'opened' | 'no-notebook' | 'no-cell' | 'outside-root';

/**
 * A path in a home directory (which `~` in the server root stands for):
 * the home, then the rest.
 */
const HOME =
  /^(\/root|\/home\/[^/]+|\/Users\/[^/]+|[A-Za-z]:\/Users\/[^/]+)(\/.*)$/;

/**
 * The path of a notebook relative to the Jupyter server root, as the
 * contents API wants it.
 *
 * Runs record the notebook path the kernel saw, which may be absolute.
 *
 * @param path - Notebook path recorded by the run.
 * @param serverRoot - The server root directory (JupyterLab's `serverRoot`
 *   page option; may start with `~` for the user's home).
 * @returns The relative path, or `null` when the notebook lies outside the root.
 */
export function serverRelativePath(
  path: string,
  serverRoot: string
): string | null {
  const normalized = path.replace(/\\/g, '/');
  const absolute =
    normalized.startsWith('/') || /^[A-Za-z]:\//.test(normalized);
  if (!absolute) {
    return normalized;
  }
  const root = serverRoot.replace(/\\/g, '/').replace(/\/+$/, '');
  if (!root) {
    return null;
  }
  if (root.startsWith('~')) {
    const home = HOME.exec(normalized);
    const rest = root.slice(1);
    return home && home[2].startsWith(`${rest}/`)
      ? home[2].slice(rest.length + 1)
      : null;
  }
  return normalized.startsWith(`${root}/`)
    ? normalized.slice(root.length + 1)
    : null;
}

/**
 * What `openCell` needs from JupyterLab.
 */
export interface IOpenCellContext {
  /**
   * Open or reveal a document (`IDocumentManager.openOrReveal`, or the
   * `docmanager:open` command); resolves to its widget when known.
   */
  open: (path: string) => unknown;
  /**
   * The notebook tracker, to find the notebook when `open` does not return it.
   */
  tracker?: Pick<INotebookTracker, 'find'> | null;
  /**
   * The server root directory, to turn absolute notebook paths into
   * contents paths.
   */
  serverRoot?: string;
}

/**
 * Open (or reveal) a notebook, then make the cell with the given id active
 * and scroll to it.
 *
 * @param context - JupyterLab services.
 * @param path - Notebook path, relative to the server root or absolute.
 * @param cellId - nbformat id of the cell, if recorded.
 * @param source - The run's code, to find the cell when the id is missing
 *   or no longer in the notebook.
 * @returns What happened.
 */
export async function openCell(
  context: IOpenCellContext,
  path: string,
  cellId: string | null,
  source: string | null = null
): Promise<OpenCellResult> {
  const relative = serverRelativePath(path, context.serverRoot ?? '');
  if (relative === null) {
    return 'outside-root';
  }
  const opened: unknown = await context.open(relative);
  const widget = isNotebookPanel(opened)
    ? opened
    : context.tracker?.find(panel => panel.context.path === relative);
  if (!widget || !isNotebookPanel(widget)) {
    return 'no-notebook';
  }
  await widget.context.ready;
  const notebook = widget.content;
  const index = findCell(notebook.widgets, cellId, source);
  if (index < 0) {
    return 'no-cell';
  }
  notebook.activeCellIndex = index;
  await notebook.scrollToItem(index, 'center');
  return 'opened';
}

/**
 * The index of the run's cell: by nbformat cell id, else (a run recorded
 * without one, e.g. outside JupyterLab) the cell whose source, with or
 * without its `%%track` line, is the run's code.
 *
 * @param cells - The notebook's cells.
 * @param cellId - The recorded cell id.
 * @param source - The recorded code.
 * @returns The index, or -1.
 */
export function findCell(
  cells: ReadonlyArray<{
    model: { id: string; sharedModel?: { getSource(): string } };
  }>,
  cellId: string | null,
  source: string | null
): number {
  if (cellId !== null) {
    const index = cells.findIndex(cell => cell.model.id === cellId);
    if (index >= 0) {
      return index;
    }
  }
  const code = source?.trim();
  if (!code) {
    return -1;
  }
  return cells.findIndex(cell => {
    const text = cell.model.sharedModel?.getSource() ?? '';
    return text.trim() === code || withoutTrackMagic(text).trim() === code;
  });
}

/**
 * A cell's source without its `%%track ...` line: a run's code is the body
 * of the cell magic.
 */
function withoutTrackMagic(source: string): string {
  return /^\s*%%track\b/.test(source)
    ? source.replace(/^[^\n]*\n?/, '')
    : source;
}

/**
 * Whether a document widget is a notebook panel (checked by shape: the
 * notebook package is only loaded when a notebook is open).
 */
function isNotebookPanel(widget: unknown): widget is NotebookPanel {
  const panel = widget as Partial<NotebookPanel> | null;
  return (
    typeof panel === 'object' &&
    panel !== null &&
    typeof panel.content === 'object' &&
    panel.content !== null &&
    Array.isArray((panel.content as Partial<NotebookPanel['content']>).widgets)
  );
}
