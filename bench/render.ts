// npm run bench:render [-- --smoke] [--people N] [--threads N] [--in-flight N]
//
// One email built from a layout and eight components (MJML + Liquid, ten Liquid variables plus the
// unsubscribe tag), compiled once, then rendered for 10,000 generated people through Tandem's
// Renderer (subject + HTML + plain text, safe engine with limits, HTML-escaped outputs). In the same
// run, the raw baseline: LiquidJS alone with its own HTML auto-escaping (`outputEscape: 'escape'`),
// so it produces the same HTML bytes (checked), rendering the same pre-compiled HTML for the same
// people, alternating in rounds. Also printed, for reference: LiquidJS without escaping (different,
// unsafe output). Prints renders/s and the ratio. Tandem renders in its render threads (one per core,
// at most 4, or --threads) with --in-flight renders outstanding (default 64), as the send job keeps
// a batch in flight; the raw baseline is LiquidJS on the main thread, one core.
import { Liquid } from 'liquidjs';
import { Renderer, buildRenderData, defaultThreads, type RenderData, type RenderResult } from '../src/modules/content/index.ts';
import { opt } from './args.ts';
import { rng } from './rng.ts';

const args = process.argv.slice(2);
const smoke = args.includes('--smoke');
const peopleArg = args.indexOf('--people');
const PEOPLE = peopleArg >= 0 ? Number(args[peopleArg + 1]) : smoke ? 500 : 10_000;
const THREADS = opt('threads', defaultThreads());
const IN_FLIGHT = opt('in-flight', 64);

/** Render every item with `inFlight` renders outstanding; `each` sees the results in completion order. */
async function inFlight<T>(items: T[], n: number, render: (item: T) => Promise<RenderResult>, each: (out: RenderResult) => void): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(n, items.length) }, async () => {
    while (next < items.length) each(await render(items[next++] as T));
  }));
}

const layout = (content: string) => `<mjml>
  <mj-head>
    <mj-title>{{ workspace.name }}</mj-title>
    <mj-attributes><mj-all font-family="Helvetica, Arial, sans-serif" /><mj-text font-size="15px" line-height="22px" color="#333333" /></mj-attributes>
    <mj-style inline="inline">.muted { color: #888888; } .price { font-weight: bold; color: #0a7; }</mj-style>
  </mj-head>
  <mj-body background-color="#f4f4f4" width="600px">
${content}
  </mj-body>
</mjml>`;

// Eight components, already expanded with their props (as the content service assembles them).
const components = [
  `<mj-section background-color="#ffffff"><mj-column><mj-image src="https://assets.example/logo.png" alt="{{ workspace.name }}" width="120px" href="https://shop.example" /></mj-column></mj-section>`,
  `<mj-section background-color="#1a1a2e"><mj-column><mj-text color="#ffffff" font-size="28px" align="center">Hello {{ customer.first_name | default: "there" }}!</mj-text><mj-text color="#dddddd" align="center">Your {{ customer.plan }} plan has something new.</mj-text></mj-column></mj-section>`,
  `<mj-section background-color="#ffffff"><mj-column><mj-text font-size="22px"><h2>Picked for you in {{ customer.city }}</h2></mj-text></mj-column></mj-section>`,
  `<mj-section background-color="#ffffff"><mj-column><mj-text>Hi {{ customer.first_name }} {{ customer.last_name }}, we saw you looking at <b>{{ event.product }}</b>. {% if customer.plan == "pro" %}As a Pro member you get free shipping.{% else %}Upgrade to Pro for free shipping.{% endif %}</mj-text></mj-column></mj-section>`,
  `<mj-section background-color="#ffffff"><mj-column><mj-button background-color="#0a7" href="{{ event.url }}?utm_source=email&amp;cid={{ customer.id }}">View {{ event.product }}</mj-button></mj-column></mj-section>`,
  `<mj-section background-color="#ffffff"><mj-column><mj-image src="https://assets.example/products/{{ event.sku }}.jpg" alt="{{ event.product }}" /></mj-column><mj-column><mj-text><span class="price">{{ event.price | times: 1.0 | round: 2 }} EUR</span></mj-text><mj-text css-class="muted">Code {{ trigger.coupon }} saves 10%.</mj-text></mj-column></mj-section>`,
  `<mj-section background-color="#ffffff"><mj-column><mj-divider border-color="#eeeeee" border-width="1px" /></mj-column></mj-section>`,
  `<mj-section><mj-column><mj-text align="center" font-size="12px" css-class="muted">{{ workspace.name }}, 1 Main Street, Springfield. Sent to {{ customer.email }}.<br /><a href="{% unsubscribe_url %}">Unsubscribe</a> · <a href="{% manage_subscription_preferences_url %}">Preferences</a></mj-text></mj-column></mj-section>`,
];
const mjml = layout(components.join('\n'));
const subject = '{{ customer.first_name }}, {{ event.product }} is waiting';
const preheader = 'Code {{ trigger.coupon }} inside';


