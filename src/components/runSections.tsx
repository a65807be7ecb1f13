/**
 * The facets of a run, one component each, as the run detail shows them.
 */
import * as React from 'react';

import { formatBytes, formatMetric, formatValue, stripAnsi } from '../format';
import {
  IArtifact,
  IDependency,
  IHistoryEntry,
  IRunDetail,
  IRunFailure,
  IRunInput,
  IWarning
} from '../types';
import { KeyValueTable, Section } from './common';
import { StepChart, metricSeries, steppedMetrics } from './StepChart';
import { useTrans } from './trans';

/**
 * Capture problems, set apart from the rest.
 */
export function WarningsSection(props: {
  warnings: readonly IWarning[];
}): JSX.Element | null {
  const trans = useTrans();
  if (props.warnings.length === 0) {
    return null;
  }
  return (
    <Section
      title={trans.__('Warnings')}
      count={props.warnings.length}
      className="jp-trackbook-Warnings"
    >
      <ul className="jp-trackbook-Warnings-list">
        {props.warnings.map((warning, index) => (
          <li key={index} className="jp-trackbook-Warning">
            <span className="jp-trackbook-Warning-kind">{warning.kind}</span>
            <span className="jp-trackbook-Warning-message">
              {warning.message}
            </span>
          </li>
        ))}
      </ul>
    </Section>
  );
}

/**
 * The exception and its traceback (ANSI colours removed).
 */
export function ErrorSection(props: {
  error: IRunFailure | null;
}): JSX.Element | null {
  const trans = useTrans();
  const { error } = props;
  if (!error) {
    return null;
  }
  return (
    <Section title={trans.__('Error')} className="jp-trackbook-Error">
      <div className="jp-trackbook-Error-summary">
        {error.evalue ? `${error.ename}: ${error.evalue}` : error.ename}
      </div>
      {error.traceback.length > 0 ? (
        <pre
          className="jp-trackbook-Error-traceback"
          aria-label={trans.__('Traceback')}
        >
          {stripAnsi(error.traceback.join('\n'))}
        </pre>
      ) : null}
    </Section>
  );
}

/**
 * Parameters as a key-value table.
 */
export function ParamsSection(props: { run: IRunDetail }): JSX.Element {
  const trans = useTrans();
  const entries = Object.entries(props.run.params).sort(([a], [b]) =>
    a.localeCompare(b)
  );
  return (
    <Section title={trans.__('Parameters')} count={entries.length}>
      <KeyValueTable
        label={trans.__('Parameters')}
        rows={entries.map(([key, value]) => [key, formatValue(value)])}
        empty={trans.__('No parameters')}
      />
    </Section>
  );
}

/**
 * Latest metric values, and a chart for each metric logged at several steps.
 */
export function MetricsSection(props: { run: IRunDetail }): JSX.Element {
  const trans = useTrans();
  const { run } = props;
  const entries = Object.entries(run.metrics).sort(([a], [b]) =>
    a.localeCompare(b)
  );
  const stepped = steppedMetrics(run.metric_history);
  return (
    <Section title={trans.__('Metrics')} count={entries.length}>
      <KeyValueTable
        label={trans.__('Metrics')}
        rows={entries.map(([key, value]) => [key, formatMetric(value)])}
        empty={trans.__('No metrics')}
      />
      {stepped.map(key => (
        <div key={key} className="jp-trackbook-MetricChart">
          <div className="jp-trackbook-MetricChart-title">{key}</div>
          <StepChart
            title={`${key} by step`}
            series={[
              { label: key, points: metricSeries(run.metric_history, key) }
            ]}
          />
        </div>
      ))}
    </Section>
  );
}

/**
 * Seeds the run set.
 */
export function SeedsSection(props: { run: IRunDetail }): JSX.Element {
  const trans = useTrans();
  const entries = Object.entries(props.run.seeds);
  return (
    <Section title={trans.__('Seeds')} count={entries.length}>
      <KeyValueTable
        label={trans.__('Seeds')}
        rows={entries.map(([key, value]) => [key, formatValue(value)])}
        empty={trans.__('No seeds')}
      />
    </Section>
  );
}

/**
 * Data inputs: fingerprint, shape and, on demand, schema and profile.
 */
export function InputsSection(props: {
  inputs: readonly IRunInput[];
}): JSX.Element {
  const trans = useTrans();
  return (
    <Section title={trans.__('Inputs')} count={props.inputs.length}>
      {props.inputs.length === 0 ? (
        <div className="jp-trackbook-Empty">{trans.__('No data inputs')}</div>
      ) : (
        <ul className="jp-trackbook-Inputs">
          {props.inputs.map((input, index) => (
            <li key={`${index}:${input.name}`} className="jp-trackbook-Input">
              <div className="jp-trackbook-Input-header">
                <span className="jp-trackbook-Input-name">{input.name}</span>
                <span className="jp-trackbook-Input-kind">{input.kind}</span>
                {input.shape !== null ? (
                  <span className="jp-trackbook-Input-shape">
                    {formatValue(input.shape)}
                  </span>
                ) : null}
              </div>
              <code
                className="jp-trackbook-Input-fingerprint"
                title={input.fingerprint}
              >
                {input.fingerprint}
              </code>
              {input.path ? (
                <div className="jp-trackbook-Input-path">
                  {input.path}
                  {input.size !== null ? ` (${formatBytes(input.size)})` : ''}
                </div>
              ) : null}
              {input.schema !== null ? (
                <details className="jp-trackbook-Input-schema">
                  <summary>{trans.__('Schema')}</summary>
                  <SchemaTable schema={input.schema} />
                </details>
              ) : null}
              {input.profile !== null ? (
                <details className="jp-trackbook-Input-profile">
                  <summary>{trans.__('Profile')}</summary>
                  <pre>{JSON.stringify(input.profile, null, 2)}</pre>
                </details>
              ) : null}
            </li>
          ))}
        </ul>
      )}
    </Section>
  );
}

