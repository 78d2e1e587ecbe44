// The live script when the server has no room for its stream (05-watch --max-streams 1,
// and the one place taken). tests/05-watch-browser.bats runs it against a server it
// started with --max-streams 1:
//
//   node stream-cap.mjs URL
//
// The steps: take the one place with a stream of our own (node's fetch, body unread);
// open URL/page.html in headless chromium: its /_/events gets 503, and EventSource
// gives up on an answer that is not a stream, so the page must not be connected a
// while later; then end our stream: the live script, trying again by itself, must
// connect within a few seconds. Exit 0 when all held, 1 when a check failed, 2 on a
// usage or setup error. Every wait is bounded; the run ends within about 30 s.
import { loadChromium, startWatchdog } from './common.mjs';

const TOTAL_MS = 30000;
const LAUNCH_MS = 15000;
const LOAD_MS = 8000;
const REFUSED_MS = 1500;	// how long the page is watched not connecting
const RETRY_MS = 10000;		// live.js tries again 2 s after the 503, then 4 s later

const started = Date.now();
const log = (msg) => console.log(`stream-cap: [${((Date.now() - started) / 1000).toFixed(2)}s] ${msg}`);
class Failure extends Error {}
const check = (ok, msg) => { if (!ok) throw new Failure(msg); };

const [url] = process.argv.slice(2);
if (!url || !/^http:\/\/127\.0\.0\.1:\d+\/$/.test(url)) {
  console.error('usage: node stream-cap.mjs http://127.0.0.1:PORT/');
  process.exit(2);
}
const watchdog = startWatchdog('stream-cap', TOTAL_MS);
const chromium = await loadChromium('stream-cap');

let browser;
const ours = new AbortController();
const statuses = [];	// what the page's /_/events requests were answered

async function run() {
  const mine = await fetch(new URL('_/events', url), { signal: ours.signal });
  check(mine.status === 200, `our own stream was answered ${mine.status}, not 200`);
  log('our stream holds the one place (--max-streams 1)');

  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    timeout: LAUNCH_MS,
    args: ['--no-sandbox', '--no-proxy-server', '--proxy-bypass-list=*',
      '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1'],
  });
  const page = await browser.newPage();
  page.on('response', (res) => {
    if (new URL(res.url()).pathname !== '/_/events') return;
    statuses.push(res.status());
    log(`the page's /_/events: ${res.status()}`);
  });
  await page.goto(new URL('page.html', url).href, { timeout: LOAD_MS, waitUntil: 'load' });
  const connected = () => page.evaluate(() => !!window.stagedLive?.server);
  await page.waitForTimeout(REFUSED_MS);
  check(statuses.includes(503), `no 503 for the page's stream: ${JSON.stringify(statuses)}`);
  check(!(await connected()), 'the page connected although the one place was taken');
  log('the page was refused (503) and is not connected');

  ours.abort();
  log('our stream ended: the place is free');
  try {
    await page.waitForFunction(() => !!window.stagedLive?.server, null, { timeout: RETRY_MS, polling: 100 });
  } catch (err) {
    throw new Failure(`the page did not connect within ${RETRY_MS / 1000} s of the place coming free: ${JSON.stringify(statuses)}`);
  }
  log(`the page connected after trying again (answers ${JSON.stringify(statuses)})`);
}

let status = 0;
try {
  await run();
  log('PASS: refused while the place was taken, connected once it was free');
} catch (err) {
  status = 1;
  console.log(`stream-cap: FAIL: ${err instanceof Failure ? err.message : err.stack}`);
} finally {
  ours.abort();
  if (browser)
    await Promise.race([browser.close(), new Promise((resolve) => setTimeout(resolve, 5000))]);
  clearTimeout(watchdog);
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
process.exit(status);
