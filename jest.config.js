/*
 * Jest configuration: JupyterLab's shared preset, plus the ESM-only packages
 * that the preset's transformIgnorePatterns must let babel transform.
 */

const jestJupyterLab = require('@jupyterlab/testutils/lib/jest-config');

const esModules = [
  '@codemirror',
  '@microsoft',
  '@jupyter/react-components',
  '@jupyter/web-components',
  '@jupyter/ydoc',
  '@jupyterlab/',
  'exenv-es6',
  'lib0',
  'nanoid',
  'vscode-ws-jsonrpc',
  'y-protocols',
  'y-websocket',
  'yjs'
].join('|');

const baseConfig = jestJupyterLab(__dirname);

module.exports = {
  ...baseConfig,
  automock: false,
  collectCoverageFrom: [
    'src/**/*.{ts,tsx}',
    '!src/**/*.d.ts',
    '!src/**/.ipynb_checkpoints/*'
  ],
  coverageReporters: ['lcov', 'text'],
  // The built labextension holds a copy of package.json: without this jest
  // sees two packages named "trackbook" and refuses to build its module map.
  modulePathIgnorePatterns: [
    '<rootDir>/python/',
    '<rootDir>/lib/',
    '<rootDir>/.venv/',
    '<rootDir>/build/',
    '<rootDir>/ui-tests/'
  ],
  // jest-junit writes a junit.xml that nothing reads here.
  reporters: ['default'],
  setupFiles: [...baseConfig.setupFiles, '<rootDir>/jest.setup.js'],
  setupFilesAfterEnv: ['<rootDir>/jest.setup-after-env.js'],
  testRegex: 'src/.*/.*.spec.ts[x]?$',
  transformIgnorePatterns: [`/node_modules/(?!${esModules}).+`]
};