function SchemaTable(props: { schema: IRunInput['schema'] }): JSX.Element {
  const trans = useTrans();
  const { schema } = props;
  if (typeof schema === 'object' && schema !== null && !Array.isArray(schema)) {
    return (
      <KeyValueTable
        label={trans.__('Schema')}
        rows={Object.entries(schema).map(([column, dtype]) => [
          column,
          formatValue(dtype)
        ])}
      />
    );
  }
  return <pre>{formatValue(schema)}</pre>;
}

/**
 * Figures as thumbnails, models and other files as download links.
 */
export function ArtifactsSection(props: {
  artifacts: readonly IArtifact[];
  url: (artifactId: string) => string;
}): JSX.Element {
  const trans = useTrans();
  const figures = props.artifacts.filter(
    artifact =>
      artifact.kind === 'figure' && artifact.media_type.startsWith('image/')
  );
  const models = props.artifacts.filter(artifact => artifact.kind === 'model');
  const files = props.artifacts.filter(
    artifact => !figures.includes(artifact) && !models.includes(artifact)
  );
  return (
    <>
      <Section title={trans.__('Figures')} count={figures.length}>
        {figures.length === 0 ? (
          <div className="jp-trackbook-Empty">{trans.__('No figures')}</div>
        ) : (
          <div className="jp-trackbook-Figures">
            {figures.map(figure => (
              <a
                key={figure.id}
                className="jp-trackbook-Figure"
                href={props.url(figure.id)}
                target="_blank"
                rel="noopener noreferrer"
                title={figure.name}
              >
                <img
                  src={props.url(figure.id)}
                  alt={figure.name}
                  loading="lazy"
                />
              </a>
            ))}
          </div>
        )}
      </Section>
      <Section title={trans.__('Models')} count={models.length}>
        <DownloadList
          artifacts={models}
          url={props.url}
          empty={trans.__('No models')}
        />
      </Section>
      {files.length > 0 ? (
        <Section title={trans.__('Files')} count={files.length}>
          <DownloadList
            artifacts={files}
            url={props.url}
            empty={trans.__('No files')}
          />
        </Section>
      ) : null}
    </>
  );
}

function DownloadList(props: {
  artifacts: readonly IArtifact[];
  url: (artifactId: string) => string;
  empty: string;
}): JSX.Element {
  if (props.artifacts.length === 0) {
    return <div className="jp-trackbook-Empty">{props.empty}</div>;
  }
  return (
    <ul className="jp-trackbook-Downloads">
      {props.artifacts.map(artifact => (
        <li key={artifact.id}>
          <a href={props.url(artifact.id)} download={artifact.name}>
            {artifact.name || artifact.id}
          </a>
          <span className="jp-trackbook-Downloads-meta">
            {[artifact.media_type, formatBytes(artifact.size)]
              .filter(Boolean)
              .join(' · ')}
          </span>
        </li>
      ))}
    </ul>
  );
}

/**
 * Variables the cell used and the cells that defined them.
 */
export function DependenciesSection(props: {
  dependencies: readonly IDependency[];
}): JSX.Element | null {
  const trans = useTrans();
  if (props.dependencies.length === 0) {
    return null;
  }
  return (
    <Section
      title={trans.__('Dependencies')}
      count={props.dependencies.length}
      open={false}
    >
      <KeyValueTable
        label={trans.__('Dependencies')}
        rows={props.dependencies.map(dependency => [
          dependency.name,
          dependency.execution_count !== null
            ? `cell [${dependency.execution_count}]`
            : (dependency.cell_id ?? '')
        ])}
      />
    </Section>
  );
}

/**
 * The execution history that led to the run, collapsed by default.
 */
export function HistorySection(props: {
  history: readonly IHistoryEntry[];
}): JSX.Element | null {
  const trans = useTrans();
  if (props.history.length === 0) {
    return null;
  }
  return (
    <Section
      title={trans.__('History')}
      count={props.history.length}
      open={false}
    >
      <ol className="jp-trackbook-History">
        {props.history.map((entry, index) => (
          <li key={index} className="jp-trackbook-History-entry">
            <span className="jp-trackbook-History-count">
              {`[${entry.execution_count ?? ' '}]`}
            </span>
            <pre className="jp-trackbook-History-source">{entry.source}</pre>
          </li>
        ))}
      </ol>
    </Section>
  );
}

/**
 * Captured stdout and stderr, collapsed by default.
 */
export function OutputSection(props: {
  stdout: string;
  stderr: string;
}): JSX.Element | null {
  const trans = useTrans();
  if (!props.stdout && !props.stderr) {
    return null;
  }
  return (
    <Section title={trans.__('Output')} open={false}>
      {props.stdout ? (
        <pre className="jp-trackbook-Output" aria-label={trans.__('stdout')}>
          {stripAnsi(props.stdout)}
        </pre>
      ) : null}
      {props.stderr ? (
        <pre
          className="jp-trackbook-Output jp-trackbook-Output-stderr"
          aria-label={trans.__('stderr')}
        >
          {stripAnsi(props.stderr)}
        </pre>
      ) : null}
    </Section>
  );
}
