// Drives Debian's chromium through the DevTools protocol over --remote-debugging-pipe (no npm
// packages: the protocol is NUL-separated JSON on file descriptors 3 and 4) and checks what an
// inspector does with the report: filter the index, open a call, click a deduction, hear it.
//
// usage: node inspect.js <report-dir> <artifacts-dir> <category> <expected-call-id> <xss-page> <deduction-row>
// Prints one JSON object with what it saw; exits 0 when every check held, 1 when one failed,
// 3 when chromium cannot be started.
"use strict";
const { spawn } = require("child_process");
const fs = require("fs");
const os = require("os");
const path = require("path");

const [reportDir, artifacts, category, expectedCall, xssPage, row] = process.argv.slice(2);
const deduction = `#deductions tbody tr:nth-child(${parseInt(row, 10)})`;
const userDir = fs.mkdtempSync(path.join(os.tmpdir(), "callqa-chromium-"));
const browser = spawn(
  process.env.CHROMIUM || "chromium",
  [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--mute-audio", "--autoplay-policy=no-user-gesture-required",
    "--user-data-dir=" + userDir, "--remote-debugging-pipe", "about:blank",
  ],
  { stdio: ["ignore", "ignore", "pipe", "pipe", "pipe"] },
);
let stderr = "";
browser.stderr.on("data", (d) => { stderr += d; });
browser.on("error", (e) => {
  console.error("cannot start chromium (" + e.message + "): install Debian's package with `apt-get install -y chromium`");
  process.exit(3);
});

let buffer = Buffer.alloc(0);
let nextId = 0;
const pending = new Map();
const waiters = [];
browser.stdio[4].on("data", (chunk) => {
  buffer = Buffer.concat([buffer, chunk]);
  let end;
  while ((end = buffer.indexOf(0)) >= 0) {
    const msg = JSON.parse(buffer.subarray(0, end).toString("utf8"));
    buffer = buffer.subarray(end + 1);
    if (msg.id !== undefined && pending.has(msg.id)) {
      const { resolve, reject } = pending.get(msg.id);
      pending.delete(msg.id);
      if (msg.error) reject(new Error(JSON.stringify(msg.error)));
      else resolve(msg.result);
    } else {
      for (let i = waiters.length - 1; i >= 0; i--) {
        if (waiters[i].method === msg.method) waiters.splice(i, 1)[0].resolve(msg.params);
      }
    }
  }
});

function send(method, params, sessionId) {
  const msg = { id: ++nextId, method, params: params || {} };
  if (sessionId) msg.sessionId = sessionId;
  browser.stdio[3].write(JSON.stringify(msg) + "\0");
  return new Promise((resolve, reject) => pending.set(msg.id, { resolve, reject }));
}

