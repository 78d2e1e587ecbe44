// The benchmark's HTML report (tests/bench-report) in a real browser: Debian's chromium,
// headless, driven by playwright-core. tests/bench-report.bats runs it on the report of
// a fixture TSV (no benchmark is run: speed is never a test):
//
//   node bench-report.mjs REPORT.html SCREENSHOT.png EXPECT.json
//
// EXPECT.json says what the page must show:
//   { "charts": [ { "id": "chart-rps-wrk", "title": "...", "x": "...", "y": "...",
//                   "legend": ["01-iterative", ...], "series": ["01-iterative", ...] }, ... ],
//     "text": ["49,500", ...] }
// x and y are text the axis labels must hold (their unit), legend the text of legend
// entries, series the servers whose data must be drawn (class "series", data-server).
//
// The checks, each of which fails the run with a line that says which:
//   - the page loads from file:// and asks for nothing else (every other request is
//     refused and reported), and has no script: it needs nothing but itself;
//   - every chart of EXPECT is there, as an <svg class="chart"> whose bounding box is not
//     empty (300 x 150 px at least: a border alone is 2 x 2), with a title, an x and a y axis label holding the expected text, at least
//     three labelled ticks on x (and on y, but for a bar chart), a legend entry for each
//     expected name, visible; and each expected series drawn with marks that take room;
//   - the plot area of every chart, as the screenshot shows it, has coloured pixels (the
//     lines and bars: the frame, grid and text are grey or black);
//   - the whole page's screenshot (written to SCREENSHOT) is not blank: some share of it
//     is not white, in many colours;
//   - every string of EXPECT.text is in the page's text.
// Pixels are counted by the browser itself: the screenshot is drawn on a canvas in a
// second page. Exit 0 when all held, 1 when a check failed, 2 on a usage or setup error.
// Every wait is bounded; the whole run ends within about 30 s.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadChromium, startWatchdog } from './common.mjs';

const TOTAL_MS = 30000;		// the whole run, browser start and close included
const LAUNCH_MS = 15000;	// starting chromium (slow on a busy machine the first time)
const LOAD_MS = 8000;		// loading the page
const MIN_W = 300, MIN_H = 150;	// a chart's box, at least (in CSS px): not just its border
const MIN_TICKS = 3;		// labelled ticks an axis needs at least
const MIN_COLOURED = 0.002;	// share of a plot area's pixels in colour, at least
const MIN_INKED = 0.02;		// share of the page's pixels that are not white, at least
const MIN_COLOURS = 16;		// distinct colours in the page's screenshot, at least

const started = Date.now();
const log = (msg) => console.log(`bench-report: [${((Date.now() - started) / 1000).toFixed(2)}s] ${msg}`);
class Failure extends Error {}
const check = (ok, msg) => { if (!ok) throw new Failure(msg); };

const [report, shotFile, expectFile] = process.argv.slice(2);
if (!report || !shotFile || !expectFile) {
  console.error('usage: node bench-report.mjs REPORT.html SCREENSHOT.png EXPECT.json');
  process.exit(2);
}
let expect;
try {
  expect = JSON.parse(readFileSync(expectFile, 'utf8'));
} catch (err) {
  console.error(`bench-report: cannot read ${expectFile}: ${err.message}`);
  process.exit(2);
}
const pageUrl = pathToFileURL(path.resolve(report)).href;

const watchdog = startWatchdog('bench-report', TOTAL_MS);
const chromium = await loadChromium('bench-report');

let browser;
const foreign = [];	// anything the page asked for but itself

// Counts a PNG's pixels in the browser: drawn on a canvas of the analysis page.
//   inked: not (near) white; coloured: saturated (max - min of r, g, b over 60), which
//   grey, black and white are not; colours: distinct colours, to 5 bits a channel.
async function pixels(lab, png) {
  return lab.evaluate(async (b64) => {
    const img = new Image();
    img.src = `data:image/png;base64,${b64}`;
    await img.decode();
    const c = document.createElement('canvas');
    c.width = img.width;
    c.height = img.height;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let inked = 0, coloured = 0;
    const colours = new Set();
    for (let i = 0; i < d.length; i += 4) {
      const r = d[i], gr = d[i + 1], b = d[i + 2];
      if (r < 235 || gr < 235 || b < 235) inked++;
      if (Math.max(r, gr, b) - Math.min(r, gr, b) > 60) coloured++;
      colours.add(((r >> 3) << 10) | ((gr >> 3) << 5) | (b >> 3));
    }
    const n = d.length / 4;
    return { n, inked: inked / n, coloured: coloured / n, colours: colours.size };
  }, png.toString('base64'));
}

// What the page shows of one chart, in one round trip.
const chartFacts = (page, id) => page.evaluate((id) => {
  const svg = document.getElementById(id);
  if (!svg) return null;
  const box = (el) => { const r = el.getBoundingClientRect(); return { w: r.width, h: r.height }; };
  const texts = (sel) => [...svg.querySelectorAll(sel)].map((t) => t.textContent.trim()).filter((t) => t);
  const series = {};
  for (const g of svg.querySelectorAll('.series')) {
    // the marks of one server's data: its line, its points or its bar, with their size
    const marks = [...g.querySelectorAll('polyline, circle, rect')].map(box).filter((b) => b.w > 0 && b.h > 0);
    series[g.dataset.server] = marks.length;
  }
  return {
    tag: svg.tagName.toLowerCase(),
    box: box(svg),
    title: texts('.chart-title').join(' '),
    x: texts('.axis-label.x').join(' '),
    y: texts('.axis-label.y').join(' '),
    xticks: texts('.tick.x text').length,
    yticks: texts('.tick.y text').length,
    legend: [...svg.querySelectorAll('.legend-entry')].map((e) => ({ text: e.textContent.trim(), ...box(e) })),
    series,
  };
}, id);

