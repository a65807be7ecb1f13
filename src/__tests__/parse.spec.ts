import {
  metricValue,
  parseModel,
  parseModels,
  parseRunDetail,
  parseRunsPage,
  UnexpectedAnswerError
} from '../parse';

describe('parse', () => {
  it('rejects a body that is not a runs page', () => {
    expect(() => parseRunsPage({ items: [] })).toThrow(UnexpectedAnswerError);
    expect(() => parseRunDetail({ name: 'no id' })).toThrow(
      UnexpectedAnswerError
    );
    expect(() => parseModels(null)).toThrow(UnexpectedAnswerError);
    expect(() => parseModel({})).toThrow(UnexpectedAnswerError);
  });

  it('gives missing or mistyped fields empty values', () => {
    const page = parseRunsPage({
      runs: [{ id: 'a', name: 3, params: 'x', metrics: { m: 'high' } }, 'junk'],
      next_cursor: 7
    });

    expect(page).toEqual({
      runs: [
        {
          id: 'a',
          name: null,
          status: 'unknown',
          notebook: null,
          started_at: null,
          ended_at: null,
          duration_s: null,
          params: {},
          metrics: {},
          tags: {},
          warnings_count: 0,
          replay_of: null
        }
      ],
      next_cursor: null,
      metric_keys: [],
      param_keys: [],
      tag_keys: [],
      total: 1
    });
  });

  it('reads a sparse run detail without failing', () => {
    const run = parseRunDetail({
      id: 'r',
      environment: { packages: { numpy: '1.0', bad: {} } },
      error: { traceback: ['a', 1] },
      artifacts: [{ name: 'no id' }, { id: 'x' }]
    });

    expect(run.environment?.packages).toEqual({ numpy: '1.0' });
    expect(run.error).toEqual({ ename: 'Error', evalue: '', traceback: ['a'] });
    expect(run.artifacts).toEqual([
      {
        id: 'x',
        name: '',
        kind: 'file',
        media_type: 'application/octet-stream',
        size: null
      }
    ]);
    expect(run.code).toBe('');
    expect(run.metric_history).toEqual([]);
  });

  it('reads metric values', () => {
    expect(metricValue(1.5)).toBe(1.5);
    expect(metricValue('inf')).toBe('inf');
    expect(metricValue(NaN)).toBe('nan');
    expect(metricValue(-Infinity)).toBe('-inf');
    expect(metricValue(null)).toBe('nan');
    expect(metricValue('1.5')).toBeNull();
  });
});
