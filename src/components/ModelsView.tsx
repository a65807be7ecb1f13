/**
 * Models recorded by runs, and the versions of one model.
 */
import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatBytes, formatTime, relativeTime } from '../format';
import { RunsModel } from '../model';
import { Message, StatusBadge, shortId, useNow } from './common';
import { useLoad } from './hooks';
import { useTrans } from './trans';

/**
 * Properties of the models list.
 */
export interface IModelsViewProps {
  model: RunsModel;
}

/**
 * The list of models.
 */
export function ModelsView(props: IModelsViewProps): JSX.Element {
  const trans = useTrans();
  const { model } = props;
  const now = useNow();
  const [loaded, reload] = useLoad(() => model.client.listModels(), 'models');
  return (
    <div className="jp-trackbook-Models">
      <div className="jp-trackbook-ViewBar">
        <span className="jp-trackbook-ViewBar-title">{trans.__('Models')}</span>
        <Button small minimal onClick={reload}>
          {trans.__('Reload')}
        </Button>
      </div>
      {loaded.status === 'loading' ? (
        <Message>{trans.__('Loading models…')}</Message>
      ) : loaded.status === 'failed' ? (
        <Message kind="error">{`Could not load models: ${loaded.message}`}</Message>
      ) : loaded.value.length === 0 ? (
        <Message>{trans.__('No model files recorded yet.')}</Message>
      ) : (
        <ul
          className="jp-trackbook-Models-list"
          aria-label={trans.__('Models')}
        >
          {loaded.value.map(item => (
            <li key={item.name} className="jp-trackbook-Models-item">
              <button
                type="button"
                className="jp-trackbook-Models-name"
                onClick={() =>
                  model.setView({ kind: 'model', name: item.name })
                }
              >
                {item.name}
              </button>
              <span className="jp-trackbook-Models-meta">
                {[
                  `${item.versions} version${item.versions === 1 ? '' : 's'}`,
                  item.latest
                    ? relativeTime(item.latest.recorded_at, now)
                    : null,
                  item.latest ? formatBytes(item.latest.size) : null
                ]
                  .filter(Boolean)
                  .join(' · ')}
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

/**
 * Properties of the model versions view.
 */
export interface IModelVersionsProps {
  model: RunsModel;
  name: string;
}

/**
 * The versions of one model, each linking to its run.
 */
export function ModelVersions(props: IModelVersionsProps): JSX.Element {
  const trans = useTrans();
  const { model, name } = props;
  const [loaded] = useLoad(() => model.client.getModel(name), name);
  return (
    <div className="jp-trackbook-Models">
      <div className="jp-trackbook-ViewBar">
        <Button small minimal onClick={() => model.setView({ kind: 'models' })}>
          {trans.__('← Models')}
        </Button>
        <span className="jp-trackbook-ViewBar-title">{name}</span>
      </div>
      {loaded.status === 'loading' ? (
        <Message>{trans.__('Loading versions…')}</Message>
      ) : loaded.status === 'failed' ? (
        <Message kind="error">{`Could not load model ${name}: ${loaded.message}`}</Message>
      ) : (
        <table
          className="jp-trackbook-Versions"
          aria-label={trans.__('Versions')}
        >
          <thead>
            <tr>
              <th scope="col">{trans.__('Version')}</th>
              <th scope="col">{trans.__('Run')}</th>
              <th scope="col">{trans.__('Recorded')}</th>
              <th scope="col">{trans.__('Size')}</th>
              <th scope="col">{trans.__('File')}</th>
            </tr>
          </thead>
          <tbody>
            {loaded.value.versions.map(version => (
              <tr key={`${version.version}:${version.artifact_id}`}>
                <td>{String(version.version)}</td>
                <td>
                  <button
                    type="button"
                    className="jp-trackbook-Versions-run"
                    title={`Open run ${version.run_id}`}
                    onClick={() => model.openRun(version.run_id)}
                  >
                    {version.run_name ?? shortId(version.run_id)}
                  </button>
                  {version.run_status ? (
                    <StatusBadge status={version.run_status} />
                  ) : null}
                </td>
                <td>{formatTime(version.recorded_at)}</td>
                <td>{formatBytes(version.size)}</td>
                <td>
                  {version.artifact_id ? (
                    <a
                      href={model.client.artifactUrl(
                        version.run_id,
                        version.artifact_id
                      )}
                      download
                    >
                      {trans.__('Download')}
                    </a>
                  ) : null}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      )}
    </div>
  );
}
