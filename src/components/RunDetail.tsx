/**
 * One run in full: header, code, and every recorded facet.
 */
import type { IEditorLanguageRegistry } from '@jupyterlab/codemirror';
import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatTime } from '../format';
import { RunsModel } from '../model';
import { OpenCellResult } from '../openCell';
import { formatDuration } from '../runSummary';
import { IRunDetail } from '../types';
import { CodeView } from './CodeView';
import { IReplayActions, ReplayPanel } from './ReplayPanel';
import { EnvironmentView } from './EnvironmentView';
import { Message, Section, StatusBadge } from './common';
import { useLoad, useSignals } from './hooks';
import {
  ArtifactsSection,
  DependenciesSection,
  ErrorSection,
  HistorySection,
  InputsSection,
  MetricsSection,
  OutputSection,
  ParamsSection,
  SeedsSection,
  WarningsSection
} from './runSections';
import { useTrans } from './trans';

/**
 * What the run detail can do in JupyterLab.
 */
export interface IRunActions {
  /**
   * Open the notebook and show the cell; absent without a document manager.
   */
  openCell?: (
    path: string,
    cellId: string | null,
    source: string
  ) => Promise<OpenCellResult>;
  /**
   * Copy text to the clipboard.
   */
  copy?: (text: string) => void;
  /**
   * JupyterLab's languages, for syntax highlighting.
   */
  languages?: IEditorLanguageRegistry | null;
  /**
   * Replay the run; no Replays section without it.
   */
  replays?: IReplayActions;
}

/**
 * Properties of the run detail.
 */
export interface IRunDetailProps extends IRunActions {
  model: RunsModel;
  runId: string;
}

/**
 * The run detail view.
 */
export function RunDetail(props: IRunDetailProps): JSX.Element {
  const trans = useTrans();
  const { model, runId } = props;
  useSignals(model.runsChanged, model.selectionChanged);
  const [loaded, reload] = useLoad(() => model.client.getRun(runId), runId);

  // The list polls the server: when it sees this run change status (a
  // running cell finished), fetch the run again.
  const listed = model.runs.find(run => run.id === runId);
  const shownStatus = loaded.status === 'done' ? loaded.value.status : null;
  React.useEffect(() => {
    if (listed && shownStatus !== null && listed.status !== shownStatus) {
      reload();
    }
  }, [listed?.status, shownStatus]);

  return (
    <div className="jp-trackbook-RunDetail">
      <div className="jp-trackbook-ViewBar">
        <Button small minimal onClick={() => model.setView({ kind: 'runs' })}>
          {trans.__('← Runs')}
        </Button>
        <label className="jp-trackbook-ViewBar-select">
          <input
            type="checkbox"
            checked={model.isSelected(runId)}
            onChange={() => model.toggleSelected(runId)}
          />
          {trans.__('Select for comparison')}
        </label>
        <Button
          small
          minimal
          onClick={reload}
          title={trans.__('Fetch the run again')}
        >
          {trans.__('Reload')}
        </Button>
      </div>
      {loaded.status === 'loading' ? (
        <Message>{trans.__('Loading run…')}</Message>
      ) : loaded.status === 'failed' ? (
        <Message kind="error">{`Could not load run ${runId}: ${loaded.message}`}</Message>
      ) : (
        <RunFacets {...props} run={loaded.value} />
      )}
    </div>
  );
}

/**
 * Everything recorded about a loaded run.
 */
function RunFacets(props: IRunDetailProps & { run: IRunDetail }): JSX.Element {
  const trans = useTrans();
  const { run, model } = props;
  return (
    <div className="jp-trackbook-RunDetail-body">
      <RunHeader {...props} />
      <WarningsSection warnings={run.warnings} />
      <ErrorSection error={run.error} />
      {props.replays ? (
        <ReplayPanel
          {...props.replays}
          runId={run.id}
          openRun={runId => model.openRun(runId)}
        />
      ) : null}
      <Section title={trans.__('Code')}>
        <CodeView
          code={run.code}
          languages={props.languages}
          label={trans.__('Code')}
        />
      </Section>
      <ParamsSection run={run} />
      <MetricsSection run={run} />
      <SeedsSection run={run} />
      <InputsSection inputs={run.inputs} />
      <ArtifactsSection
        artifacts={run.artifacts}
        url={artifactId => model.client.artifactUrl(run.id, artifactId)}
      />
      <EnvironmentView environment={run.environment} />
      <DependenciesSection dependencies={run.dependencies} />
      <HistorySection history={run.history} />
      <OutputSection stdout={run.stdout} stderr={run.stderr} />
    </div>
  );
}

