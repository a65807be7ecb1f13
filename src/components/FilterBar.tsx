/**
 * Filters of the runs list: free text, status, notebook and tag.
 */
import { HTMLSelect, InputGroup } from '@jupyterlab/ui-components';
import * as React from 'react';

import { RunsModel } from '../model';
import { IRunFilters } from '../panelState';
import { RUN_STATUSES } from '../runSummary';
import { useDebounced, useSignals } from './hooks';
import { useTrans } from './trans';

/**
 * Milliseconds of quiet typing before a text filter applies.
 */
export const FILTER_DEBOUNCE_MS = 300;

/**
 * Whether a tag filter can be sent: empty, or `key=value` with a key.
 *
 * @param tag - What the user typed.
 */
export function isValidTagFilter(tag: string): boolean {
  const text = tag.trim();
  return text === '' || /^[^=]+=/.test(text);
}

/**
 * Properties of the filter bar.
 */
export interface IFilterBarProps {
  model: RunsModel;
}

/**
 * The filter bar above the runs table.
 */
export function FilterBar(props: IFilterBarProps): JSX.Element {
  const { model } = props;
  useSignals(model.queryChanged, model.runsChanged);
  const trans = useTrans();
  const filters = model.filters;
  const [q, setQ] = React.useState(filters.q);
  const [notebook, setNotebook] = React.useState(filters.notebook);
  const [tag, setTag] = React.useState(filters.tag);

  // Follow the model when its filters change from elsewhere (a restored state).
  React.useEffect(() => setQ(filters.q), [filters.q]);
  React.useEffect(() => setNotebook(filters.notebook), [filters.notebook]);
  React.useEffect(() => setTag(filters.tag), [filters.tag]);

  const apply = (change: Partial<IRunFilters>) => model.setFilters(change);
  useDebounced(q, FILTER_DEBOUNCE_MS, value => apply({ q: value }));
  useDebounced(notebook, FILTER_DEBOUNCE_MS, value =>
    apply({ notebook: value })
  );
  useDebounced(tag, FILTER_DEBOUNCE_MS, value => {
    if (isValidTagFilter(value)) {
      apply({ tag: value.trim() });
    }
  });

  const notebooks = Array.from(
    new Set(
      model.runs
        .map(run => run.notebook)
        .filter((path): path is string => !!path)
    )
  ).sort();
  const listId = React.useId();

  return (
    <div
      className="jp-trackbook-FilterBar"
      role="search"
      aria-label={trans.__('Filter runs')}
    >
      <InputGroup
        type="search"
        className="jp-trackbook-FilterBar-text"
        placeholder={trans.__('Filter runs')}
        aria-label={trans.__('Filter runs by text')}
        value={q}
        onChange={event => setQ(event.currentTarget.value)}
      />
      <div className="jp-trackbook-FilterBar-row">
        <HTMLSelect
          aria-label={trans.__('Status')}
          className="jp-trackbook-FilterBar-status"
          value={filters.status}
          onChange={event => apply({ status: event.currentTarget.value })}
          options={[
            { label: trans.__('Any status'), value: '' },
            ...RUN_STATUSES.map(status => ({ label: status, value: status }))
          ]}
        />
        <InputGroup
          type="search"
          className="jp-trackbook-FilterBar-notebook"
          placeholder={trans.__('Notebook')}
          aria-label={trans.__('Filter runs by notebook')}
          list={`${listId}-notebooks`}
          value={notebook}
          onChange={event => setNotebook(event.currentTarget.value)}
        />
        <datalist id={`${listId}-notebooks`}>
          {notebooks.map(path => (
            <option key={path} value={path} />
          ))}
        </datalist>
        <InputGroup
          type="search"
          className="jp-trackbook-FilterBar-tag"
          placeholder={trans.__('tag key=value')}
          aria-label={trans.__('Filter runs by tag (key=value)')}
          aria-invalid={!isValidTagFilter(tag)}
          list={`${listId}-tags`}
          value={tag}
          onChange={event => setTag(event.currentTarget.value)}
        />
        <datalist id={`${listId}-tags`}>
          {model.tagKeys.map(key => (
            <option key={key} value={`${key}=`} />
          ))}
        </datalist>
      </div>
    </div>
  );
}
