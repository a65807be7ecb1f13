import {
  MimeModel,
  RenderMimeRegistry,
  standardRendererFactories
} from '@jupyterlab/rendermime';
import { IRenderMime } from '@jupyterlab/rendermime-interfaces';

import { createRunSummaryFactory, RunSummaryRenderer } from '../renderer';
import { RUN_MIME_TYPE } from '../runSummary';

const XSS = '<img src=x onerror=alert(1)>';

function payload(overrides: { [key: string]: unknown } = {}) {
  return {
    id: '01J9Z3Q4N6ABCDEFGHJKMNPQRS',
    name: 'train-baseline',
    status: 'finished',
    duration_s: 12.34,
    metrics: { accuracy: 0.912345, loss: 0.123456 },
    params_count: 4,
    inputs_count: 2,
    artifacts: 1,
    warnings: [],
    error: null,
    store: 'sqlite:///home/me/.trackbook/trackbook.db',
    ...overrides
  };
}

async function render(
  data: unknown,
  openRun?: (runId: string) => unknown,
  preferredMetrics?: () => string[]
): Promise<HTMLElement> {
  const factory = createRunSummaryFactory({ openRun, preferredMetrics });
  const renderer = factory.createRenderer({
    mimeType: RUN_MIME_TYPE
  } as IRenderMime.IRendererOptions);
  const model = new MimeModel({
    data: { [RUN_MIME_TYPE]: data } as IRenderMime.IMimeModel['data']
  });
  await renderer.renderModel(model);
  return renderer.node;
}

function texts(node: HTMLElement, selector: string): string[] {
  return Array.from(node.querySelectorAll(selector)).map(
    element => element.textContent ?? ''
  );
}

