// npm run docs:screenshots: renders the starter kit (the brand layout with every starter component,
// each with its default props) for a sample person and photographs it in Debian's chromium at a
// desktop and a phone width, into docs/img/. Re-run after changing the kit.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Renderer, buildRenderData, composeEmail, starterKit } from '../src/modules/content/index.ts';
import { launchChromium } from '../test/helpers/browser.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const out = path.join(root, 'docs', 'img');

const kit = starterKit();
const mjml = composeEmail({
  layout: kit.layout,
  blocks: kit.components.map((c) => ({ component: c.name })),
  components: new Map(kit.components.map((c) => [c.name, c])),
});
const rendered = await new Renderer().render({
  key: 'screenshots', mjml, subject: 'The starter kit',
  data: buildRenderData({
    person: { id: 'p-1', externalId: 'u-1', email: 'ann@example.com', attributes: { first_name: 'Ann' } },
    workspace: { name: 'Acme Home', postal_address: '1 Main Street\nSpringfield, IL 62701' },
    links: { unsubscribe_url: 'https://example.com/u', preferences_url: 'https://example.com/p', view_in_browser_url: 'https://example.com/v' },
  }),
});

await mkdir(out, { recursive: true });
const browser = await launchChromium();
try {
  for (const [name, width] of [['starter-kit-desktop', 800], ['starter-kit-mobile', 375]] as const) {
    const page = await browser.newPage({ viewport: { width, height: 800 }, deviceScaleFactor: 1 });
    // Placeholder images come from the network in real mail; here they are drawn locally.
    await page.route('**/*', (route) => route.fulfill({
      contentType: 'image/svg+xml',
      body: '<svg xmlns="http://www.w3.org/2000/svg" width="600" height="300"><rect width="100%" height="100%" fill="#cbd5e1"/><text x="50%" y="50%" font-family="sans-serif" font-size="28" fill="#475569" text-anchor="middle" dominant-baseline="middle">image</text></svg>',
    }));
    await page.setContent(rendered.html, { waitUntil: 'load' });
    const file = path.join(out, `${name}.png`);
    await page.screenshot({ path: file, fullPage: true });
    console.log(`wrote ${path.relative(root, file)} (${width} px wide)`);
    await page.close();
  }
} finally {
  await browser.close();
}
