/**
 * A replay's audit report in JupyterLab's main area.
 *
 * The report is the server's own escaped HTML without scripts; it is still
 * shown in a fully sandboxed frame (`sandbox=""`: opaque origin, no
 * scripts, forms or popups), and the server sends it with a `sandbox`
 * Content-Security-Policy of its own.
 */
import { MainAreaWidget } from '@jupyterlab/apputils';
import { TranslationBundle, nullTranslator } from '@jupyterlab/translation';
import { IFrame } from '@jupyterlab/ui-components';

import { trackbookIcon } from './icons';

/**
 * What a report tab shows.
 */
export interface IReportOptions {
  /**
   * URL of the report (`GET /trackbook/replays/{id}/report`).
   */
  url: string;
  /**
   * The replayed run, for the tab's label.
   */
  runId: string;
  /**
   * The replay, which identifies the tab.
   */
  replayId: string;
  /**
   * Translations of the `trackbook` domain; English if omitted.
   */
  trans?: TranslationBundle;
}

/**
 * Id of the tab showing a replay's report.
 *
 * @param replayId - The replay.
 */
export function reportWidgetId(replayId: string): string {
  return `trackbook-report-${replayId.replace(/[^A-Za-z0-9_-]/g, '')}`;
}

/**
 * A main-area tab with the report in a sandboxed frame.
 *
 * @param options - The report's URL and what it is about.
 * @returns The widget, not yet added to the shell.
 */
export function createReportWidget(
  options: IReportOptions
): MainAreaWidget<IFrame> {
  const trans = options.trans ?? nullTranslator.load('trackbook');
  // No sandbox exceptions: the frame gets every restriction there is.
  const content = new IFrame({ sandbox: [], referrerPolicy: 'no-referrer' });
  content.url = options.url;
  content.addClass('jp-trackbook-Report');
  content.node
    .querySelector('iframe')
    ?.setAttribute('title', trans.__('Audit report'));
  const widget = new MainAreaWidget({ content });
  widget.id = reportWidgetId(options.replayId);
  widget.title.label = trans.__('Audit %1', options.runId.slice(0, 10));
  widget.title.caption = trans.__(
    'Audit report of run %1 (replay %2)',
    options.runId,
    options.replayId
  );
  widget.title.icon = trackbookIcon;
  widget.title.closable = true;
  return widget;
}

/**
 * Where report tabs go: JupyterLab's shell, or a stand-in in tests.
 */
export interface IReportShell {
  add(widget: MainAreaWidget<IFrame>, area: 'main'): void;
  activateById(id: string): void;
}

/**
 * Show a replay's report: a new tab, or the one already open for it.
 *
 * @param shell - The application shell.
 * @param options - The report's URL and what it is about.
 * @returns The tab.
 */
export function openReport(
  shell: IReportShell,
  options: IReportOptions
): MainAreaWidget<IFrame> {
  const id = reportWidgetId(options.replayId);
  const existing = Private.open.get(id);
  if (existing && !existing.isDisposed) {
    shell.activateById(id);
    return existing;
  }
  const widget = createReportWidget(options);
  Private.open.set(id, widget);
  widget.disposed.connect(() => Private.open.delete(id));
  shell.add(widget, 'main');
  shell.activateById(id);
  return widget;
}

/**
 * Module state.
 */
namespace Private {
  /**
   * Report tabs that are open, by widget id.
   */
  export const open = new Map<string, MainAreaWidget<IFrame>>();
}
