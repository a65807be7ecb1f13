import { render, screen } from '@testing-library/react';
import * as React from 'react';

import {
  StepChart,
  metricSeries,
  steppedMetrics
} from '../components/StepChart';
import { IMetricPoint } from '../types';

function point(key: string, value: IMetricPoint['value'], step: number | null) {
  return { key, value, step, timestamp: null };
}

describe('StepChart', () => {
  it('draws one path through every point, in plot coordinates', () => {
    render(
      <StepChart
        title="loss by step"
        width={200}
        height={100}
        series={[
          {
            label: 'loss',
            points: [
              { x: 0, y: 1 },
              { x: 1, y: 0.5 },
              { x: 2, y: 0 }
            ]
          }
        ]}
      />
    );

    const chart = screen.getByRole('img', { name: 'loss by step' });
    const d = chart.querySelector('path')?.getAttribute('d') ?? '';
    const coordinates = d
      .split(' ')
      .map(part => part.slice(1).split(',').map(Number));
    expect(d.startsWith('M')).toBe(true);
    expect(coordinates).toHaveLength(3);
    // x grows left to right, y (a lower loss) goes down the screen.
    expect(coordinates[0][0]).toBeLessThan(coordinates[2][0]);
    expect(coordinates[0][1]).toBeLessThan(coordinates[2][1]);
    for (const [x, y] of coordinates) {
      expect(x).toBeGreaterThanOrEqual(0);
      expect(x).toBeLessThanOrEqual(200);
      expect(y).toBeGreaterThanOrEqual(0);
      expect(y).toBeLessThanOrEqual(100);
    }
  });

  it('draws a flat line for a constant metric', () => {
    render(
      <StepChart
        title="flat"
        series={[
          {
            label: 'c',
            points: [
              { x: 0, y: 3 },
              { x: 5, y: 3 }
            ]
          }
        ]}
      />
    );

    const d = screen.getByRole('img').querySelector('path')?.getAttribute('d');
    const ys = (d ?? '').split(' ').map(part => part.split(',')[1]);
    expect(ys[0]).toBe(ys[1]);
    expect(ys[0]).not.toBe('NaN');
  });

  it('says when there is nothing finite to draw', () => {
    render(<StepChart title="empty" series={[{ label: 'x', points: [] }]} />);

    expect(screen.queryByRole('img')).toBeNull();
    expect(screen.getByText('No finite values to plot')).toBeInTheDocument();
  });

  it('puts a legend under several series', () => {
    render(
      <StepChart
        title="two"
        series={[
          {
            label: 'first',
            points: [
              { x: 0, y: 1 },
              { x: 1, y: 2 }
            ]
          },
          {
            label: 'second',
            points: [
              { x: 0, y: 2 },
              { x: 1, y: 1 }
            ]
          }
        ]}
      />
    );

    expect(screen.getByRole('img').querySelectorAll('path')).toHaveLength(2);
    const legend = document.querySelector('figcaption');
    expect(legend).toHaveTextContent('firstsecond');
  });
});

describe('metricSeries', () => {
  it('orders by step and leaves out non-finite values', () => {
    const history = [
      point('loss', 0.5, 2),
      point('loss', 'nan', 1),
      point('loss', 1, 0),
      point('acc', 0.1, 0),
      point('loss', 'inf', 3)
    ];

    expect(metricSeries(history, 'loss')).toEqual([
      { x: 0, y: 1 },
      { x: 2, y: 0.5 }
    ]);
    expect(steppedMetrics(history)).toEqual(['loss']);
  });

  it('uses the position of values logged without a step', () => {
    expect(
      metricSeries([point('m', 3, null), point('m', 4, null)], 'm')
    ).toEqual([
      { x: 0, y: 3 },
      { x: 1, y: 4 }
    ]);
  });
});
