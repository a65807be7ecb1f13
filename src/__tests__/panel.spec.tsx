import { Widget } from '@lumino/widgets';

import { trackbookIcon } from '../icons';
import { SIDEBAR_ID, TrackbookSidebar } from '../panel';
import { flush, setupModel } from './helpers';
import { makeRuns } from './runsServer';

describe('TrackbookSidebar', () => {
  it('is a side panel with its own id and icon', async () => {
    const { model } = await setupModel([], {}, { visible: false });
    const sidebar = new TrackbookSidebar({ model });

    expect(sidebar.id).toBe(SIDEBAR_ID);
    expect(sidebar.title.icon).toBe(trackbookIcon);
    expect(sidebar.title.caption).toBe('trackbook runs');
    sidebar.dispose();
  });

  it('loads its views when shown and polls only while visible', async () => {
    const { model, server } = await setupModel(
      makeRuns(0, 4),
      {},
      {
        visible: false
      }
    );
    const sidebar = new TrackbookSidebar({ model });
    expect(sidebar.node.querySelector('.jp-trackbook-App')).toBeNull();

    Widget.attach(sidebar, document.body);
    await sidebar.loadContent();
    await flush();

    expect(model.visible).toBe(true);
    expect(server.listRequests).toHaveLength(1);
    expect(sidebar.node.querySelector('.jp-trackbook-App')).not.toBeNull();
    expect(sidebar.node.textContent).toContain('4 runs');

    sidebar.hide();
    expect(model.visible).toBe(false);
    sidebar.show();
    expect(model.visible).toBe(true);

    Widget.detach(sidebar);
    expect(model.visible).toBe(false);
    sidebar.dispose();
  });
});
