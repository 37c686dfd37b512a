// Opens callqa's inspector report in headless Chromium and acts as an inspector would:
// load the index, filter it, open a call, click a deduction, check the audio jumped there.
// Usage: node check.js REPORT_DIR ARTIFACT_DIR CALL_ID_SUBSTRING
'use strict';
const path = require('path');
const fs = require('fs');
const puppeteer = require('puppeteer-core');

async function main() {
  const [reportDir, artifacts, callId] = process.argv.slice(2);
  fs.mkdirSync(artifacts, { recursive: true });
  const userDir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'callqa-chromium-'));
  const browser = await puppeteer.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    userDataDir: userDir,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync',
      '--autoplay-policy=no-user-gesture-required', '--allow-file-access-from-files'],
  });
  try {
    const page = await browser.newPage();
    await page.setViewport({ width: 1200, height: 900 });
    await page.goto('file://' + path.resolve(reportDir, 'index.html'));
    const total = await page.$$eval('#calls tbody tr', (rows) => rows.length);
    await page.select('#f-category', '反问');
    const shown = await page.$$eval('#calls tbody tr', (rows) => rows.filter((r) => !r.hidden).length);
    if (!(shown >= 1 && shown < total)) throw new Error(`filter by 反问 showed ${shown} of ${total} calls`);
    await page.screenshot({ path: path.join(artifacts, 'index.png'), fullPage: true });
    const link = await page.$$eval('#calls tbody tr', (rows, id) => {
      const row = rows.find((r) => !r.hidden && r.textContent.includes(id));
      return row && row.querySelector('a').getAttribute('href');
    }, callId);
    if (!link) throw new Error(`call ${callId} not listed after filtering`);
    await page.goto('file://' + path.resolve(reportDir, link));
    await page.waitForFunction(() => document.getElementById('player').readyState >= 1, { timeout: 15000 });
    const target = await page.$eval('#deductions tr[data-seek-ms]', (tr) => Number(tr.dataset.seekMs));
    await page.click('#deductions tr[data-seek-ms]');
    await page.waitForFunction((t) => Math.abs(document.getElementById('player').currentTime - Math.max(0, t / 1000 - 2)) < 0.6,
      { timeout: 10000 }, target);
    const now = await page.$eval('#player', (a) => a.currentTime);
    await page.screenshot({ path: path.join(artifacts, 'call.png'), fullPage: true });
    console.log(JSON.stringify({ total, shown, target_ms: target, current_time_s: now }));
  } finally {
    await browser.close();
    fs.rmSync(userDir, { recursive: true, force: true });
  }
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