function next(method, ms) {
  return new Promise((resolve, reject) => {
    const w = { method, resolve };
    waiters.push(w);
    setTimeout(() => reject(new Error("timed out waiting for " + method)), ms || 15000);
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function main() {
  const { targetId } = await send("Target.createTarget", { url: "about:blank" });
  const { sessionId } = await send("Target.attachToTarget", { targetId, flatten: true });
  const s = (method, params) => send(method, params, sessionId);
  const evaluate = async (expression) => {
    const r = await s("Runtime.evaluate", { expression, awaitPromise: true, returnByValue: true });
    if (r.exceptionDetails) throw new Error(expression + ": " + JSON.stringify(r.exceptionDetails));
    return r.result.value;
  };
  const open = async (url) => {
    const loaded = next("Page.loadEventFired");
    await s("Page.navigate", { url });
    await loaded;
  };
  const click = async (selector) => {
    await evaluate(`document.querySelector(${JSON.stringify(selector)}).scrollIntoView({block: "center"})`);
    const box = await evaluate(`(() => { const r = document.querySelector(${JSON.stringify(selector)}).getBoundingClientRect(); return { x: r.left + 10, y: r.top + r.height / 2 }; })()`);
    for (const type of ["mousePressed", "mouseReleased"]) {
      await s("Input.dispatchMouseEvent", { type, x: box.x, y: box.y, button: "left", clickCount: 1 });
    }
  };
  const shot = async (name) => {
    const { data } = await s("Page.captureScreenshot", { format: "png", captureBeyondViewport: true });
    fs.writeFileSync(path.join(artifacts, name), Buffer.from(data, "base64"));
  };
  await s("Page.enable");
  await s("Runtime.enable");
  await s("Emulation.setDeviceMetricsOverride", { width: 1280, height: 900, deviceScaleFactor: 1, mobile: false });

  const seen = {};
  const index = "file://" + path.resolve(reportDir, "index.html");
  await open(index);
  seen.rows = await evaluate(`document.querySelectorAll("#calls tbody tr").length`);
  await evaluate(`(() => { const f = document.getElementById("f-category"); f.value = ${JSON.stringify(category)}; f.dispatchEvent(new Event("change")); })()`);
  seen.shown = await evaluate(`[...document.querySelectorAll("#calls tbody tr")].filter(r => !r.hidden).map(r => r.dataset.call)`);
  await shot("index.png");
  await evaluate(`(() => { const f = document.getElementById("f-category"); f.value = ""; f.dispatchEvent(new Event("change")); })()`);
  // The second click sorts descending, which the flagged-first order is not.
  await click(`#calls th[data-key="score"]`);
  await click(`#calls th[data-key="score"]`);
  seen.sorted_by_score = await evaluate(`[...document.querySelectorAll("#calls tbody tr")].map(r => parseFloat(r.dataset.score))`);
  await evaluate(`(() => { const f = document.getElementById("f-category"); f.value = ${JSON.stringify(category)}; f.dispatchEvent(new Event("change")); })()`);
  if (seen.shown.length !== 1 || seen.shown[0] !== expectedCall) return finish(seen, "filter by category showed " + JSON.stringify(seen.shown));

  const loaded = next("Page.loadEventFired");
  await click(`#calls tbody tr:not([hidden]) a`);
  await loaded;
  seen.page = await evaluate(`location.pathname.split("/").pop()`);
  seen.duration_s = await evaluate(`new Promise((resolve) => { const a = document.getElementById("player"); if (a.readyState >= 1) resolve(a.duration); else { a.addEventListener("loadedmetadata", () => resolve(a.duration)); a.addEventListener("error", () => resolve(-1)); } })`);
  seen.seek_ms = await evaluate(`parseInt(document.querySelector(${JSON.stringify(deduction)}).dataset.seekMs, 10)`);
  seen.before_s = await evaluate(`document.getElementById("player").currentTime`);
  await click(deduction);
  await sleep(400);
  seen.current_s = await evaluate(`document.getElementById("player").currentTime`);
  await evaluate(`document.getElementById("player").pause()`);
  await evaluate(`window.scrollTo(0, 0)`);
  await shot("call.png");
  const want = Math.max(0, seen.seek_ms - 2000) / 1000;
  if (!(seen.current_s >= want - 0.05 && seen.current_s < want + 1.5)) return finish(seen, "currentTime " + seen.current_s + " s, expected " + want + " s");

  await open("file://" + path.resolve(reportDir, "calls", xssPage));
  seen.script_ran = await evaluate(`window.pwned === 1`);
  seen.transcript_text = await evaluate(`document.getElementById("transcript").textContent`);
  await shot("xss.png");
  if (seen.script_ran) return finish(seen, "a <script> in the transcript ran");
  return finish(seen, null);
}

function finish(seen, failure) {
  seen.failure = failure;
  console.log(JSON.stringify(seen));
  browser.on("exit", () => {
    try {
      fs.rmSync(userDir, { recursive: true, force: true, maxRetries: 5, retryDelay: 200 });
    } catch (e) {
      // Chromium's helpers may still be writing; a leftover temp profile does not change the result.
      console.error("could not remove " + userDir + ": " + e.message);
    }
    process.exit(failure ? 1 : 0);
  });
  browser.kill();
}

main().catch((e) => {
  console.error(e.stack + "\nchromium said:\n" + stderr.slice(-2000));
  browser.kill();
  process.exit(1);
});
