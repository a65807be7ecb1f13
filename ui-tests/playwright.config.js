/**
 * Playwright configuration: galata's defaults, the system Chromium (browsers
 * cannot be downloaded in our CI), and a JupyterLab started for the run.
 */
const baseConfig = require('@jupyterlab/galata/lib/playwright-config');

module.exports = {
  ...baseConfig,
  use: {
    ...baseConfig.use,
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync'
      ]
    },
    // Video needs Playwright's own ffmpeg download, which CI cannot fetch.
    video: 'off',
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure'
  },
  retries: 1,
  // Every spec talks to the same JupyterLab and trackbook store: one at a
  // time, so "the newest run is on top" holds whatever the machine's cores.
  workers: 1,
  webServer: {
    command: 'jlpm start',
    url: 'http://localhost:8888/lab',
    timeout: 180 * 1000,
    reuseExistingServer: !process.env.CI
  }
};
