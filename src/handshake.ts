/**
 * Version handshake between this labextension and the trackbook server
 * extension, done once on activation.
 */
import { Notification } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';

import { getInfo, IServerInfo } from './api';

/**
 * Shown when `GET /trackbook/info` answers 404.
 */
export const NOT_ENABLED_MESSAGE =
  'trackbook server extension is not enabled: run `jupyter server extension enable trackbook`';

/**
 * Outcome of the handshake.
 */
export type HandshakeResult =
  | { status: 'ok'; info: IServerInfo }
  | { status: 'mismatch'; info: IServerInfo; message: string }
  | { status: 'not-enabled'; message: string }
  | { status: 'unreachable'; message: string };

/**
 * The message shown when the two halves of trackbook differ in version.
 *
 * @param serverVersion - Version the server reported.
 * @param frontendVersion - Version of this labextension.
 */
export function mismatchMessage(
  serverVersion: string,
  frontendVersion: string
): string {
  return `trackbook server (${serverVersion}) and frontend (${frontendVersion}) versions differ: reinstall trackbook`;
}

/**
 * Release, optional pre-release, optional dev segment, optional local part;
 * separators as npm (`-alpha.1`) or PEP 440 (`a1`) write them.
 */
const VERSION_PATTERN =
  /^v?(\d+(?:\.\d+)*)(?:[-_.]?(alpha|a|beta|b|preview|pre|rc|c)[-_.]?(\d*))?(?:[-_.]?(dev)[-_.]?(\d*))?(?:\+(.+))?$/;

/**
 * PEP 440 spelling of each pre-release label.
 */
const PRE_LABELS: Record<string, string> = {
  alpha: 'a',
  a: 'a',
  beta: 'b',
  b: 'b',
  preview: 'rc',
  pre: 'rc',
  rc: 'rc',
  c: 'rc'
};

/**
 * Normalise a version so that a Python version and the npm version it came
 * from compare equal.
 *
 * hatch-nodejs-version turns `1.2.0-alpha.1` (npm) into `1.2.0alpha1`
 * (Python), which Python may further normalise to `1.2.0a1`.
 *
 * @param version - An npm or PEP 440 version string.
 * @returns A canonical form, for comparison only.
 */
export function normalizeVersion(version: string): string {
  const cleaned = version.trim().toLowerCase();
  const match = VERSION_PATTERN.exec(cleaned);
  if (match === null) {
    return cleaned;
  }
  const [, release, preLabel, preNumber, dev, devNumber, local] = match;
  let canonical = release;
  if (preLabel !== undefined) {
    canonical += PRE_LABELS[preLabel] + (preNumber || '0');
  }
  if (dev !== undefined) {
    canonical += `.dev${devNumber || '0'}`;
  }
  if (local !== undefined) {
    canonical += `+${local}`;
  }
  return canonical;
}

/**
 * Ask the server for its version and compare it with the frontend's.
 *
 * Never throws: every failure becomes a result with a message.
 *
 * @param frontendVersion - Version of this labextension.
 * @param fetchInfo - How to ask the server (replaced in tests).
 */
export async function checkServer(
  frontendVersion: string,
  fetchInfo: () => Promise<IServerInfo> = getInfo
): Promise<HandshakeResult> {
  let info: IServerInfo;
  try {
    info = await fetchInfo();
  } catch (error) {
    if (
      error instanceof ServerConnection.ResponseError &&
      error.response.status === 404
    ) {
      return { status: 'not-enabled', message: NOT_ENABLED_MESSAGE };
    }
    const reason = error instanceof Error ? error.message : String(error);
    return {
      status: 'unreachable',
      message: `trackbook server extension did not answer: ${reason}`
    };
  }
  if (normalizeVersion(info.version) !== normalizeVersion(frontendVersion)) {
    return {
      status: 'mismatch',
      info,
      message: mismatchMessage(info.version, frontendVersion)
    };
  }
  return { status: 'ok', info };
}

/**
 * Tell the user about a failed handshake, once, with a notification that
 * stays until dismissed (nothing modal: JupyterLab stays usable).
 *
 * @param result - Outcome of `checkServer`.
 */
export function reportHandshake(result: HandshakeResult): void {
  if (result.status === 'ok') {
    return;
  }
  console.warn(result.message);
  Notification.warning(result.message, { autoClose: false });
}
