/**
 * trackbook's icons.
 */
import { LabIcon } from '@jupyterlab/ui-components';

import trackbookSvg from '../style/icons/trackbook.svg';

/**
 * The icon of the trackbook sidebar.
 */
export const trackbookIcon = new LabIcon({
  name: 'trackbook:sidebar',
  svgstr: trackbookSvg
});
