// Debian's Chromium, as the browser tests start it (`npm test` installs the package when missing;
// no test tool downloads a browser): headless, without the sandbox (tests may run as root), and
// without the background connections this machine's closed network refuses.
export const CHROMIUM_PATH = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';

export const CHROMIUM_ARGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
