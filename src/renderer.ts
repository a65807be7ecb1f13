/**
 * Renderer for the run summary that a `%%track` cell displays.
 *
 * Run names, warnings and error messages come from users and notebooks, so
 * everything is written with `textContent`, never parsed as HTML.
 */
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { Widget } from '@lumino/widgets';

import {
  IRunSummary,
  parseRunSummary,
  pickMetrics,
  plural,
  formatDuration,
  RUN_MIME_TYPE,
  RunStatus
} from './runSummary';

/**
 * Root CSS class of the summary.
 */
const CLASS = 'jp-trackbook-RunSummary';

/**
 * How many characters of the run id the summary shows (the full id is in
 * the tooltip).
 */
export const SHORT_ID_LENGTH = 10;

/**
 * Options of the run summary renderer.
 */
export interface IRunSummaryOptions {
  /**
   * Open a run in trackbook; without it the summary has no "Open" button.
   */
  openRun?: (runId: string) => unknown;
  /**
   * Metric keys to show first (setting `metricColumns`), read at each render.
   */
  preferredMetrics?: () => readonly string[];
  /**
   * Told of each summary rendered, so the runs list can catch up with a run
   * that just finished.
   */
  runShown?: (runId: string, status: RunStatus) => void;
}

/**
 * A widget that renders `application/vnd.trackbook.run+json`.
 */
export class RunSummaryRenderer
  extends Widget
  implements IRenderMime.IRenderer
{
  /**
   * Construct a new run summary renderer.
   *
   * @param options - The renderer options from the rendermime registry.
   * @param summaryOptions - What the summary can do beyond showing text.
   */
  constructor(
    options: IRenderMime.IRendererOptions,
    summaryOptions: IRunSummaryOptions = {}
  ) {
    super();
    this._mimeType = options.mimeType;
    this._options = summaryOptions;
    this.addClass(CLASS);
  }

  /**
   * Render the run summary held by the model.
   *
   * @param model - The MIME model to render.
   */
  renderModel(model: IRenderMime.IMimeModel): Promise<void> {
    const summary = parseRunSummary(model.data[this._mimeType]);
    this.node.replaceChildren();
    if (summary === null) {
      this.node.dataset.status = 'invalid';
      this.node.appendChild(
        element('div', `${CLASS}-invalid`, 'Not a valid trackbook run summary')
      );
    } else {
      this.node.dataset.status = summary.status;
      this._render(summary);
      this._options.runShown?.(summary.id, summary.status);
    }
    return Promise.resolve();
  }

  private _render(summary: IRunSummary): void {
    const header = element('div', `${CLASS}-header`);
    header.appendChild(
      element(
        'span',
        `${CLASS}-status ${CLASS}-status-${summary.status}`,
        summary.status
      )
    );
    const id = element(
      'code',
      `${CLASS}-id`,
      summary.id.slice(0, SHORT_ID_LENGTH)
    );
    id.title = summary.store
      ? `${summary.id}\nstore: ${summary.store}`
      : summary.id;
    header.appendChild(id);
    if (summary.name) {
      header.appendChild(element('span', `${CLASS}-name`, summary.name));
    }
    if (summary.duration_s !== null) {
      header.appendChild(
        element('span', `${CLASS}-duration`, formatDuration(summary.duration_s))
      );
    }
    if (this._options.openRun) {
      header.appendChild(this._openButton(summary.id, this._options.openRun));
    }
    this.node.appendChild(header);

    this.node.appendChild(this._details(summary));

    if (summary.error) {
      const { ename, evalue } = summary.error;
      this.node.appendChild(
        element('div', `${CLASS}-error`, evalue ? `${ename}: ${evalue}` : ename)
      );
    }

    if (summary.warnings.length > 0) {
      const list = element('ul', `${CLASS}-warnings`);
      for (const warning of summary.warnings) {
        const item = element('li', `${CLASS}-warning`);
        item.appendChild(element('span', `${CLASS}-warningKind`, warning.kind));
        item.appendChild(document.createTextNode(` ${warning.message}`));
        list.appendChild(item);
      }
      this.node.appendChild(list);
    }
  }

  /**
   * The second line: metrics, then what else the run recorded.
   */
  private _details(summary: IRunSummary): HTMLElement {
    const details = element('div', `${CLASS}-details`);
    const preferred = this._options.preferredMetrics?.() ?? [];
    const { shown, hidden } = pickMetrics(summary.metrics, preferred);
    for (const [key, value] of shown) {
      details.appendChild(
        element('span', `${CLASS}-metric`, `${key}=${value}`)
      );
    }
    if (hidden > 0) {
      details.appendChild(
        element('span', `${CLASS}-more`, `+${plural(hidden, 'metric')}`)
      );
    }
    details.appendChild(
      element(
        'span',
        `${CLASS}-counts`,
        [
          plural(summary.params_count, 'param'),
          plural(summary.inputs_count, 'input'),
          plural(summary.artifacts, 'artifact')
        ].join(' · ')
      )
    );
    return details;
  }

  private _openButton(
    runId: string,
    openRun: (runId: string) => unknown
  ): HTMLButtonElement {
    const button = element('button', `${CLASS}-open`, 'Open in trackbook');
    button.type = 'button';
    button.title = `Open run ${runId} in trackbook`;
    button.addEventListener('click', () => {
      Promise.resolve()
        .then(() => openRun(runId))
        .catch(reason => {
          console.error(`trackbook: could not open run ${runId}`, reason);
        });
    });
    return button;
  }

  private _mimeType: string;
  private _options: IRunSummaryOptions;
}

/**
 * A renderer factory for run summaries.
 *
 * Its rank is below the HTML renderer's (50), so it wins over the HTML
 * fallback the magic puts in the same bundle. It only writes text, so it is
 * safe in untrusted notebooks.
 *
 * @param options - What the summaries can do beyond showing text.
 */
export function createRunSummaryFactory(
  options: IRunSummaryOptions = {}
): IRenderMime.IRendererFactory {
  return {
    safe: true,
    mimeTypes: [RUN_MIME_TYPE],
    defaultRank: 40,
    createRenderer: rendererOptions =>
      new RunSummaryRenderer(rendererOptions, options)
  };
}

/**
 * Create an element with a class and, optionally, text (never HTML).
 */
function element<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  className: string,
  text?: string
): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  node.className = className;
  if (text !== undefined) {
    node.textContent = text;
  }
  return node;
}