describe('RunSummaryRenderer', () => {
  it('tells the runs list which run it shows, and in which status', async () => {
    const runShown = jest.fn();
    const renderer = createRunSummaryFactory({ runShown }).createRenderer({
      mimeType: RUN_MIME_TYPE
    } as IRenderMime.IRendererOptions);

    await renderer.renderModel(
      new MimeModel({
        data: {
          [RUN_MIME_TYPE]: payload({ status: 'failed' })
        } as IRenderMime.IMimeModel['data']
      })
    );
    await renderer.renderModel(
      new MimeModel({
        data: { [RUN_MIME_TYPE]: { id: 7 } } as IRenderMime.IMimeModel['data']
      })
    );

    expect(runShown.mock.calls).toEqual([
      ['01J9Z3Q4N6ABCDEFGHJKMNPQRS', 'failed']
    ]);
  });

  it('shows a user name as text, never as HTML', async () => {
    const node = await render(
      payload({
        name: XSS,
        warnings: [{ kind: XSS, message: XSS }],
        status: 'failed',
        error: { ename: 'ValueError', evalue: XSS }
      })
    );

    expect(node.querySelector('img')).toBeNull();
    expect(texts(node, '.jp-trackbook-RunSummary-name')).toEqual([XSS]);
    expect(node.textContent).toContain(`ValueError: ${XSS}`);
    expect(texts(node, '.jp-trackbook-RunSummary-warning')).toEqual([
      `${XSS} ${XSS}`
    ]);
  });

  it('shows status, short id, name, duration and counts', async () => {
    const node = await render(payload());

    expect(texts(node, '.jp-trackbook-RunSummary-status')).toEqual([
      'finished'
    ]);
    expect(texts(node, '.jp-trackbook-RunSummary-id')).toEqual(['01J9Z3Q4N6']);
    expect(texts(node, '.jp-trackbook-RunSummary-name')).toEqual([
      'train-baseline'
    ]);
    expect(texts(node, '.jp-trackbook-RunSummary-duration')).toEqual([
      '12.3 s'
    ]);
    expect(texts(node, '.jp-trackbook-RunSummary-counts')).toEqual([
      '4 params · 2 inputs · 1 artifact'
    ]);
    expect(node.dataset.status).toBe('finished');
  });

  it('writes metrics as key=value with 4 significant digits', async () => {
    const node = await render(payload());

    expect(texts(node, '.jp-trackbook-RunSummary-metric')).toEqual([
      'accuracy=0.9123',
      'loss=0.1235'
    ]);
  });

  it('shows at most 6 metrics, the preferred ones first', async () => {
    const metrics: { [key: string]: number } = {};
    for (let index = 0; index < 8; index++) {
      metrics[`m${index}`] = index;
    }

    const node = await render(payload({ metrics }), undefined, () => [
      'm7',
      'absent'
    ]);

    expect(texts(node, '.jp-trackbook-RunSummary-metric')).toEqual([
      'm7=7',
      'm0=0',
      'm1=1',
      'm2=2',
      'm3=3',
      'm4=4'
    ]);
    expect(texts(node, '.jp-trackbook-RunSummary-more')).toEqual([
      '+2 metrics'
    ]);
  });

  it('shows the error of a failed run', async () => {
    const node = await render(
      payload({
        status: 'failed',
        error: { ename: 'ZeroDivisionError', evalue: 'division by zero' }
      })
    );

    expect(texts(node, '.jp-trackbook-RunSummary-status')).toEqual(['failed']);
    expect(
      node.querySelector('.jp-trackbook-RunSummary-status-failed')
    ).not.toBeNull();
    expect(texts(node, '.jp-trackbook-RunSummary-error')).toEqual([
      'ZeroDivisionError: division by zero'
    ]);
  });

  it('shows no error line for a finished run', async () => {
    const node = await render(payload());

    expect(node.querySelector('.jp-trackbook-RunSummary-error')).toBeNull();
  });

  it('lists each warning with its kind', async () => {
    const node = await render(
      payload({
        warnings: [
          { kind: 'hidden-state', message: 'x comes from a deleted cell' },
          { kind: 'capture', message: 'figure could not be saved' }
        ]
      })
    );

    expect(texts(node, '.jp-trackbook-RunSummary-warningKind')).toEqual([
      'hidden-state',
      'capture'
    ]);
    expect(texts(node, '.jp-trackbook-RunSummary-warning')).toEqual([
      'hidden-state x comes from a deleted cell',
      'capture figure could not be saved'
    ]);
  });

  it('opens the run with its full id', async () => {
    const openRun = jest.fn();
    const node = await render(payload(), openRun);

    const button = node.querySelector<HTMLButtonElement>(
      '.jp-trackbook-RunSummary-open'
    );
    expect(button?.textContent).toBe('Open in trackbook');
    button?.click();
    await Promise.resolve();

    expect(openRun).toHaveBeenCalledWith('01J9Z3Q4N6ABCDEFGHJKMNPQRS');
  });

  it('has no open button when nothing can open runs', async () => {
    const node = await render(payload());

    expect(node.querySelector('button')).toBeNull();
  });

  it('says so when the payload is not a run summary', async () => {
    const node = await render({ status: 'finished' });

    expect(node.textContent).toBe('Not a valid trackbook run summary');
  });

  it('replaces the previous summary when rendered again', async () => {
    const renderer = new RunSummaryRenderer({
      mimeType: RUN_MIME_TYPE
    } as IRenderMime.IRendererOptions);
    for (const name of ['first', 'second']) {
      await renderer.renderModel(
        new MimeModel({
          data: { [RUN_MIME_TYPE]: payload({ name }) }
        })
      );
    }

    expect(texts(renderer.node, '.jp-trackbook-RunSummary-name')).toEqual([
      'second'
    ]);
  });
});

describe('createRunSummaryFactory', () => {
  const bundle = {
    [RUN_MIME_TYPE]: payload(),
    'text/html': '<b>run 01J9Z3Q4N6</b>',
    'text/plain': 'run 01J9Z3Q4N6'
  };

  it('wins over the HTML and text fallbacks of the bundle', () => {
    const registry = new RenderMimeRegistry({
      initialFactories: standardRendererFactories
    });
    registry.addFactory(createRunSummaryFactory());

    expect(registry.preferredMimeType(bundle, 'any')).toBe(RUN_MIME_TYPE);
  });

  it('is used in untrusted notebooks too, as it renders only text', () => {
    const registry = new RenderMimeRegistry({
      initialFactories: standardRendererFactories
    });
    registry.addFactory(createRunSummaryFactory());

    expect(registry.preferredMimeType(bundle, 'ensure')).toBe(RUN_MIME_TYPE);
  });
});
