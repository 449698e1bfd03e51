// The interop harness's smoke check (run by test_chromium_smoke.py inside the netns): launch
// Chromium through chromium.mjs, make a publisher offer from the fake camera and microphone,
// and print it as JSON on stdout. Proves playwright-core, Debian's Chromium, the fake devices
// and loopback host candidates all work on this machine.
import { createPublisherOffer, launchChromium } from './chromium.mjs';

const browser = await launchChromium();
try {
  const offer = await createPublisherOffer(browser.page);
  const userAgent = await browser.page.evaluate(() => navigator.userAgent);
  process.stdout.write(JSON.stringify({ ok: true, userAgent, offer }) + '\n');
} catch (error) {
  process.stdout.write(JSON.stringify({ ok: false, error: String(error?.message ?? error) }) + '\n');
  process.exitCode = 1;
} finally {
  await browser.close();
}
