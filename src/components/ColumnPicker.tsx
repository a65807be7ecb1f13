/**
 * Choose which metrics the runs table shows as columns.
 */
import { Button } from '@jupyterlab/ui-components';
import * as React from 'react';

import { RunsModel } from '../model';
import { useSignals } from './hooks';
import { useTrans } from './trans';

/**
 * Properties of the column picker.
 */
export interface IColumnPickerProps {
  model: RunsModel;
}

/**
 * A button that opens a list of metric keys with a checkbox each.
 */
export function ColumnPicker(props: IColumnPickerProps): JSX.Element {
  const { model } = props;
  useSignals(model.queryChanged, model.runsChanged);
  const trans = useTrans();
  const [open, setOpen] = React.useState(false);
  const panelId = React.useId();
  const chosen = model.metricColumns;
  const keys = Array.from(new Set([...chosen, ...model.metricKeys]));

  const toggle = (key: string) => {
    model.setMetricColumns(
      chosen.includes(key)
        ? chosen.filter(column => column !== key)
        : [...chosen, key]
    );
  };

  return (
    <div
      className="jp-trackbook-ColumnPicker"
      onKeyDown={event => {
        if (event.key === 'Escape' && open) {
          event.stopPropagation();
          setOpen(false);
        }
      }}
    >
      <Button
        small
        minimal
        aria-expanded={open}
        aria-controls={panelId}
        title={trans.__('Choose metric columns')}
        onClick={() => setOpen(!open)}
      >
        {trans.__('Columns (%1)', chosen.length)}
      </Button>
      {open ? (
        <div
          id={panelId}
          className="jp-trackbook-ColumnPicker-panel"
          role="group"
          aria-label={trans.__('Metric columns')}
        >
          {keys.length === 0 ? (
            <div className="jp-trackbook-Empty">
              {trans.__('No metrics recorded yet')}
            </div>
          ) : (
            keys.map(key => (
              <label key={key} className="jp-trackbook-ColumnPicker-item">
                <input
                  type="checkbox"
                  checked={chosen.includes(key)}
                  onChange={() => toggle(key)}
                />
                {key}
              </label>
            ))
          )}
          {model.metricColumnsCustomized ? (
            <Button small minimal onClick={() => model.setMetricColumns(null)}>
              {trans.__('Use the default columns')}
            </Button>
          ) : null}
        </div>
      ) : null}
    </div>
  );
}
