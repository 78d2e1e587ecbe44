// What the browser scripts share: a watchdog that ends a run that hangs, and
// playwright-core, loaded with a hint when it is missing (tests/browser/setup).
export function startWatchdog(name, ms) {
  return setTimeout(() => {
    console.log(`${name}: FAIL: not done after ${ms / 1000} s; giving up`);
    process.exit(1);
  }, ms);
}

export async function loadChromium(name) {
  try {
    return (await import('playwright-core')).chromium;
  } catch (err) {
    console.error(`${name}: cannot load playwright-core (${err.message}); run tests/browser/setup`);
    process.exit(2);
  }
}
