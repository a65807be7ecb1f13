/**
 * Two or more runs side by side: params, metrics, environment and a metric
 * chart, with differences highlighted.
 */
import { Button, HTMLSelect } from '@jupyterlab/ui-components';
import * as React from 'react';

import { compareMetrics, compareParams, diffEnvironments } from '../diff';
import { IComparedRow, IPackageRow } from '../diff';
import { metricNumber } from '../format';
import { RunsModel } from '../model';
import { IRunDetail } from '../types';
import { Message, Section, StatusBadge, shortId } from './common';
import { useLoad } from './hooks';
import { IChartSeries, StepChart, metricSeries } from './StepChart';
import { useTrans } from './trans';

/**
 * Properties of the comparison view.
 */
export interface ICompareViewProps {
  model: RunsModel;
  runIds: readonly string[];
}

/**
 * The comparison view.
 */
export function CompareView(props: ICompareViewProps): JSX.Element {
  const trans = useTrans();
  const { model, runIds } = props;
  const [loaded] = useLoad(
    () => Promise.all(runIds.map(id => model.client.getRun(id))),
    runIds.join('\n')
  );
  return (
    <div className="jp-trackbook-Compare">
      <div className="jp-trackbook-ViewBar">
        <Button small minimal onClick={() => model.setView({ kind: 'runs' })}>
          {trans.__('← Runs')}
        </Button>
        <span className="jp-trackbook-ViewBar-title">
          {`Comparing ${runIds.length} runs`}
        </span>
      </div>
      {loaded.status === 'loading' ? (
        <Message>{trans.__('Loading runs…')}</Message>
      ) : loaded.status === 'failed' ? (
        <Message kind="error">{`Could not load the runs: ${loaded.message}`}</Message>
      ) : (
        <Comparison model={model} runs={loaded.value} />
      )}
    </div>
  );
}

/**
 * The comparison of loaded runs.
 */
function Comparison(props: {
  model: RunsModel;
  runs: readonly IRunDetail[];
}): JSX.Element {
  const trans = useTrans();
  const { runs, model } = props;
  const [onlyDifferences, setOnlyDifferences] = React.useState(false);
  const heading = (
    <thead>
      <tr>
        <th scope="col">{trans.__('Key')}</th>
        {runs.map(run => (
          <th scope="col" key={run.id}>
            <button
              type="button"
              className="jp-trackbook-Compare-run"
              title={`Open run ${run.id}`}
              onClick={() => model.openRun(run.id)}
            >
              {run.name ?? shortId(run.id)}
            </button>
            <StatusBadge status={run.status} />
          </th>
        ))}
      </tr>
    </thead>
  );
  return (
    <div className="jp-trackbook-Compare-body">
      <label className="jp-trackbook-Compare-only">
        <input
          type="checkbox"
          checked={onlyDifferences}
          onChange={() => setOnlyDifferences(!onlyDifferences)}
        />
        {trans.__('Only differences')}
      </label>
      <Section title={trans.__('Parameters')}>
        <ComparedTable
          label={trans.__('Parameters')}
          heading={heading}
          rows={compareParams(runs)}
          onlyDifferences={onlyDifferences}
        />
      </Section>
      <Section title={trans.__('Metrics')}>
        <ComparedTable
          label={trans.__('Metrics')}
          heading={heading}
          rows={compareMetrics(runs)}
          onlyDifferences={onlyDifferences}
        />
      </Section>
      <Section title={trans.__('Metric chart')}>
        <MetricOverlay runs={runs} />
      </Section>
      <Section title={trans.__('Environment')}>
        <EnvironmentDiff runs={runs} heading={heading} />
      </Section>
    </div>
  );
}

/**
 * Rows of one facet, cells of differing rows highlighted.
 */
