import { act, fireEvent, render, screen } from '@testing-library/react';
import * as React from 'react';

import {
  FILTER_DEBOUNCE_MS,
  FilterBar,
  isValidTagFilter
} from '../components/FilterBar';
import { flush, setupModel, useFakeTimers } from './helpers';
import { makeRun, makeRuns } from './runsServer';

describe('FilterBar', () => {
  beforeEach(() => {
    useFakeTimers();
  });

  afterEach(() => {
    jest.useRealTimers();
  });

  it('waits for the user to stop typing before filtering', async () => {
    const { server, model } = await setupModel(makeRuns(0, 5));
    render(<FilterBar model={model} />);
    const input = screen.getByRole('searchbox', {
      name: 'Filter runs by text'
    });

    for (const text of ['r', 'ru', 'run 3']) {
      fireEvent.change(input, { target: { value: text } });
      await act(() => jest.advanceTimersByTimeAsync(FILTER_DEBOUNCE_MS - 50));
    }
    expect(server.listRequests).toHaveLength(1);
    expect(model.filters.q).toBe('');

    await act(() => jest.advanceTimersByTimeAsync(50));
    await act(() => flush());

    expect(server.listRequests).toHaveLength(2);
    expect(server.listRequests[1].searchParams.get('q')).toBe('run 3');
    expect(model.runs.map(run => run.name)).toEqual(['run 3']);
  });

  it('filters by status at once', async () => {
    const { server, model } = await setupModel([
      makeRun(1, { status: 'failed' }),
      makeRun(0)
    ]);
    render(<FilterBar model={model} />);

    fireEvent.change(screen.getByRole('combobox', { name: 'Status' }), {
      target: { value: 'failed' }
    });
    await act(() => flush());

    expect(server.listRequests[1].searchParams.get('status')).toBe('failed');
    expect(model.runs).toHaveLength(1);
  });

  it('sends a tag filter only once it reads key=value', async () => {
    const { server, model } = await setupModel([
      makeRun(1, { tags: { team: 'b' } }),
      makeRun(0)
    ]);
    render(<FilterBar model={model} />);
    const input = screen.getByRole('combobox', { name: /tag/ });

    fireEvent.change(input, { target: { value: 'team' } });
    await act(() => jest.advanceTimersByTimeAsync(FILTER_DEBOUNCE_MS));
    expect(input).toHaveAttribute('aria-invalid', 'true');
    expect(server.listRequests).toHaveLength(1);

    fireEvent.change(input, { target: { value: 'team=b' } });
    await act(() => jest.advanceTimersByTimeAsync(FILTER_DEBOUNCE_MS));
    await act(() => flush());

    expect(server.listRequests[1].searchParams.get('tag')).toBe('team=b');
    expect(model.runs.map(run => run.id)).toEqual(['run-000001']);
  });

  it('shows the filters of a restored state', async () => {
    const { model } = await setupModel([]);
    render(<FilterBar model={model} />);

    act(() => model.restoreState({ filters: { q: 'lr=0.1', notebook: 'a' } }));

    expect(
      screen.getByRole('searchbox', { name: 'Filter runs by text' })
    ).toHaveValue('lr=0.1');
    expect(
      screen.getByRole('combobox', { name: 'Filter runs by notebook' })
    ).toHaveValue('a');
    await act(() => flush());
  });
});

describe('isValidTagFilter', () => {
  it('accepts empty and key=value only', () => {
    expect(isValidTagFilter('')).toBe(true);
    expect(isValidTagFilter('a=b')).toBe(true);
    expect(isValidTagFilter('a=')).toBe(true);
    expect(isValidTagFilter('a')).toBe(false);
    expect(isValidTagFilter('=b')).toBe(false);
  });
});