function people(count: number): RenderData[] {
  const r = rng(7);
  const firsts = ['Ann', 'Bob', 'Chloé', 'Dmitri', 'Eve', 'Fatima', 'Gus', 'Hana'];
  const cities = ['Lisbon', 'Oslo', 'Lyon', 'Austin', 'Osaka', 'Cork'];
  const products = ['Desk Lamp', 'Walnut Shelf', 'Wool Throw', 'Tea Kettle'];
  const pick = <T>(xs: T[]): T => xs[Math.floor(r() * xs.length)] as T;
  return Array.from({ length: count }, (_, i) =>
    buildRenderData({
      person: {
        id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        externalId: `user-${i}`,
        email: `user${i}@example.com`,
        attributes: { first_name: pick(firsts), last_name: 'Doe', plan: r() < 0.3 ? 'pro' : 'free', city: pick(cities) },
      },
      event: { product: pick(products), sku: `SKU-${i % 100}`, price: Math.round(r() * 20000) / 100, url: 'https://shop.example/p/1' },
      trigger: { coupon: `C${i % 50}` },
      workspace: { name: 'Acme Home' },
      links: { unsubscribe_url: `https://t.example/u/${i}.sig`, preferences_url: `https://t.example/p/${i}.sig` },
    }),
  );
}

async function main() {
  const data = people(PEOPLE);
  const renderer = new Renderer({ threads: THREADS });
  const source = { key: 'bench@1', mjml, subject, preheader };

  const c0 = performance.now();
  const compiled = await renderer.compile(source);
  const compileMs = performance.now() - c0;

  // Raw baseline: LiquidJS on the same pre-compiled HTML (no limits, no text part), escaping outputs
  // as Tandem does. The two link tags are registered the plain way (print message.<url>).
  const plainLiquid = (escape: boolean) => {
    const engine = new Liquid(escape ? { outputEscape: 'escape' } : {});
    for (const [tag, key] of [['unsubscribe_url', 'unsubscribe_url'], ['manage_subscription_preferences_url', 'preferences_url']]) {
      engine.registerTag(tag as string, {
        render(ctx, emitter) {
          const url: unknown = ctx.getSync(['message', key as string]);
          emitter.write(typeof url === 'string' ? url : '');
        },
      });
    }
    const tpl = engine.parse(compiled.html);
    return (d: RenderData) => engine.renderSync(tpl, d) as string;
  };
  const runRaw = plainLiquid(true);
  const runUnescaped = plainLiquid(false);
  const runTandem = (d: RenderData) => renderer.render({ ...source, data: d });

  // Warm up every path (JIT) before timing, and check the baseline makes the same HTML.
  for (const d of data.slice(0, 200)) {
    runUnescaped(d);
    if (runRaw(d) !== (await runTandem(d)).html) throw new Error('the raw baseline and Tandem disagree on the HTML');
  }

  // Alternate the two in rounds so that noise from other jobs on the machine hits both alike.
  const ROUNDS = 5;
  const chunk = Math.ceil(data.length / ROUNDS);
  let rawMs = 0;
  let unescapedMs = 0;
  let tandemMs = 0;
  let rawBytes = 0;
  let htmlBytes = 0;
  let textBytes = 0;
  for (let round = 0; round < ROUNDS; round++) {
    const slice = data.slice(round * chunk, (round + 1) * chunk);
    const r0 = performance.now();
    for (const d of slice) rawBytes += runRaw(d).length;
    rawMs += performance.now() - r0;
    const u0 = performance.now();
    for (const d of slice) runUnescaped(d);
    unescapedMs += performance.now() - u0;
    const t0 = performance.now();
    await inFlight(slice, IN_FLIGHT, runTandem, (out) => {
      htmlBytes += out.html.length;
      textBytes += out.text.length;
    });
    tandemMs += performance.now() - t0;
  }

  const rate = (ms: number) => Math.round((data.length / ms) * 1000);
  const tandemRate = rate(tandemMs);
  const rawRate = rate(rawMs);
  console.log(`render bench: ${data.length} people, layout + ${components.length} components, MJML source ${mjml.length} chars`);
  console.log(`  compile (MJML + text + parse, once): ${compileMs.toFixed(1)} ms; compiled HTML ${compiled.html.length} chars`);
  console.log(`  tandem   ${String(tandemRate).padStart(7)} renders/s  (subject + html + text; ${(tandemMs / data.length).toFixed(3)} ms each; avg html ${Math.round(htmlBytes / data.length)} B, text ${Math.round(textBytes / data.length)} B)`);
  console.log(`  raw      ${String(rawRate).padStart(7)} renders/s  (LiquidJS alone with outputEscape, html only, same bytes; avg ${Math.round(rawBytes / data.length)} B)`);
  console.log(`  (ref)    ${String(rate(unescapedMs)).padStart(7)} renders/s  LiquidJS without escaping (unsafe output); ratio against it ${(tandemRate / rate(unescapedMs)).toFixed(2)}`);
  console.log(`  ratio    ${(tandemRate / rawRate).toFixed(2)} of raw (target >= 0.5); target >= 2000 renders/s: ${tandemRate >= 2000 ? 'met' : 'NOT met'}`);
  console.log(`  compiles ${renderer.stats.compiles} (in threads ${renderer.stats.threadCompiles}), cache hits ${renderer.stats.hits}; ${THREADS} render threads, ${IN_FLIGHT} in flight`);
  await renderer.close();
}

await main();
