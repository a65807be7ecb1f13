import { act, render, screen } from '@testing-library/react';
import { Signal } from '@lumino/signaling';
import * as React from 'react';

import { useSignals } from '../components/hooks';

/**
 * A tiny model: a value and a signal that says it changed.
 */
class Counter {
  value = 0;
  readonly changed = new Signal<this, void>(this);

  increment(): void {
    this.value += 1;
    this.changed.emit();
  }
}

/**
 * Changes the model once mounted. A child's effects run before its parent's,
 * so this emits after the parent rendered and before it subscribed: the
 * window in which a network answer can land while the sidebar mounts.
 */
function ChangeOnMount(props: { counter: Counter }): null {
  React.useEffect(() => props.counter.increment(), [props.counter]);
  return null;
}

function Shown(props: { counter: Counter }): JSX.Element {
  useSignals(props.counter.changed);
  return (
    <div>
      <span data-testid="value">{props.counter.value}</span>
      <ChangeOnMount counter={props.counter} />
    </div>
  );
}

describe('useSignals', () => {
  it('does not miss a signal emitted before its effect subscribed', () => {
    const counter = new Counter();
    render(<Shown counter={counter} />);
    expect(screen.getByTestId('value')).toHaveTextContent('1');
  });

  it('renders again on each signal', () => {
    const counter = new Counter();
    render(<Shown counter={counter} />);
    act(() => counter.increment());
    expect(screen.getByTestId('value')).toHaveTextContent('2');
  });
});
