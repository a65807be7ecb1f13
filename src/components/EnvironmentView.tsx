/**
 * The environment a run ran in: Python, platform, git, and a filterable list
 * of installed packages.
 */
import { InputGroup } from '@jupyterlab/ui-components';
import * as React from 'react';

import { formatValue } from '../format';
import { IEnvironment } from '../types';
import { KeyValueTable, Section } from './common';
import { useTrans } from './trans';

/**
 * Packages shown before the list asks for a filter.
 */
const PACKAGE_LIMIT = 200;

/**
 * Properties of the environment view.
 */
export interface IEnvironmentViewProps {
  environment: IEnvironment | null;
}

/**
 * The environment section of the run detail.
 */
export function EnvironmentView(props: IEnvironmentViewProps): JSX.Element {
  const trans = useTrans();
  const { environment } = props;
  const [filter, setFilter] = React.useState('');
  if (!environment) {
    return (
      <Section title={trans.__('Environment')}>
        <div className="jp-trackbook-Empty">
          {trans.__('No environment recorded')}
        </div>
      </Section>
    );
  }
  const summary: Array<[string, string]> = [
    ['Python', environment.python],
    ['Platform', environment.platform],
    ['Kernel', environment.kernel]
  ];
  for (const [key, value] of Object.entries(environment.git)) {
    summary.push([`git ${key}`, formatValue(value)]);
  }
  for (const [key, value] of Object.entries(environment.cpu)) {
    summary.push([`CPU ${key}`, formatValue(value)]);
  }
  environment.gpu.forEach((gpu, index) => {
    summary.push([`GPU ${index}`, formatValue(gpu)]);
  });

  const needle = filter.trim().toLowerCase();
  const packages = Object.entries(environment.packages)
    .filter(([name]) => name.toLowerCase().includes(needle))
    .sort(([a], [b]) => a.localeCompare(b));
  const shown = packages.slice(0, PACKAGE_LIMIT);
  const envVars = Object.entries(environment.env_vars);

  return (
    <Section title={trans.__('Environment')}>
      <KeyValueTable
        label={trans.__('Environment')}
        rows={summary.filter(([, value]) => value !== '')}
      />
      <details className="jp-trackbook-Packages" open>
        <summary>
          {`Packages (${Object.keys(environment.packages).length})`}
        </summary>
        <InputGroup
          type="search"
          placeholder={trans.__('Filter packages')}
          aria-label={trans.__('Filter packages')}
          value={filter}
          onChange={event => setFilter(event.currentTarget.value)}
        />
        <KeyValueTable
          label={trans.__('Packages')}
          rows={shown}
          empty={trans.__('No package matches')}
        />
        {packages.length > shown.length ? (
          <div className="jp-trackbook-Empty">
            {`${packages.length - shown.length} more: filter to see them`}
          </div>
        ) : null}
      </details>
      {envVars.length > 0 ? (
        <details className="jp-trackbook-EnvVars">
          <summary>{`Environment variables (${envVars.length})`}</summary>
          <KeyValueTable
            label={trans.__('Environment variables')}
            rows={envVars}
          />
        </details>
      ) : null}
    </Section>
  );
}