async function run() {
  browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    timeout: LAUNCH_MS,
    args: ['--no-sandbox', '--no-proxy-server', '--proxy-bypass-list=*',
      '--host-resolver-rules=MAP * ~NOTFOUND'],
  });
  const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
  // Nothing may leave the page: any request but the report itself is refused, and noted.
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url === pageUrl) return route.continue();
    foreign.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  await page.goto(pageUrl, { timeout: LOAD_MS, waitUntil: 'load' });
  log(`loaded ${pageUrl}`);

  check(foreign.length === 0, `the page asked for other things than itself: ${foreign.slice(0, 5).join(', ')}`);
  const scripts = await page.evaluate(() => document.scripts.length);
  check(scripts === 0, `the page has ${scripts} script(s): it must need none`);
  log('self-contained: no request but the page, no script');

  const lab = await context.newPage();	// where screenshots are counted (about:blank)
  for (const want of expect.charts) {
    const f = await chartFacts(page, want.id);
    const name = `chart ${want.id}`;
    check(f, `${name}: not in the page`);
    check(f.tag === 'svg', `${name}: a <${f.tag}>, not an <svg>`);
    check(f.box.w >= MIN_W && f.box.h >= MIN_H,
      `${name}: bounding box ${f.box.w} x ${f.box.h} px, under ${MIN_W} x ${MIN_H}: (nearly) empty`);
    check(f.title.includes(want.title), `${name}: title "${f.title}" lacks "${want.title}"`);
    check(f.x.includes(want.x), `${name}: x axis label "${f.x}" lacks "${want.x}"`);
    check(f.y.includes(want.y), `${name}: y axis label "${f.y}" lacks "${want.y}"`);
    check(f.xticks >= MIN_TICKS, `${name}: ${f.xticks} labelled ticks on x, fewer than ${MIN_TICKS}`);
    if (!want.bars)
      check(f.yticks >= MIN_TICKS, `${name}: ${f.yticks} labelled ticks on y, fewer than ${MIN_TICKS}`);
    for (const entry of want.legend) {
      const e = f.legend.find((l) => l.text.includes(entry));
      check(e, `${name}: no legend entry "${entry}" (legend: ${JSON.stringify(f.legend.map((l) => l.text))})`);
      check(e.w > 0 && e.h > 0, `${name}: legend entry "${entry}" takes no room`);
    }
    for (const s of want.series)
      check(f.series[s] > 0, `${name}: nothing drawn for ${s} (series: ${JSON.stringify(f.series)})`);
    // The plot area, as the screen shows it: the lines or bars must be there in colour.
    const frame = await page.$(`#${want.id} .frame`);
    check(frame, `${name}: no plot frame`);
    const p = await pixels(lab, await frame.screenshot({ timeout: LOAD_MS }));
    check(p.coloured >= MIN_COLOURED,
      `${name}: its plot area is ${(p.coloured * 100).toFixed(2)}% coloured, under ${MIN_COLOURED * 100}%: no data drawn`);
    log(`${name}: ${Math.round(f.box.w)} x ${Math.round(f.box.h)} px, ${f.xticks}/${f.yticks} ticks, ` +
      `${f.legend.length} legend entries, ${Object.keys(f.series).length} series, ` +
      `plot ${(p.coloured * 100).toFixed(1)}% coloured`);
  }
  const charts = await page.evaluate(() => document.querySelectorAll('svg.chart').length);
  log(`${expect.charts.length} charts checked of ${charts} in the page`);

  const shot = await page.screenshot({ path: shotFile, fullPage: true, timeout: LOAD_MS });
  const p = await pixels(lab, shot);
  check(p.inked >= MIN_INKED && p.colours >= MIN_COLOURS,
    `the page's screenshot is blank: ${(p.inked * 100).toFixed(2)}% not white, ${p.colours} colours`);
  log(`screenshot ${shotFile}: ${(p.inked * 100).toFixed(1)}% not white, ${p.colours} colours`);

  const text = await page.evaluate(() => document.body.innerText);
  for (const t of expect.text || [])
    check(text.includes(t), `the page's text lacks "${t}"`);
  log(`${(expect.text || []).length} expected strings found`);
}

let status = 0;
try {
  await run();
  log('PASS: self-contained, every chart drawn with axes, ticks, units and legend, screenshot not blank');
} catch (err) {
  status = 1;
  console.log(`bench-report: FAIL: ${err instanceof Failure ? err.message : err.stack}`);
} finally {
  if (browser)
    await Promise.race([browser.close(), new Promise((resolve) => setTimeout(resolve, 5000))]);
  clearTimeout(watchdog);
  log(`done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}
process.exit(status);
