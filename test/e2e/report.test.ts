/**
 * `airlock inspect --report`: the security officer's report, end to end through the CLI.
 * A hostile release (markup, `</pre>`, a fence and a bidi override in its files and
 * names) must come out escaped in every format, and the HTML must render in headless
 * Chromium without a single console message.
 */
import { createHash } from 'node:crypto';
import { copyFile, mkdir, mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleReader } from '../../src/bundle/reader.js';
import { exitCodeFor } from '../../src/exit-codes.js';
import { runChromium } from '../support/chromium.js';
import { runCli } from '../support/cli.js';
import { makeTestImages, type TestImages } from '../support/images.js';

const PASS = 'correct horse battery staple';
const env = { AIRLOCK_PASSPHRASE: PASS, SOURCE_DATE_EPOCH: '1767225600' };
const EVIL_CONFIG = '</pre><script>alert("config")</script>\nlisten 8080;\n';
const EVIL_DEST = 'app/x<img src=x onerror=alert(1)>.conf';
const EVIL_SQL = "-- ``` not a fence\nCREATE TABLE notes (body text DEFAULT '</pre><script>alert(1)</script>');\n";
const EVIL_HOOK = '#!/bin/sh\nrole="user" # \u202E ;nimda=elor\necho ok\n';

let dir: string;
let trust: string;
let strangerTrust: string;
let shop: string;
let hostile: string;
let images: TestImages;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'airlock-report-'));
  trust = join(dir, 'trust');
  strangerTrust = join(dir, 'stranger-trust');
  await mkdir(trust);
  await mkdir(strangerTrust);
  for (const name of ['build', 'stranger']) {
    const made = await runCli(['keys', 'generate', '--name', name, '--out', join(dir, 'keys')], { env });
    expect(made.code, made.stderr).toBe(0);
  }
  await copyFile(join(dir, 'keys', 'build.pub.pem'), join(trust, 'build.pub.pem'));
  await copyFile(join(dir, 'keys', 'stranger.pub.pem'), join(strangerTrust, 'stranger.pub.pem'));
  const key = join(dir, 'keys', 'build.key.pem');

  const builtShop = await runCli(['build', 'manifests/shop.yaml', '--key', key, '--out', join(dir, 'shop')], { env });
  expect(builtShop.code, builtShop.stderr).toBe(0);
  shop = join(dir, 'shop', 'shop-1.0.0.airlock');

  const src = join(dir, 'hostile-src');
  for (const sub of ['cfg', 'mig', 'hooks']) await mkdir(join(src, sub), { recursive: true });
  await writeFile(join(src, 'cfg', 'evil.conf'), EVIL_CONFIG);
  await writeFile(join(src, 'mig', 'V1__init.sql'), EVIL_SQL);
  await writeFile(join(src, 'hooks', 'check.sh'), EVIL_HOOK);
  images = await makeTestImages(join(src, 'layout'));
  await writeFile(
    join(src, 'hostile.yaml'),
    [
      'name: hostile',
      'version: 2.0.0',
      'expires: 3650d',
      'targets:',
      '  sites: [plant-7]',
      'configs:',
      '  prod:',
      '    - src: cfg/evil.conf',
      `      dest: '${EVIL_DEST}'`,
      'migrations:',
      '  main:',
      '    dir: mig',
      'hooks:',
      '  preInstall:',
      '    - { name: check, script: hooks/check.sh }',
      'images:',
      '  - { ref: registry.example.internal/plant/multi:2.0.0, ociLayout: layout, tag: multi }',
      '  - { ref: registry.example.internal/plant/app:2.0.0, ociLayout: layout, tag: app1 }',
      '',
    ].join('\n'),
  );
  const builtHostile = await runCli(['build', join(src, 'hostile.yaml'), '--key', key, '--out', join(dir, 'hostile')], { env });
  expect(builtHostile.code, builtHostile.stderr).toBe(0);
  hostile = join(dir, 'hostile', 'hostile-2.0.0.airlock');
});

