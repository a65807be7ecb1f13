/**
 * What runs inside the JupyterLab page: functions handed to Playwright's
 * `addInitScript` and `evaluate`, so they use nothing from this module's
 * scope (they are serialised as source and run in the browser).
 */
'use strict';

/**
 * Runs at document start in every page: records, at each animation frame,
 * when the left bar's trackbook tab, the sidebar's views and the first run
 * row are first in the DOM, and when the pointer first went down. A rAF
 * callback runs just before the frame that shows what the DOM holds is
 * painted, so "row seen in a rAF callback" is "row in the next painted
 * frame". The loop stops once all are seen (or 30 s after the row).
 */
function installMarks(selectors) {
  const marks = {};
  window.__trackbookMarks = marks;
  window.addEventListener(
    'pointerdown',
    event => {
      if (marks.pointerdown === undefined) {
        marks.pointerdown = event.timeStamp;
      }
    },
    { capture: true }
  );
  const tick = () => {
    const now = performance.now();
    for (const [name, selector] of Object.entries(selectors)) {
      if (marks[name] === undefined && document.querySelector(selector)) {
        marks[name] = now;
      }
    }
    const missing = Object.keys(selectors).some(name => !(name in marks));
    if (missing && (marks.row === undefined || now - marks.row < 30_000)) {
      requestAnimationFrame(tick);
    }
  };
  requestAnimationFrame(tick);
}

/**
 * Scroll the runs table down at `rowsPerSecond` for `seconds`, setting the
 * scroll position at every frame from the time elapsed (as a fling does:
 * frames that come late are not slowed down), and record the interval
 * between frames. The table loads the next page (cursor) when its last row
 * comes into view; until it arrives the position stops at the last loaded
 * row, and those frames count as waiting.
 */
function scrollAndRecord({ scroller, item, body, seconds, rowsPerSecond }) {
  const list = document.querySelector(scroller);
  const rowHeight = document.querySelector(item).offsetHeight;
  const longTasks = [];
  const observer = new PerformanceObserver(entries =>
    longTasks.push(...entries.getEntries().map(e => e.duration))
  );
  try {
    observer.observe({ type: 'longtask' });
  } catch {
    // Not every build reports long tasks; the frame intervals still do.
  }
  return new Promise(resolve => {
    const intervals = [];
    let start = null;
    let previous = null;
    let waiting = 0;
    const step = time => {
      if (start === null) {
        start = time;
      } else {
        intervals.push(time - previous);
      }
      previous = time;
      const elapsed = (time - start) / 1000;
      const target = elapsed * rowsPerSecond * rowHeight;
      if (list.scrollTop + list.clientHeight >= list.scrollHeight - 1) {
        if (target > list.scrollTop + 1) {
          waiting += 1;
        }
      }
      list.scrollTop = target;
      if (elapsed < seconds) {
        requestAnimationFrame(step);
        return;
      }
      observer.disconnect();
      // The listings asked while scrolling: how long each took, and how
      // long after one answer the next was asked.
      const listings = performance
        .getEntriesByType('resource')
        .filter(e => /\/trackbook\/runs$/.test(new URL(e.name).pathname))
        .filter(e => e.startTime >= start)
        .sort((a, b) => a.startTime - b.startTime);
      resolve({
        listingMs: listings.map(e => e.responseEnd - e.startTime),
        listingGapsMs: listings
          .slice(1)
          .map((e, i) => e.startTime - listings[i].responseEnd),
        intervals,
        waitingFrames: waiting,
        elapsedMs: time - start,
        rowHeight,
        rowsPerSecond,
        viewRows: Math.ceil(list.clientHeight / rowHeight),
        rowsScrolled: Math.floor(list.scrollTop / rowHeight),
        rowsLoaded: Math.round(
          document.querySelector(body).offsetHeight / rowHeight
        ),
        longTasks
      });
    };
    requestAnimationFrame(step);
  });
}

module.exports = { installMarks, scrollAndRecord };