function ComparedTable(props: {
  label: string;
  heading: React.ReactNode;
  rows: readonly IComparedRow[];
  onlyDifferences: boolean;
}): JSX.Element {
  const trans = useTrans();
  const rows = props.onlyDifferences
    ? props.rows.filter(row => row.differs)
    : props.rows;
  if (rows.length === 0) {
    return (
      <div className="jp-trackbook-Empty">{trans.__('Nothing to compare')}</div>
    );
  }
  return (
    <div className="jp-trackbook-Compare-scroll">
      <table className="jp-trackbook-Compare-table" aria-label={props.label}>
        {props.heading}
        <tbody>
          {rows.map(row => (
            <tr
              key={row.key}
              className={row.differs ? 'jp-trackbook-Compare-diff' : undefined}
            >
              <th scope="row" title={row.key}>
                {row.key}
              </th>
              {row.values.map((value, index) => (
                <td
                  key={index}
                  title={value}
                  className={
                    value === undefined
                      ? 'jp-trackbook-Compare-missing'
                      : undefined
                  }
                >
                  {value ?? '—'}
                </td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

/**
 * A chosen metric of every run on one chart.
 */
function MetricOverlay(props: { runs: readonly IRunDetail[] }): JSX.Element {
  const trans = useTrans();
  const { runs } = props;
  const keys = Array.from(
    new Set(
      runs.flatMap(run => [
        ...Object.keys(run.metrics),
        ...run.metric_history.map(point => point.key)
      ])
    )
  ).sort();
  const [chosen, setChosen] = React.useState<string>(keys[0] ?? '');
  const key = keys.includes(chosen) ? chosen : (keys[0] ?? '');
  if (!key) {
    return <div className="jp-trackbook-Empty">{trans.__('No metrics')}</div>;
  }
  const series: IChartSeries[] = runs.map(run => {
    let points = metricSeries(run.metric_history, key);
    const latest = run.metrics[key];
    if (points.length === 0 && latest !== undefined) {
      const value = metricNumber(latest);
      points = Number.isFinite(value) ? [{ x: 0, y: value }] : [];
    }
    return { label: run.name ?? shortId(run.id), points };
  });
  return (
    <div className="jp-trackbook-Compare-chart">
      <HTMLSelect
        aria-label={trans.__('Metric to chart')}
        value={key}
        onChange={event => setChosen(event.currentTarget.value)}
        options={keys}
      />
      <StepChart title={`${key} of the compared runs`} series={series} />
    </div>
  );
}

/**
 * Package-by-package difference of the environments.
 */
function EnvironmentDiff(props: {
  runs: readonly IRunDetail[];
  heading: React.ReactNode;
}): JSX.Element {
  const trans = useTrans();
  const [showAll, setShowAll] = React.useState(false);
  const rows = diffEnvironments(props.runs);
  const changed = rows.filter(row => row.change !== 'same');
  const shown: IPackageRow[] = showAll ? rows : changed;
  const pythons = props.runs.map(run => run.environment?.python ?? '');
  const platforms = props.runs.map(run => run.environment?.platform ?? '');
  const header: Array<[string, string[]]> = [
    ['Python', pythons],
    ['Platform', platforms]
  ];
  return (
    <div className="jp-trackbook-EnvDiff">
      <div className="jp-trackbook-EnvDiff-summary">
        {`${changed.length} of ${rows.length} packages differ`}
        <label>
          <input
            type="checkbox"
            checked={showAll}
            onChange={() => setShowAll(!showAll)}
          />
          {trans.__('Show all packages')}
        </label>
      </div>
      <div className="jp-trackbook-Compare-scroll">
        <table
          className="jp-trackbook-Compare-table"
          aria-label={trans.__('Packages')}
        >
          {props.heading}
          <tbody>
            {header.map(([name, values]) => (
              <tr
                key={name}
                className={
                  values.every(value => value === values[0])
                    ? undefined
                    : 'jp-trackbook-Compare-diff'
                }
              >
                <th scope="row">{name}</th>
                {values.map((value, index) => (
                  <td key={index}>{value}</td>
                ))}
              </tr>
            ))}
            {shown.map(row => (
              <tr
                key={row.name}
                data-change={row.change}
                className={
                  row.change === 'same'
                    ? undefined
                    : `jp-trackbook-Compare-diff jp-trackbook-EnvDiff-${row.change}`
                }
              >
                <th scope="row">{row.name}</th>
                {row.versions.map((version, index) => (
                  <td
                    key={index}
                    className={
                      version === undefined
                        ? 'jp-trackbook-Compare-missing'
                        : undefined
                    }
                  >
                    {version ?? '—'}
                  </td>
                ))}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </div>
  );
}
