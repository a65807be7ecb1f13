import {
  formatDuration,
  formatMetricValue,
  parseRunSummary,
  pickMetrics
} from '../runSummary';

describe('formatMetricValue', () => {
  it.each([
    [0.912345, '0.9123'],
    [123.456, '123.5'],
    [0.5, '0.5'],
    [0.000123456, '0.0001235'],
    [1.23456e-7, '1.235e-7'],
    [1234567.8, '1235000'],
    [6.02214076e23, '6.022e+23'],
    [-2.71828, '-2.718'],
    [42, '42'],
    [12345, '12345'],
    [Infinity, 'inf'],
    [-Infinity, '-inf'],
    [NaN, 'nan'],
    [null, 'nan']
  ])('writes %p as %s', (value, expected) => {
    expect(formatMetricValue(value)).toBe(expected);
  });
});

describe('formatDuration', () => {
  it.each([
    [0.4213, '0.42 s'],
    [3, '3 s'],
    [12.34, '12.3 s'],
    [125, '2 min 5 s'],
    [120, '2 min'],
    [3725, '1 h 2 min'],
    [7200, '2 h']
  ])('writes %p seconds as %s', (seconds, expected) => {
    expect(formatDuration(seconds)).toBe(expected);
  });
});

describe('pickMetrics', () => {
  it('keeps payload order and counts what it leaves out', () => {
    const { shown, hidden } = pickMetrics({ b: 1, a: 2, c: 3 }, [], 2);

    expect(shown).toEqual([
      ['b', '1'],
      ['a', '2']
    ]);
    expect(hidden).toBe(1);
  });
});

describe('parseRunSummary', () => {
  it('rejects payloads without an id or a known status', () => {
    expect(parseRunSummary(null)).toBeNull();
    expect(parseRunSummary('run')).toBeNull();
    expect(parseRunSummary({ status: 'finished' })).toBeNull();
    expect(parseRunSummary({ id: 'x', status: 'exploded' })).toBeNull();
  });

  it('fills the optional fields with empty values', () => {
    expect(parseRunSummary({ id: 'x', status: 'running' })).toEqual({
      id: 'x',
      name: null,
      status: 'running',
      duration_s: null,
      metrics: {},
      params_count: 0,
      inputs_count: 0,
      artifacts: 0,
      warnings: [],
      error: null,
      store: ''
    });
  });

  it('drops metric values that are not numbers', () => {
    const summary = parseRunSummary({
      id: 'x',
      status: 'finished',
      metrics: { acc: 0.9, note: 'good', nan: null, nested: { a: 1 } }
    });

    expect(summary?.metrics).toEqual({ acc: 0.9, nan: null });
  });
});
