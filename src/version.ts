/**
 * The version of this labextension.
 *
 * package.json is the single version source (hatch-nodejs-version gives the
 * same version to the Python package). It is read with `require` because it
 * lies outside tsc's `rootDir`; webpack and jest both inline it.
 */
declare function require(id: string): unknown;

const manifest = require('../package.json') as { version?: unknown };

/**
 * The frontend version, as written in package.json.
 */
export const FRONTEND_VERSION: string =
  typeof manifest.version === 'string' ? manifest.version : '0.0.0';
