/**
 * The sidebar's React root: the handshake gate, the navigation and the view
 * the model says to show.
 */
import { TranslationBundle } from '@jupyterlab/translation';
import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { RunsModel } from '../model';
import { CompareView } from './CompareView';
import { ColumnPicker } from './ColumnPicker';
import { Message } from './common';
import { FilterBar } from './FilterBar';
import { useSignals } from './hooks';
import { ModelVersions, ModelsView } from './ModelsView';
import { IRunActions, RunDetail } from './RunDetail';
import { RunsTable } from './RunsTable';
import { TranslationContext, useTrans } from './trans';

/**
 * Properties of the sidebar's root component.
 */
export interface ITrackbookAppProps extends IRunActions {
  model: RunsModel;
  /**
   * Check the server again (after a failed handshake).
   */
  onRetry?: () => void;
  /**
   * Height of the runs table while it cannot be measured (tests).
   */
  tableFallbackHeight?: number;
  /**
   * Translations of the `trackbook` domain; English if omitted.
   */
  trans?: TranslationBundle;
}

/**
 * The whole sidebar.
 */
export function TrackbookApp(props: ITrackbookAppProps): JSX.Element {
  const content = <AppContent {...props} />;
  return props.trans ? (
    <TranslationContext.Provider value={props.trans}>
      {content}
    </TranslationContext.Provider>
  ) : (
    content
  );
}

/**
 * The sidebar, inside its translation context.
 */
function AppContent(props: ITrackbookAppProps): JSX.Element {
  const trans = useTrans();
  const { model } = props;
  useSignals(model.handshakeChanged, model.viewChanged);
  const handshake = model.handshake;

  if (handshake === null) {
    return (
      <div className="jp-trackbook-App">
        <Message>{trans.__('Connecting to the trackbook server…')}</Message>
      </div>
    );
  }
  if (
    handshake.status === 'not-enabled' ||
    handshake.status === 'unreachable'
  ) {
    return (
      <div className="jp-trackbook-App">
        <Message kind="error">
          <p>{handshake.message}</p>
          {props.onRetry ? (
            <Button small onClick={props.onRetry}>
              {trans.__('Try again')}
            </Button>
          ) : null}
        </Message>
      </div>
    );
  }

  const view = model.view;
  const section =
    view.kind === 'models' || view.kind === 'model' ? 'models' : 'runs';
  return (
    <div className="jp-trackbook-App">
      {handshake.status === 'mismatch' ? (
        <Message kind="warning">{handshake.message}</Message>
      ) : null}
      <nav
        className="jp-trackbook-Nav"
        aria-label={trans.__('trackbook sections')}
      >
        <NavButton
          active={section === 'runs'}
          onClick={() => model.setView({ kind: 'runs' })}
        >
          {trans.__('Runs')}
        </NavButton>
        <NavButton
          active={section === 'models'}
          onClick={() => model.setView({ kind: 'models' })}
        >
          {trans.__('Models')}
        </NavButton>
      </nav>
      <div className="jp-trackbook-App-view">
        {view.kind === 'runs' ? (
          <RunsView model={model} fallbackHeight={props.tableFallbackHeight} />
        ) : view.kind === 'run' ? (
          <RunDetail
            key={view.runId}
            model={model}
            runId={view.runId}
            openCell={props.openCell}
            copy={props.copy}
            languages={props.languages}
            replays={props.replays}
          />
        ) : view.kind === 'compare' ? (
          <CompareView model={model} runIds={view.runIds} />
        ) : view.kind === 'models' ? (
          <ModelsView model={model} />
        ) : (
          <ModelVersions key={view.name} model={model} name={view.name} />
        )}
      </div>
    </div>
  );
}

function NavButton(props: {
  active: boolean;
  onClick: () => void;
  children: React.ReactNode;
}): JSX.Element {
  return (
    <button
      type="button"
      className={`jp-trackbook-Nav-item${props.active ? ' jp-mod-active' : ''}`}
      aria-current={props.active ? 'page' : undefined}
      onClick={props.onClick}
    >
      {props.children}
    </button>
  );
}

/**
 * Filters, table toolbar and the runs table.
 */
function RunsView(props: {
  model: RunsModel;
  fallbackHeight?: number;
}): JSX.Element {
  const trans = useTrans();
  const { model } = props;
  useSignals(model.runsChanged, model.selectionChanged);
  const selected = model.selection.length;
  const filtered = Object.values(model.filters).some(value => value !== '');
  let body: React.ReactNode;
  if (model.runs.length > 0) {
    body = <RunsTable model={model} fallbackHeight={props.fallbackHeight} />;
  } else if (model.loading) {
    body = <Message>{trans.__('Loading runs…')}</Message>;
  } else if (model.error === null) {
    body = (
      <Message>
        {filtered
          ? trans.__('No runs match the filters.')
          : trans.__(
              'No runs yet. Run a notebook cell that starts with %1.',
              '%%track'
            )}
      </Message>
    );
  }
  return (
    <div className="jp-trackbook-RunsView">
      <FilterBar model={model} />
      <div className="jp-trackbook-RunsView-toolbar">
        <span className="jp-trackbook-RunsView-count" aria-live="polite">
          {`${model.total} run${model.total === 1 ? '' : 's'}`}
        </span>
        <ColumnPicker model={model} />
        <Button
          small
          disabled={selected < 2}
          title={trans.__('Compare the selected runs')}
          onClick={() => model.compareSelected()}
        >
          {`Compare (${selected})`}
        </Button>
        {selected > 0 ? (
          <Button small minimal onClick={() => model.setSelection([])}>
            {trans.__('Clear')}
          </Button>
        ) : null}
      </div>
      {model.error !== null ? (
        <Message kind="error">
          {`Could not load runs: ${model.error}`}{' '}
          <Button small minimal onClick={() => void model.refresh()}>
            {trans.__('Retry')}
          </Button>
        </Message>
      ) : null}
      {body}
    </div>
  );
}
