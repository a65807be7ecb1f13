import { Notification } from '@jupyterlab/apputils';
import { ServerConnection } from '@jupyterlab/services';

import { getInfo, IServerInfo } from '../api';
import {
  checkServer,
  NOT_ENABLED_MESSAGE,
  normalizeVersion,
  reportHandshake
} from '../handshake';
import { FRONTEND_VERSION } from '../version';
import manifest from '../../package.json';
import { fakeServer } from './fakeServer';

function info(version: string): IServerInfo {
  return {
    version,
    store: { kind: 'sqlite', url: 'sqlite:///tmp/.trackbook/trackbook.db' },
    schema_revision: '0001'
  };
}

describe('checkServer', () => {
  it('is ok when the versions match', async () => {
    const result = await checkServer('0.1.0', async () => info('0.1.0'));

    expect(result.status).toBe('ok');
  });

  it('reports a disabled server extension on 404', async () => {
    const server = fakeServer({});

    const result = await checkServer('0.1.0', () => getInfo(server.settings));

    expect(result).toEqual({
      status: 'not-enabled',
      message: NOT_ENABLED_MESSAGE
    });
    expect(NOT_ENABLED_MESSAGE).toContain(
      'jupyter server extension enable trackbook'
    );
  });

  it('asks to reinstall when the versions differ', async () => {
    const result = await checkServer('0.2.0', async () => info('0.1.0'));

    expect(result.status).toBe('mismatch');
    expect(result.status !== 'ok' && result.message).toBe(
      'trackbook server (0.1.0) and frontend (0.2.0) versions differ: reinstall trackbook'
    );
  });

  it('accepts the Python spelling of an npm pre-release', async () => {
    const result = await checkServer('1.2.0-alpha.1', async () =>
      info('1.2.0a1')
    );

    expect(result.status).toBe('ok');
  });

  it('reports other failures as unreachable', async () => {
    const error = new ServerConnection.ResponseError(
      new Response('', { status: 500 }),
      'database is gone'
    );

    const result = await checkServer('0.1.0', () => Promise.reject(error));

    expect(result.status).toBe('unreachable');
    expect(result.status !== 'ok' && result.message).toContain(
      'database is gone'
    );
  });
});

describe('normalizeVersion', () => {
  it.each([
    ['1.2.0-alpha.1', '1.2.0alpha1'],
    ['1.2.0-beta.2', '1.2.0b2'],
    ['1.2.0-rc.1', '1.2.0rc1'],
    ['1.2.0-dev.3', '1.2.0.dev3'],
    ['v0.1.0', '0.1.0']
  ])('treats %s and %s as the same version', (npm, python) => {
    expect(normalizeVersion(npm)).toBe(normalizeVersion(python));
  });

  it('keeps different releases apart', () => {
    expect(normalizeVersion('1.2.0')).not.toBe(normalizeVersion('1.2.1'));
    expect(normalizeVersion('1.2.0a1')).not.toBe(normalizeVersion('1.2.0b1'));
    expect(normalizeVersion('1.2.0')).not.toBe(normalizeVersion('1.2.0rc1'));
  });
});

describe('reportHandshake', () => {
  beforeEach(() => {
    Notification.dismiss();
  });

  it('stays silent when all is well', () => {
    reportHandshake({ status: 'ok', info: info('0.1.0') });

    expect(Notification.manager.count).toBe(0);
  });

  it('shows one warning that stays until dismissed', () => {
    const warn = jest.spyOn(console, 'warn').mockImplementation(() => {});

    reportHandshake({ status: 'not-enabled', message: NOT_ENABLED_MESSAGE });

    expect(Notification.manager.count).toBe(1);
    const [shown] = Notification.manager.notifications;
    expect(shown.type).toBe('warning');
    expect(shown.message).toBe(NOT_ENABLED_MESSAGE);
    expect(shown.options.autoClose).toBe(false);
    warn.mockRestore();
  });
});

describe('FRONTEND_VERSION', () => {
  it('is the version of package.json', () => {
    expect(FRONTEND_VERSION).toBe(manifest.version);
  });
});
