// Drives `callqa serve` in headless Chromium through the review workflow of issue 17, as the
// three people involved would: the inspector logs in, opens the call from the queue, clicks a
// deduction (the audio must play from 2 s before it), rejects one deduction with a comment,
// confirms another and publishes; the agent appeals the confirmed one; the supervisor
// overturns it. Prints what it saw as JSON; tests/serve.rs checks it.
// Usage: node review.js BASE_URL ARTIFACT_DIR CALL_ID REJECT_ID CONFIRM_ID PASSWORD
'use strict';
const path = require('path');
const fs = require('fs');
const { withBrowser } = require('./launch');

async function login(page, base, user, password) {
  await page.goto(base + '/login');
  await page.type('input[name=username]', user);
  await page.type('input[name=password]', password);
  await Promise.all([page.waitForNavigation(), page.click('#login button[type=submit]')]);
  if (new URL(page.url()).pathname !== '/') throw new Error(`${user}: login ended on ${page.url()}`);
}

async function logout(page) {
  await Promise.all([page.waitForNavigation(), page.click('#logout')]);
}

// Clicks a button whose handler posts to the API and reloads the page.
async function submit(page, selector) {
  await Promise.all([page.waitForNavigation(), page.click(selector)]);
  const message = await page.$eval('#message', (m) => m.textContent).catch(() => '');
  if (message) throw new Error(`${selector}: ${message}`);
}

const state = (page) => page.$eval('.meta .state', (s) => s.textContent);

async function main() {
  const [base, artifacts, callId, rejectId, confirmId, password] = process.argv.slice(2);
  fs.mkdirSync(artifacts, { recursive: true });
  const seen = {};
  await withBrowser(async (browser) => {
    const page = await browser.newPage();
    await page.setViewport({ width: 1300, height: 900 });
    const errors = [];
    page.on('pageerror', (e) => errors.push(e.message));

    // The inspector: queue → call → play → decide → publish.
    await login(page, base, 'insp', password);
    seen.queue_rows = await page.$$eval('table.queue tbody tr', (rows) => rows.length);
    await page.screenshot({ path: path.join(artifacts, 'queue.png'), fullPage: true });
    await page.screenshot({ path: path.join(artifacts, 'shot-queue.png'), clip: { x: 0, y: 0, width: 1300, height: 420 } });
    await Promise.all([page.waitForNavigation(), page.click(`a[href="/calls/${callId}"]`)]);
    await page.waitForFunction(() => document.getElementById('player').readyState >= 1, { timeout: 15000 });
    const target = await page.$eval(`.deduction[data-id="${confirmId}"]`, (li) => Number(li.dataset.ms));
    await page.click(`.deduction[data-id="${confirmId}"] .reason`);
    await page.waitForFunction((t) => {
      const p = document.getElementById('player');
      return Math.abs(p.currentTime - Math.max(0, t / 1000 - 2)) < 0.6;
    }, { timeout: 10000 }, target);
    seen.seek_ms = target;
    seen.played_from_s = await page.$eval('#player', (a) => a.currentTime);
    await page.$eval('#player', (a) => a.pause());
    // The energy strip is drawn from the server's peaks; the speed list reaches 0.5× and 2×.
    await page.waitForFunction(() => Number(document.getElementById('energy').dataset.bars) > 0, { timeout: 15000 });
    seen.energy_bars = await page.$eval('#energy', (c) => Number(c.dataset.bars));
    seen.rates = [];
    for (const rate of ['0.5', '2', '1']) {
      await page.select('#speed', rate);
      seen.rates.push(await page.$eval('#player', (a) => a.playbackRate));
    }
    await page.screenshot({ path: path.join(artifacts, 'shot-call.png') });
    for (const id of rejectId.split(',')) {
      await page.type(`.deduction[data-id="${id}"] .comment`, '坐席在复述客户的话');
      await page.click(`.deduction[data-id="${id}"] .reject`);
    }
    await page.click(`.deduction[data-id="${confirmId}"] .confirm`);
    await page.screenshot({ path: path.join(artifacts, 'review.png'), fullPage: true });
    await submit(page, '#publish');
    seen.after_publish = await state(page);
    seen.reviewed_after_publish = Number(await page.$eval('#reviewed', (s) => s.textContent));
    await logout(page);

    // The agent: appeal the confirmed deduction.
    await login(page, base, 'ag1', password);
    await page.goto(`${base}/calls/${callId}`);
    await page.type(`.deduction[data-id="${confirmId}"] .appeal-reason`, '当时已请客户稍等');
    await submit(page, `.deduction[data-id="${confirmId}"] button.appeal`);
    seen.after_appeal = await state(page);
    await logout(page);

    // The supervisor: overturn it.
    await login(page, base, 'boss', password);
    await page.goto(`${base}/calls/${callId}`);
    await page.select('.appeals .outcome', 'overturned');
    await page.type('.appeals .comment', '录音中有提示');
    await submit(page, '.appeals button.decide');
    seen.after_decision = await state(page);
    seen.reviewed_after_settle = Number(await page.$eval('#reviewed', (s) => s.textContent));
    seen.history = await page.$$eval('table.history tbody tr td:nth-child(3)', (tds) => tds.map((t) => t.textContent));
    await page.screenshot({ path: path.join(artifacts, 'settled.png'), fullPage: true });
    await (await page.$('table.history')).screenshot({ path: path.join(artifacts, 'shot-history.png') });
    seen.script_errors = errors;
  });
  console.log(JSON.stringify(seen));
}

main().catch((e) => { console.error(e.message || e); process.exit(1); });