async function report(bundle: string, file: string, ...extra: string[]) {
  const out = join(dir, file);
  const result = await runCli(['inspect', bundle, '--report', out, ...extra]);
  return { ...result, out, text: await readFile(out, 'utf8').catch(() => '') };
}

async function bundleFacts(bundle: string) {
  const reader = await BundleReader.open(bundle);
  try {
    const sums = await reader.readFile('SHA256SUMS');
    return {
      digest: createHash('sha256').update(sums).digest('hex'),
      lines: sums.toString('utf8').trimEnd().split('\n').map((line) => ({ sha256: line.slice(0, 64), path: line.slice(66) })),
      keyIds: reader.entries.flatMap((entry) => /^signatures\/([0-9a-f]{64})\.sig$/.exec(entry.path)?.[1] ?? []),
    };
  } finally {
    await reader.close();
  }
}

const escapeHtml = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');

describe('airlock inspect --report', () => {
  it('writes one self-contained HTML page that says plainly the signatures were not checked', async () => {
    const result = await report(shop, 'shop-unchecked.html');
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain('signatures not checked');
    const html = result.text;
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('Signatures not checked');
    // Nothing to fetch or run: no such elements, no src, links only within the page.
    expect(html).not.toMatch(/<(script|link|img|iframe|object|embed)\b|\ssrc=/i);
    expect(html.match(/\shref="[^"]*"/g)?.every((href) => href.startsWith(' href="#'))).toBe(true);
    expect(html).toContain('@media print');
    const facts = await bundleFacts(shop);
    expect(html).toContain(facts.digest);
    for (const line of facts.lines) {
      expect(html).toContain(line.path);
      expect(html).toContain(line.sha256);
    }
    expect(html).toContain(facts.keyIds[0]);
    // Migrations and hooks in full, line for line.
    const reader = await BundleReader.open(shop);
    try {
      for (const path of ['migrations/shop/V2__create_orders.sql', 'hooks/health-check.sh']) {
        for (const line of (await reader.readFile(path)).toString('utf8').trimEnd().split('\n')) {
          expect(html).toContain(`<span class="line">${escapeHtml(line)}</span>`);
        }
      }
    } finally {
      await reader.close();
    }
    for (const dest of ['shop/app.yaml', 'nginx/conf.d/upstream.conf']) expect(html).toContain(dest);
    expect(html).toContain('2028-01-01T00:00:00Z');
  });

  it('runs the real verification with --trust and leads with the verdict, signers and policy', async () => {
    const result = await report(shop, 'shop-verified.html', '--trust', trust, '--json');
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ verdict: 'verified', release: { name: 'shop', version: '1.0.0' }, checksumsDigest: (await bundleFacts(shop)).digest });
    expect(result.text).toContain('verdict-verified');
    expect(result.text).toMatch(/<div class="verdict-title">Verified<\/div>/);
    expect(result.text).toContain('>build<');
    expect(result.text).toContain('1 counted of 1 required');
    expect(result.text).not.toContain('Signatures not checked');
  });

  it('still writes the report of a bundle that fails verification, then fails with its code', async () => {
    const result = await report(shop, 'shop-rejected.html', '--trust', strangerTrust);
    expect(result.code).toBe(exitCodeFor('SIGNATURE_UNTRUSTED'));
    expect(result.stderr).toContain('SIGNATURE_UNTRUSTED');
    expect(result.text).toMatch(/<div class="verdict-title">Rejected<\/div>/);
    expect(result.text).toContain('SIGNATURE_UNTRUSTED');
    expect(result.text).toContain('not in the trust store');
  });

  it('escapes everything taken from the bundle in HTML, and lists every image', async () => {
    const { text: html, code, stderr } = await report(hostile, 'hostile.html', '--trust', trust);
    expect(code, stderr).toBe(0);
    expect(html).not.toMatch(/<script|<img/i);
    expect(html).toContain(escapeHtml(EVIL_DEST));
    expect(html).toContain(`<span class="line">${escapeHtml('</pre><script>alert("config")</script>')}</span>`);
    expect(html).toContain(escapeHtml("CREATE TABLE notes (body text DEFAULT '</pre><script>alert(1)</script>');"));
    // Our own <pre> blocks (three files and the SBOM) are the only ones, and each is closed once.
    expect(html.match(/<pre[ >]/g)).toHaveLength(4);
    expect(html.match(/<\/pre>/g)).toHaveLength(4);
    // The bidi override is shown, not obeyed.
    expect(html).not.toContain('\u202E');
    expect(html).toContain('⟨U+202E⟩');
    expect(html).toContain('hidden characters');
    for (const image of [images.multi, images.app1]) expect(html).toContain(image.descriptor.digest);
    expect(html).toContain('registry.example.internal/plant/multi:2.0.0');
    expect(html).toContain('linux/arm64/v8');
    expect(html).toContain('plant-7');
  });

  it('renders Markdown from the same model, with fences the content cannot close', async () => {
    const { text: md, code } = await report(hostile, 'hostile.md');
    expect(code).toBe(0);
    expect(md).toContain('**SIGNATURES NOT CHECKED**');
    expect(md).toContain(`\`\`\`\`sql\n${EVIL_SQL}\`\`\`\``);
    expect(md).toContain('app/x\\<img src=x onerror=alert(1)\\>.conf');
    expect(md).not.toContain('\u202E');
    expect(md).toContain((await bundleFacts(hostile)).digest);
  });

  it('renders JSON from the same model, with the texts exactly as in the bundle', async () => {
    const { text, code } = await report(hostile, 'hostile.report', '--format', 'json', '--trust', trust);
    expect(code).toBe(0);
    const model = JSON.parse(text);
    expect(model.format).toBe('airlock-report/v1');
    expect(model.verification).toMatchObject({ checked: true, ok: true });
    expect(model.configs[0]).toMatchObject({ environment: 'prod', dest: EVIL_DEST, mode: '0644', template: false, matchesChecksum: true, content: { kind: 'text', text: EVIL_CONFIG } });
    expect(model.migrations[0]).toMatchObject({ database: 'main', version: '1', content: { text: EVIL_SQL } });
    expect(model.hooks[0]).toMatchObject({ phase: 'preInstall', name: 'check', content: { text: EVIL_HOOK, hiddenCharacters: 1 } });
    expect(model.images.map((image: { ref: string }) => image.ref)).toEqual(['registry.example.internal/plant/multi:2.0.0', 'registry.example.internal/plant/app:2.0.0']);
    expect(model.listing.length).toBe((await bundleFacts(hostile)).lines.length);
  });

  it('refuses report options without --report, and unknown formats', async () => {
    const noReport = await runCli(['inspect', shop, '--trust', trust]);
    expect(noReport.code).toBe(exitCodeFor('USAGE'));
    expect(noReport.stderr).toContain('--report');
    const badFormat = await runCli(['inspect', shop, '--report', join(dir, 'x.pdf'), '--format', 'pdf']);
    expect(badFormat.code).toBe(exitCodeFor('USAGE'));
    expect(badFormat.stderr).toContain('--format');
  });
});

describe('the HTML report in headless Chromium', () => {
  it('renders the verified report to a screenshot without a console message', async () => {
    const { out } = await report(shop, 'shop-chromium.html', '--trust', trust);
    const png = join(dir, 'shop-report.png');
    const shot = await runChromium(out, ['--screenshot', png]);
    expect(shot.console).toEqual([]);
    const bytes = await readFile(png);
    expect(bytes.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))).toBe(true);
    expect((await stat(png)).size).toBeGreaterThan(50_000);
  });

  it('parses the hostile report into a DOM with no script or image element and no console message', async () => {
    const { out } = await report(hostile, 'hostile-chromium.html');
    const dom = await runChromium(out, ['--dump-dom']);
    expect(dom.console).toEqual([]);
    expect(dom.stdout).toContain('<h1>hostile <span class="version">2.0.0</span></h1>');
    expect(dom.stdout).not.toMatch(/<script|<img/i);
    expect(dom.stdout).toContain('&lt;/pre&gt;&lt;script&gt;');
  });
});
