/**
 * A small SVG line chart of metric values against steps.
 */
import * as React from 'react';

import { formatMetricValue } from '../runSummary';
import { metricNumber } from '../format';
import { IMetricPoint } from '../types';
import { useTrans } from './trans';

/**
 * One line of the chart.
 */
export interface IChartSeries {
  label: string;
  points: Array<{ x: number; y: number }>;
}

/**
 * The points of one metric, in step order; a value logged without a step
 * takes its position in the history. Non-finite values are left out.
 *
 * @param history - A run's metric history.
 * @param key - The metric.
 */
export function metricSeries(
  history: readonly IMetricPoint[],
  key: string
): Array<{ x: number; y: number }> {
  return history
    .filter(point => point.key === key)
    .map((point, index) => ({
      x: point.step ?? index,
      y: metricNumber(point.value)
    }))
    .filter(point => Number.isFinite(point.y))
    .sort((a, b) => a.x - b.x);
}

/**
 * The keys of the metrics logged at more than one step.
 *
 * @param history - A run's metric history.
 */
export function steppedMetrics(history: readonly IMetricPoint[]): string[] {
  const counts = new Map<string, number>();
  for (const point of history) {
    counts.set(point.key, (counts.get(point.key) ?? 0) + 1);
  }
  return Array.from(counts)
    .filter(([, count]) => count > 1)
    .map(([key]) => key)
    .sort();
}

/**
 * Properties of the step chart.
 */
export interface IStepChartProps {
  /**
   * What the chart shows, for screen readers and the tooltip.
   */
  title: string;
  series: readonly IChartSeries[];
  width?: number;
  height?: number;
}

const MARGIN = { top: 8, right: 8, bottom: 18, left: 44 };

/**
 * Number of series colours in the stylesheet.
 */
const PALETTE_SIZE = 6;

/**
 * A line chart with one line per series.
 */
export function StepChart(props: IStepChartProps): JSX.Element {
  const trans = useTrans();
  const width = props.width ?? 280;
  const height = props.height ?? 120;
  const points = props.series.flatMap(series => series.points);
  if (points.length === 0) {
    return (
      <div className="jp-trackbook-Empty">
        {trans.__('No finite values to plot')}
      </div>
    );
  }
  const [xMin, xMax] = padded(extent(points.map(point => point.x)));
  const [yMin, yMax] = padded(extent(points.map(point => point.y)));
  const plotWidth = width - MARGIN.left - MARGIN.right;
  const plotHeight = height - MARGIN.top - MARGIN.bottom;
  const x = (value: number) =>
    MARGIN.left + ((value - xMin) / (xMax - xMin)) * plotWidth;
  const y = (value: number) =>
    MARGIN.top + (1 - (value - yMin) / (yMax - yMin)) * plotHeight;

  return (
    <figure className="jp-trackbook-StepChart">
      <svg
        width={width}
        height={height}
        viewBox={`0 0 ${width} ${height}`}
        role="img"
        aria-label={props.title}
      >
        <title>{props.title}</title>
        <line
          className="jp-trackbook-StepChart-axis"
          x1={MARGIN.left}
          y1={MARGIN.top + plotHeight}
          x2={MARGIN.left + plotWidth}
          y2={MARGIN.top + plotHeight}
        />
        <line
          className="jp-trackbook-StepChart-axis"
          x1={MARGIN.left}
          y1={MARGIN.top}
          x2={MARGIN.left}
          y2={MARGIN.top + plotHeight}
        />
        <text
          className="jp-trackbook-StepChart-label"
          x={MARGIN.left - 4}
          y={MARGIN.top + 8}
          textAnchor="end"
        >
          {formatMetricValue(yMax)}
        </text>
        <text
          className="jp-trackbook-StepChart-label"
          x={MARGIN.left - 4}
          y={MARGIN.top + plotHeight}
          textAnchor="end"
        >
          {formatMetricValue(yMin)}
        </text>
        <text
          className="jp-trackbook-StepChart-label"
          x={MARGIN.left}
          y={height - 4}
        >
          {formatMetricValue(xMin)}
        </text>
        <text
          className="jp-trackbook-StepChart-label"
          x={MARGIN.left + plotWidth}
          y={height - 4}
          textAnchor="end"
        >
          {formatMetricValue(xMax)}
        </text>
        {props.series.map((series, index) =>
          series.points.length < 2 ? null : (
            <path
              key={`${index}:${series.label}`}
              className={`jp-trackbook-StepChart-line jp-trackbook-StepChart-series${index % PALETTE_SIZE}`}
              d={series.points
                .map(
                  (point, i) =>
                    `${i === 0 ? 'M' : 'L'}${x(point.x).toFixed(1)},${y(point.y).toFixed(1)}`
                )
                .join(' ')}
            >
              <title>{series.label}</title>
            </path>
          )
        )}
        {props.series.map((series, index) =>
          series.points.length === 1 ? (
            <circle
              key={`dot:${index}`}
              className={`jp-trackbook-StepChart-dot jp-trackbook-StepChart-series${index % PALETTE_SIZE}`}
              cx={x(series.points[0].x)}
              cy={y(series.points[0].y)}
              r={2.5}
            />
          ) : null
        )}
      </svg>
      {props.series.length > 1 ? (
        <figcaption className="jp-trackbook-StepChart-legend">
          {props.series.map((series, index) => (
            <span key={`${index}:${series.label}`}>
              <span
                className={`jp-trackbook-StepChart-swatch jp-trackbook-StepChart-series${index % PALETTE_SIZE}`}
                aria-hidden="true"
              />
              {series.label}
            </span>
          ))}
        </figcaption>
      ) : null}
    </figure>
  );
}

/**
 * A range that is never empty, so that a constant series draws a flat line.
 */
function padded([min, max]: [number, number]): [number, number] {
  if (min !== max) {
    return [min, max];
  }
  const pad = Math.abs(min) > 0 ? Math.abs(min) * 0.1 : 1;
  return [min - pad, max + pad];
}

/**
 * Smallest and largest value (a loop: spreading a long history into
 * `Math.min` overflows the stack).
 */
function extent(values: readonly number[]): [number, number] {
  let min = Infinity;
  let max = -Infinity;
  for (const value of values) {
    min = Math.min(min, value);
    max = Math.max(max, value);
  }
  return [min, max];
}
