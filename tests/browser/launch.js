// The one way the browser tests start Debian's chromium (puppeteer-core, headless, a throwaway
// profile, nothing reached beyond the page under test). Exits 3 when chromium cannot start, so
// the Rust side can say what to install.
'use strict';
const fs = require('fs');
const os = require('os');
const path = require('path');
const puppeteer = require('puppeteer-core');

// Runs `use(browser)` in a fresh headless chromium and always cleans up after it.
async function withBrowser(use) {
  const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'callqa-chromium-'));
  let browser;
  try {
    browser = await puppeteer.launch({
      executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
      headless: true,
      userDataDir: userDir,
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--mute-audio', '--autoplay-policy=no-user-gesture-required', '--allow-file-access-from-files'],
    });
  } catch (e) {
    console.error(`cannot start chromium (${e.message}): install Debian's package with \`apt-get install -y chromium\``);
    process.exit(3);
  }
  try {
    return await use(browser);
  } finally {
    await browser.close();
    fs.rmSync(userDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
  }
}

module.exports = { withBrowser };
