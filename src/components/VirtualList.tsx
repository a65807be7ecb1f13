/**
 * A windowed list: only the rows in view (plus a few) are in the DOM, so a
 * list of 100,000 runs scrolls as smoothly as one of ten.
 */
import * as React from 'react';

/**
 * The rows in view, from the scroll position.
 *
 * @param scrollTop - Scroll offset of the rows, in pixels.
 * @param viewport - Height available to rows, in pixels.
 * @param itemHeight - Height of one row, in pixels.
 * @param itemCount - Number of rows.
 * @param overscan - Rows rendered beyond each edge, so a fast scroll shows no gap.
 * @returns First and last (inclusive) rendered index; `last < first` when empty.
 */
export function visibleRange(
  scrollTop: number,
  viewport: number,
  itemHeight: number,
  itemCount: number,
  overscan: number
): { first: number; last: number } {
  if (itemCount === 0) {
    return { first: 0, last: -1 };
  }
  const top = Math.max(0, Math.floor(scrollTop / itemHeight));
  const bottom = Math.ceil((scrollTop + viewport) / itemHeight) - 1;
  return {
    first: Math.max(0, top - overscan),
    last: Math.min(itemCount - 1, Math.max(top, bottom) + overscan)
  };
}

/**
 * Properties of the windowed list.
 */
export interface IVirtualListProps {
  /**
   * Number of rows.
   */
  itemCount: number;
  /**
   * Height of every row, in pixels.
   */
  itemHeight: number;
  /**
   * Render row `index`; the list positions it.
   */
  renderItem: (index: number) => React.ReactNode;
  /**
   * A stable key of row `index` (a run id): keeps the rows in view in place
   * when rows are inserted above them.
   */
  itemKey: (index: number) => string;
  /**
   * Rows kept beyond each edge of the view.
   */
  overscan?: number;
  /**
   * Height used while the list cannot be measured (hidden, or no layout).
   */
  fallbackHeight?: number;
  /**
   * Content drawn above the rows and kept in view (column headers).
   */
  header?: React.ReactNode;
  /**
   * Height of `header`, in pixels.
   */
  headerHeight?: number;
  /**
   * Minimum width of the rows (the sum of the column widths).
   */
  minWidth?: number;
  /**
   * Row to bring into view (the focused row).
   */
  scrollToIndex?: number | null;
  /**
   * Called when the last row comes into view (load the next page).
   */
  onEndReached?: () => void;
  /**
   * Class of the scrolling element.
   */
  className?: string;
  /**
   * Accessible role and label of the list.
   */
  role?: string;
  ariaLabel?: string;
  ariaRowCount?: number;
}

/**
 * A vertical list that renders only the rows in view.
 */
export function VirtualList(props: IVirtualListProps): JSX.Element {
  const {
    itemCount,
    itemHeight,
    overscan = 5,
    fallbackHeight = 400,
    headerHeight = 0
  } = props;
  const container = React.useRef<HTMLDivElement>(null);
  const [scrollTop, setScrollTop] = React.useState(0);
  const [height, setHeight] = React.useState(0);

  React.useLayoutEffect(() => {
    const node = container.current;
    if (!node) {
      return;
    }
    setHeight(node.clientHeight);
    if (typeof ResizeObserver === 'undefined') {
      return;
    }
    const observer = new ResizeObserver(() => setHeight(node.clientHeight));
    observer.observe(node);
    return () => observer.disconnect();
  }, []);

  const viewport = Math.max(0, (height || fallbackHeight) - headerHeight);
  const { first, last } = visibleRange(
    scrollTop,
    viewport,
    itemHeight,
    itemCount,
    overscan
  );

  // Keep the top row in place when rows are inserted above it.
  const anchor = React.useRef<{ key: string; index: number } | null>(null);
  React.useLayoutEffect(() => {
    const node = container.current;
    const previous = anchor.current;
    const top = Math.min(Math.floor(scrollTop / itemHeight), itemCount - 1);
    if (node && previous && scrollTop > 0 && top >= 0) {
      const keyNow =
        previous.index < itemCount ? props.itemKey(previous.index) : null;
      if (keyNow !== previous.key) {
        let index = -1;
        for (let i = 0; i < itemCount; i++) {
          if (props.itemKey(i) === previous.key) {
            index = i;
            break;
          }
        }
        if (index >= 0) {
          node.scrollTop += (index - previous.index) * itemHeight;
          setScrollTop(node.scrollTop);
          anchor.current = { key: previous.key, index };
          return;
        }
      }
    }
    anchor.current = top >= 0 ? { key: props.itemKey(top), index: top } : null;
  });

  // Bring the focused row into view.
  React.useLayoutEffect(() => {
    const node = container.current;
    const index = props.scrollToIndex;
    if (!node || index === null || index === undefined || index < 0) {
      return;
    }
    const top = index * itemHeight;
    if (top < node.scrollTop) {
      node.scrollTop = top;
    } else if (top + itemHeight > node.scrollTop + viewport) {
      node.scrollTop = top + itemHeight - viewport;
    }
    setScrollTop(node.scrollTop);
  }, [props.scrollToIndex]);

  const { onEndReached } = props;
  React.useEffect(() => {
    if (onEndReached && itemCount > 0 && last >= itemCount - 1) {
      onEndReached();
    }
  }, [last, itemCount, onEndReached]);

  const rows: React.ReactNode[] = [];
  for (let index = first; index <= last; index++) {
    rows.push(
      <div
        key={props.itemKey(index)}
        className="jp-trackbook-VirtualList-item"
        role="presentation"
        style={{ top: index * itemHeight, height: itemHeight }}
      >
        {props.renderItem(index)}
      </div>
    );
  }

  return (
    <div
      ref={container}
      className={`jp-trackbook-VirtualList ${props.className ?? ''}`}
      role={props.role}
      aria-label={props.ariaLabel}
      aria-rowcount={props.ariaRowCount}
      onScroll={event => setScrollTop(event.currentTarget.scrollTop)}
    >
      <div
        className="jp-trackbook-VirtualList-content"
        role="presentation"
        style={{ minWidth: props.minWidth }}
      >
        {props.header}
        <div
          className="jp-trackbook-VirtualList-body"
          role="presentation"
          style={{ height: itemCount * itemHeight }}
        >
          {rows}
        </div>
      </div>
    </div>
  );
}
