/**
 * Full runs, as `GET /trackbook/runs/{id}` sends them.
 */
import { makeRun, RawRun } from './runsServer';

/**
 * Text that would run script if it were ever parsed as HTML.
 */
export const XSS = '<img src=x onerror=alert(1)>';

/**
 * A finished run with every facet filled in.
 *
 * @param index - Position of the run in time (see `makeRun`).
 * @param overrides - Fields to change.
 */
export function makeDetail(
  index: number,
  overrides: Partial<RawRun> = {}
): RawRun {
  return {
    ...makeRun(index),
    cell_id: 'cell-1',
    execution_count: 7,
    code: 'model = fit(x, lr=0.01)\nprint("done")',
    params: { lr: 0.01, layers: [64, 32] },
    metrics: { loss: 0.25, accuracy: 0.9, auc: 'nan' },
    metric_history: [0, 1, 2, 3, 4].map(step => ({
      key: 'loss',
      value: 1 / (step + 1),
      step,
      timestamp: '2024-01-01T00:00:00Z'
    })),
    seeds: { run: 42, numpy: 42 },
    environment: {
      id: 'env1',
      python: '3.12.1',
      platform: 'Linux-6.1-x86_64',
      packages: { numpy: '1.26.4', pandas: '2.2.0', scipy: '1.12.0' },
      modules: { numpy: '1.26.4' },
      git: { commit: 'abc123', branch: 'main', dirty: false },
      kernel: 'python3',
      cpu: { count: 8 },
      gpu: [],
      env_vars: { PYTHONHASHSEED: '0' }
    },
    inputs: [
      {
        name: 'df',
        kind: 'DataFrame',
        fingerprint: 'sha256:feedbeef',
        shape: [100, 3],
        schema: { a: 'int64', b: 'float64', c: 'object' },
        profile: { a: { min: 0, max: 9 } },
        path: null,
        size: null
      }
    ],
    artifacts: [
      {
        id: 'f'.repeat(64),
        name: 'loss.png',
        kind: 'figure',
        media_type: 'image/png',
        size: 2048
      },
      {
        id: 'a'.repeat(64),
        name: 'model',
        kind: 'model',
        media_type: 'application/octet-stream',
        size: 1048576
      }
    ],
    warnings: [
      { kind: 'hidden_state', message: 'x was defined by a deleted cell' }
    ],
    error: null,
    history: [
      { execution_count: 3, source: 'import numpy as np', cell_id: 'c0' },
      { execution_count: 5, source: 'x = np.ones(3)', cell_id: 'c1' }
    ],
    dependencies: [{ name: 'x', execution_count: 5, cell_id: 'c1' }],
    stdout: 'done\n',
    stderr: '',
    user: 'ada',
    host: 'lab-1',
    ...overrides
  };
}
