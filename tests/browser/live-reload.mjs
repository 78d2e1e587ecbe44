// The live reload of 05-watch in a real browser (Debian's chromium, headless, driven by
// playwright-core). tests/05-watch-browser.bats runs it against a server it started:
//
//   node live-reload.mjs URL DOCROOT
//
// URL is the server's (http://127.0.0.1:PORT/), DOCROOT its document root. The bats file
// writes DOCROOT/page.html and DOCROOT/style.css; this script needs of them:
//   page.html  <link rel="stylesheet" href="style.css">, <h1 id="title">TEXT</h1>,
//              <div id="marker">, and a script that adds 1 to the global `ticks` every
//              50 ms (and shows it): a counter that only a reload sets back to 0;
//   style.css  any background-color for #marker but rgb(0, 128, 0).
//
// The steps: open URL/page.html, wait until the injected live script has its event
// stream (window.stagedLive.server is set), then
//   1. save page.html with a new heading, as editors that save "atomically" do (write a
//      dot-file, rename it over the page): the page must show the new heading, and by
//      a reload: a new main-frame navigation, a fresh window (a mark we left on the old
//      one is gone) whose counter started again;
//   2. save style.css in place with a new colour for #marker: the page must show it
//      while NOT reloading: no navigation, our mark still there, the counter still
//      growing from where it was, the <link> now pointing at style.css?live=...; and
//      no reload comes a moment later either.
// It prints one line per step; exit 0 when all held, 1 when a check failed (the last
// lines say which and what the page looked like), 2 on a usage or setup error. Every
// wait is bounded and the whole run ends within about 30 s, whatever happens.

import { writeFileSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { loadChromium, startWatchdog } from './common.mjs';

const TOTAL_MS = 30000;		// the whole run, browser start and close included
const LAUNCH_MS = 15000;	// starting chromium (slow on a busy machine the first time)
const LOAD_MS = 8000;		// loading the page
const CONNECT_MS = 8000;	// the live script's EventSource saying hello
const CHANGE_MS = 8000;		// from a save to the page showing it
const QUIET_MS = 1000;		// after the stylesheet swap: long enough for a wrong reload
				// (live.js reloads 300 ms after its notice) to show itself
const NEW_COLOUR = 'rgb(0, 128, 0)';

const started = Date.now();
const log = (msg) => console.log(`live-reload: [${((Date.now() - started) / 1000).toFixed(2)}s] ${msg}`);

class Failure extends Error {}
const check = (ok, msg) => { if (!ok) throw new Failure(msg); };

const [url, docroot] = process.argv.slice(2);
if (!url || !docroot || !/^http:\/\/127\.0\.0\.1:\d+\/$/.test(url)) {
  console.error('usage: node live-reload.mjs http://127.0.0.1:PORT/ DOCROOT');
  process.exit(2);
}
const pageUrl = new URL('page.html', url).href;
const origin = new URL(url).origin;
const pageFile = path.join(docroot, 'page.html');
const styleFile = path.join(docroot, 'style.css');

// The last resort: whatever hangs, the run ends. Playwright kills the browser it
// started when node exits.
const watchdog = startWatchdog('live-reload', TOTAL_MS);
const chromium = await loadChromium('live-reload');

let browser;
let page;
let navigations = 0;	// main-frame navigations: each load and each reload adds one
const foreign = [];	// requests that went anywhere but the server under test
const consoleLines = [];

// The page's state, in one round trip.
const state = () => page.evaluate(() => ({
  title: document.getElementById('title')?.textContent,
  ticks: window.ticks,
  mark: window.liveTestMark,
  live: window.stagedLive ? { ...window.stagedLive } : null,
  marker: document.getElementById('marker') &&
    getComputedStyle(document.getElementById('marker')).backgroundColor,
  links: [...document.querySelectorAll('link[rel~="stylesheet"]')].map((l) => l.getAttribute('href')),
}));

// Waits (bounded) until fn, run in the page, returns true; a reload in between is fine.
async function waitInPage(what, ms, fn, arg) {
  try {
    await page.waitForFunction(fn, arg, { timeout: ms, polling: 50 });
  } catch (err) {
    throw new Failure(`${what}: not within ${ms / 1000} s (${err.message.split('\n')[0]})`);
  }
}

// Replaces a file the way "atomic save" editors do: a temporary dot-file (which the
// watcher ignores), renamed over the original.
async function saveAtomically(file, text) {
  const tmp = path.join(path.dirname(file), `.${path.basename(file)}.live-test`);
  await writeFile(tmp, text);
  await rename(tmp, file);
}

async function run() {
  log(`starting /usr/bin/chromium (headless)`);
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    timeout: LAUNCH_MS,
    // --no-sandbox: chromium refuses to start as root without it. No proxy, ever, and
    // no name resolves: the only traffic is to the server on 127.0.0.1.
    args: ['--no-sandbox', '--no-proxy-server', '--proxy-bypass-list=*',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
  });
  log(`chromium ${browser.version()} started`);
  page = await browser.newPage();
  page.on('framenavigated', (frame) => {
    if (frame !== page.mainFrame()) return;
    navigations++;
    log(`navigation ${navigations}: ${frame.url()}`);
  });
  page.on('request', (req) => {
    const u = new URL(req.url());
    const ours = u.origin === origin;
    if (!ours && u.protocol !== 'data:') foreign.push(req.url());
    log(`request ${req.method()} ${ours ? req.url().slice(origin.length) : req.url()}`);
  });
  page.on('console', (msg) => consoleLines.push(`console.${msg.type()}: ${msg.text()}`));
  page.on('pageerror', (err) => consoleLines.push(`page error: ${err.message}`));

  // Load the page and wait for the live script's stream.
  await page.goto(pageUrl, { timeout: LOAD_MS, waitUntil: 'load' });
  let s = await state();
  log(`loaded ${pageUrl}: heading '${s.title}', #marker ${s.marker}, stylesheets ${JSON.stringify(s.links)}`);
  check(typeof s.title === 'string' && typeof s.ticks === 'number' && s.marker && s.links.includes('style.css'),
    'page.html lacks <h1 id="title">, the ticks counter, <div id="marker"> or <link rel="stylesheet" href="style.css">');
  check(s.marker !== NEW_COLOUR, `#marker is already ${NEW_COLOUR}: style.css must start with another colour`);
  check(await page.locator('script[src="/_/live.js"]').count() === 1,
    'the served page has no <script src="/_/live.js"> (was the server started without live reload?)');
  await waitInPage('the live script connecting to /_/events', CONNECT_MS, () => !!window.stagedLive?.server);
  log(`live script connected (server ${(await state()).live.server})`);

  // 1. An edited page: reloaded.
  const html = await readFile(pageFile, 'utf8');
  const heading = `EDITED-${Date.now()}`;
  const edited = html.replace(/(<h1 id="title">)[^<]*(<\/h1>)/, `$1${heading}$2`);
  check(edited !== html, `${pageFile} has no <h1 id="title">...</h1> to edit`);
  await page.evaluate(() => { window.liveTestMark = 'before-html-edit'; });
  const before = await state();
  const navsBefore = navigations;
  const savedAt = Date.now();
  await saveAtomically(pageFile, edited);
  log(`step 1: saved page.html with heading '${heading}' (counter at ${before.ticks})`);
  await waitInPage('the edited heading showing', CHANGE_MS, (h) => document.getElementById('title')?.textContent === h, heading);
  s = await state();
  log(`step 1: heading '${s.title}' shown ${Date.now() - savedAt} ms after the save; counter ${before.ticks} -> ${s.ticks}, navigations ${navsBefore} -> ${navigations}`);
  check(navigations > navsBefore, 'the new heading showed without a navigation: the page was not reloaded');
  check(s.mark === undefined, 'the new heading showed, but the window is the old one (our mark is still there): not a reload');
  check(s.ticks <= Math.ceil((Date.now() - savedAt) / 50) + 1,
    `the counter (${s.ticks}) counts from before the save: it did not restart`);
  log('step 1: ok, the page reloaded');

  // The reloaded page connects anew; only then can it hear of the next change.
  await waitInPage('the reloaded page connecting to /_/events', CONNECT_MS, () => !!window.stagedLive?.server);

  // 2. An edited stylesheet: swapped in place, no reload.
  await page.evaluate(() => { window.liveTestMark = 'before-css-edit'; });
  const beforeCss = await state();
  const navsBeforeCss = navigations;
  const cssSavedAt = Date.now();
  // In place, as most editors save; in one go (open, write, close), so that the watcher
  // sees one burst even when this process is slow to get back to its event loop.
  writeFileSync(styleFile, `#marker { background-color: ${NEW_COLOUR}; }\n`);
  log(`step 2: saved style.css with #marker ${NEW_COLOUR} (was ${beforeCss.marker}; counter at ${beforeCss.ticks})`);
  await waitInPage(`#marker turning ${NEW_COLOUR}`, CHANGE_MS,
    (c) => getComputedStyle(document.getElementById('marker')).backgroundColor === c, NEW_COLOUR);
  s = await state();
  log(`step 2: #marker ${s.marker} ${Date.now() - cssSavedAt} ms after the save; counter ${beforeCss.ticks} -> ${s.ticks}, navigations ${navsBeforeCss} -> ${navigations}, stylesheets ${JSON.stringify(s.links)}`);
  const noReload = (st, when) => {
    check(navigations === navsBeforeCss, `${when}: the page navigated (${navsBeforeCss} -> ${navigations}): it reloaded`);
    check(st.mark === 'before-css-edit', `${when}: our mark on the window is gone: the page reloaded`);
    check(st.ticks > beforeCss.ticks, `${when}: the counter did not keep growing (${beforeCss.ticks} -> ${st.ticks})`);
  };
  noReload(s, 'the new colour showed');
  const link = s.links.length === 1 && new URL(s.links[0], pageUrl);
  check(link && link.pathname === '/style.css' && /^\d+$/.test(link.searchParams.get('live')),
    `the stylesheet link was not swapped to style.css?live=...: ${JSON.stringify(s.links)}`);
  check(s.live.events > beforeCss.live.events, 'the page restyled without a change event');
  // A wrong reload may come a little later (live.js reloads 300 ms after its notice):
  // look again once that had time to happen.
  await page.waitForTimeout(QUIET_MS);
  const later = await state();
  noReload(later, `${QUIET_MS} ms later`);
  check(later.marker === NEW_COLOUR, `${QUIET_MS} ms later #marker is ${later.marker}, no longer ${NEW_COLOUR}`);
  const events = later.live.events - beforeCss.live.events;
  log(`step 2: ok, the stylesheet was swapped without a reload (counter ${beforeCss.ticks} -> ${later.ticks}, ` +
    `${events} change event${events === 1 ? '' : 's'} for the one save${events === 1 ? '' : ': one was expected'})`);

  check(foreign.length === 0, `requests left 127.0.0.1: ${foreign.join(' ')}`);
}

let status = 0;
try {
  await run();
  log('PASS: edited page reloaded, edited stylesheet swapped in place');
} catch (err) {
  status = 1;
  console.log(`live-reload: FAIL: ${err instanceof Failure ? err.message : err.stack}`);
  if (page) {
    try {
      console.log(`live-reload: the page then: ${page.url()} ${JSON.stringify(await state())}`);
    } catch (e) {
      console.log(`live-reload: the page's state is unknown (${e.message.split('\n')[0]})`);
    }
  }
  for (const line of consoleLines) console.log(`live-reload: browser ${line}`);
} finally {
  if (browser) {
    // Closing is bounded too: past 5 s, exit anyway (Playwright kills the browser then).
    await Promise.race([browser.close(), new Promise((resolve) => setTimeout(resolve, 5000))]);
  }
  clearTimeout(watchdog);
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
process.exit(status);
