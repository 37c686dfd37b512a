// The one browser driver of the report tests: Debian's chromium through puppeteer-core, acting
// as an inspector does with callqa's static report. Loads the index, filters it by a hit
// category, sorts by score, opens the one call the filter leaves, clicks a deduction and
// checks the player moved to 2 s before it; optionally opens a page whose transcript holds
// markup and checks no script ran.
//
// usage: node report.js <report-dir> <artifacts-dir> <category> <expected-call-id> <deduction-row> [<xss-page>]
// Prints one JSON object with what it saw; exits 0 when every check held, 1 when one failed,
// 3 when chromium cannot be started.
'use strict';
const fs = require('fs');
const path = require('path');
const { withBrowser } = require('./launch');

const [reportDir, artifacts, category, expectedCall, row, xssPage] = process.argv.slice(2);
const deduction = `#deductions tbody tr:nth-child(${parseInt(row, 10)})`;

async function filter(page, value) {
  await page.select('#f-category', value);
  return page.$$eval('#calls tbody tr', (rows) => rows.filter((r) => !r.hidden).map((r) => r.dataset.call));
}

async function inspect(page, seen) {
  fs.mkdirSync(artifacts, { recursive: true });
  await page.setViewport({ width: 1280, height: 900 });
  await page.goto('file://' + path.resolve(reportDir, 'index.html'));
  seen.rows = await page.$$eval('#calls tbody tr', (rows) => rows.length);
  seen.shown = await filter(page, category);
  await page.screenshot({ path: path.join(artifacts, 'index.png'), fullPage: true });
  await filter(page, '');
  // The second click sorts descending, which the flagged-first order is not.
  await page.click('#calls th[data-key="score"]');
  await page.click('#calls th[data-key="score"]');
  seen.sorted_by_score = await page.$$eval('#calls tbody tr', (rows) => rows.map((r) => parseFloat(r.dataset.score)));
  await filter(page, category);
  if (seen.shown.length !== 1 || seen.shown[0] !== expectedCall) return 'filter by category showed ' + JSON.stringify(seen.shown);

  await Promise.all([page.waitForNavigation(), page.click('#calls tbody tr:not([hidden]) a')]);
  seen.page = await page.evaluate(() => location.pathname.split('/').pop());
  seen.duration_s = await page.evaluate(() => new Promise((resolve) => {
    const a = document.getElementById('player');
    if (a.readyState >= 1) resolve(a.duration);
    else {
      a.addEventListener('loadedmetadata', () => resolve(a.duration));
      a.addEventListener('error', () => resolve(-1));
    }
  }));
  seen.seek_ms = await page.$eval(deduction, (tr) => parseInt(tr.dataset.seekMs, 10));
  seen.before_s = await page.$eval('#player', (a) => a.currentTime);
  await page.click(deduction);
  const want = Math.max(0, seen.seek_ms - 2000) / 1000;
  await page.waitForFunction((t) => document.getElementById('player').currentTime >= t - 0.05, { timeout: 10000 }, want)
    .catch(() => {});
  seen.current_s = await page.$eval('#player', (a) => a.currentTime);
  await page.$eval('#player', (a) => a.pause());
  await page.screenshot({ path: path.join(artifacts, 'call.png'), fullPage: true });
  if (!(seen.current_s >= want - 0.05 && seen.current_s < want + 1.5)) return `currentTime ${seen.current_s} s, expected ${want} s`;

  if (xssPage) {
    await page.goto('file://' + path.resolve(reportDir, 'calls', xssPage));
    seen.script_ran = await page.evaluate(() => window.pwned === 1);
    seen.transcript_text = await page.$eval('#transcript', (t) => t.textContent);
    await page.screenshot({ path: path.join(artifacts, 'xss.png'), fullPage: true });
    if (seen.script_ran) return 'a <script> in the transcript ran';
  }
  return null;
}

async function main() {
  const seen = {};
  seen.failure = await withBrowser(async (browser) => inspect(await browser.newPage(), seen));
  console.log(JSON.stringify(seen));
  process.exit(seen.failure ? 1 : 0);
}

main().catch((e) => { console.error(e.stack || e); process.exit(1); });
