// jsdom has no asynchronous Clipboard API, and @jupyterlab/apputils warns on
// import without one; a stub keeps the test output readable.
Object.defineProperty(navigator, 'clipboard', {
  configurable: true,
  value: {
    read: async () => [],
    readText: async () => '',
    write: async () => undefined,
    writeText: async () => undefined
  }
});