/**
 * Name, id, status, times, origin and tags of a run.
 */
function RunHeader(props: IRunDetailProps & { run: IRunDetail }): JSX.Element {
  const trans = useTrans();
  const { run, model, openCell, copy } = props;
  const [cellMessage, setCellMessage] = React.useState<string | null>(null);
  const origin = [run.user, run.host].filter(Boolean).join('@');
  const tags = Object.entries(run.tags);

  const onOpenCell = async () => {
    if (!openCell || !run.notebook) {
      return;
    }
    setCellMessage(null);
    try {
      const result = await openCell(run.notebook, run.cell_id, run.code);
      setCellMessage(
        result === 'no-notebook'
          ? trans.__('The notebook could not be opened.')
          : result === 'no-cell'
            ? trans.__(
                'The cell was not found in the notebook: it was changed or deleted.'
              )
            : result === 'outside-root'
              ? trans.__(
                  'The notebook is outside the directory JupyterLab serves.'
                )
              : null
      );
    } catch (error) {
      setCellMessage(error instanceof Error ? error.message : String(error));
    }
  };

  return (
    <header className="jp-trackbook-RunHeader">
      <h2 className="jp-trackbook-RunHeader-name">
        {run.name ?? trans.__('Untitled run')}
      </h2>
      <div className="jp-trackbook-RunHeader-line">
        <StatusBadge status={run.status} />
        <code className="jp-trackbook-RunHeader-id">{run.id}</code>
        {copy ? (
          <Button
            small
            minimal
            title={trans.__('Copy the run id')}
            onClick={() => copy(run.id)}
          >
            {trans.__('Copy id')}
          </Button>
        ) : null}
      </div>
      <dl className="jp-trackbook-RunHeader-facts">
        <dt>{trans.__('Started')}</dt>
        <dd>{formatTime(run.started_at)}</dd>
        {run.ended_at ? (
          <>
            <dt>{trans.__('Ended')}</dt>
            <dd>{formatTime(run.ended_at)}</dd>
          </>
        ) : null}
        {run.duration_s !== null ? (
          <>
            <dt>{trans.__('Duration')}</dt>
            <dd>{formatDuration(run.duration_s)}</dd>
          </>
        ) : null}
        {origin ? (
          <>
            <dt>{trans.__('By')}</dt>
            <dd>{origin}</dd>
          </>
        ) : null}
        {run.notebook ? (
          <>
            <dt>{trans.__('Notebook')}</dt>
            <dd>
              <span className="jp-trackbook-RunHeader-notebook">
                {run.notebook}
                {run.execution_count !== null
                  ? ` [${run.execution_count}]`
                  : ''}
              </span>
              {openCell ? (
                <Button small minimal onClick={() => void onOpenCell()}>
                  {trans.__('Open cell')}
                </Button>
              ) : null}
            </dd>
          </>
        ) : null}
        {run.replay_of ? (
          <>
            <dt>{trans.__('Replay of')}</dt>
            <dd>
              <Button
                small
                minimal
                onClick={() => model.openRun(run.replay_of as string)}
              >
                {run.replay_of}
              </Button>
            </dd>
          </>
        ) : null}
      </dl>
      {cellMessage ? <Message kind="warning">{cellMessage}</Message> : null}
      {tags.length > 0 ? (
        <ul className="jp-trackbook-Tags" aria-label={trans.__('Tags')}>
          {tags.map(([key, value]) => (
            <li key={key} className="jp-trackbook-Tag">
              {`${key}=${value}`}
            </li>
          ))}
        </ul>
      ) : null}
    </header>
  );
}
