import {
  formatBytes,
  formatMetric,
  formatValue,
  relativeTime,
  stripAnsi
} from '../format';

describe('format', () => {
  it('strips ANSI colours and cursor codes', () => {
    expect(
      stripAnsi('\u001b[0;31mValueError\u001b[0m: \u001b[1;32mbad\u001b[39m')
    ).toBe('ValueError: bad');
    expect(stripAnsi('\u001b]8;;http://x\u0007link\u001b]8;;\u0007')).toBe(
      'link'
    );
    expect(stripAnsi('plain <b>text</b>')).toBe('plain <b>text</b>');
  });

  it('writes times relative to now', () => {
    const now = Date.parse('2024-01-10T12:00:00Z');
    expect(relativeTime('2024-01-10T11:59:58Z', now)).toBe('just now');
    expect(relativeTime('2024-01-10T11:59:30Z', now)).toBe('30 s ago');
    expect(relativeTime('2024-01-10T11:59:00Z', now)).toBe('1 min ago');
    expect(relativeTime('2024-01-10T11:30:00Z', now)).toBe('30 min ago');
    expect(relativeTime('2024-01-10T09:00:00Z', now)).toBe('3 h ago');
    expect(relativeTime('2024-01-08T12:00:00Z', now)).toBe('2 d ago');
    expect(relativeTime('2023-01-08T12:00:00Z', now)).toBe('2023-01-08');
    expect(relativeTime(null, now)).toBe('');
    expect(relativeTime('garbage', now)).toBe('garbage');
  });

  it('writes sizes, metrics and values', () => {
    expect(formatBytes(512)).toBe('512 B');
    expect(formatBytes(1536)).toBe('1.5 KB');
    expect(formatBytes(5 * 1024 * 1024)).toBe('5 MB');
    expect(formatBytes(null)).toBe('');
    expect(formatMetric(0.123456)).toBe('0.1235');
    expect(formatMetric('-inf')).toBe('-inf');
    expect(formatMetric(undefined)).toBe('');
    expect(formatValue('text')).toBe('text');
    expect(formatValue({ a: [1, 2] })).toBe('{"a":[1,2]}');
    expect(formatValue(null)).toBe('null');
  });
});
