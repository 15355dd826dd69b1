/**
 * The report as one self-contained HTML page: inline CSS, no script, no external
 * resource, readable offline and printable. Every string from the bundle goes through
 * `esc`; the Content-Security-Policy forbids scripts too, in case one ever slips by.
 */
import { humanBytes } from '../ui/format.js';
import { describeBase } from '../manifest/delta.js';
import type { FileContent, ReportFile, ReportModel } from './model.js';
import { verdictOf } from './verdict.js';
import { evidenceRows, evidenceVerdict } from './image-evidence.js';
import { visibleSegments } from './visible-text.js';

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function esc(text: string): string {
  return text.replace(/[&<>"']/g, (char) => ESCAPES[char]!);
}

export function renderHtml(model: ReportModel): string {
  const { release } = model;
  const title = `${release.name} ${release.version}`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="airlock ${esc(model.tool.version)}">
<title>${esc(title)} · airlock release report</title>
<style>${STYLE}</style>
</head>
<body>
<main>
${masthead(model)}
${verdictSection(model)}
${releaseSection(model)}
${signersSection(model)}
${imagesSection(model)}
${deltaSection(model)}
${configsSection(model)}
${migrationsSection(model)}
${hooksSection(model)}
${gatesSection(model)}
${sbomSection(model)}
${listingSection(model)}
<footer>Generated ${esc(model.generated)} by airlock ${esc(model.tool.version)} from ${esc(model.bundle.file)}. The content digest
(SHA-256 of SHA256SUMS) identifies this release whoever signed it; an installer records it. Report format ${esc(model.format)}.</footer>
</main>
</body>
</html>
`;
}

function masthead(model: ReportModel): string {
  const { release } = model;
  return `<header class="masthead">
<div class="kicker">airlock · release report for the security officer</div>
<h1>${esc(release.name)} <span class="version">${esc(release.version)}</span></h1>
<div class="sub">${esc(model.bundle.file)} · ${esc(humanBytes(model.bundle.size))} · ${counts(model)}</div>
</header>`;
}

function counts(model: ReportModel): string {
  const n = (count: number, one: string, many = `${one}s`) => `${count} ${count === 1 ? one : many}`;
  return esc(
    [n(model.images.length, 'image'), n(model.configs.length, 'config file'), n(model.migrations.length, 'migration'), n(model.hooks.length, 'hook'), n(model.listing.length, 'file')].join(' · '),
  );
}

function verdictSection(model: ReportModel): string {
  const verdict = verdictOf(model);
  return `<section class="verdict verdict-${verdict.kind}" role="status">
<div class="verdict-title">${esc(verdict.title)}</div>
${verdict.lines.map((line) => `<p>${esc(line)}</p>`).join('\n')}
</section>`;
}

function releaseSection(model: ReportModel): string {
  const { release, targets } = model;
  const expires =
    release.expires === null
      ? 'never'
      : `${esc(release.expires)} ${release.expired ? badge('bad', `expired at ${model.generated}`) : badge('ok', 'not expired')}`;
  const rows: Array<[string, string]> = [
    ['Release', `${esc(release.name)} ${esc(release.version)}`],
    ['Created', esc(release.created)],
    ['Expires', expires],
    ['Target sites', listOrAny(targets.sites)],
    ['Target environments', listOrAny(targets.environments)],
    ['Health check fails', release.onHealthCheckFailure === 'rollback' ? 'roll back to the previous configs' : 'stop and report'],
    ['Built by', esc(release.builtBy)],
    ['Content digest', `<code class="digest">${esc(model.checksumsDigest)}</code><div class="note">SHA-256 of SHA256SUMS: <code>sha256sum SHA256SUMS</code> prints it</div>`],
  ];
  return section('release', 'Release', `<dl class="facts">${rows.map(([key, value]) => `<dt>${key}</dt><dd>${value}</dd>`).join('')}</dl>`);
}

function listOrAny(values: string[]): string {
  return values.length === 0 ? '<span class="muted">any</span>' : values.map((value) => `<span class="tag">${esc(value)}</span>`).join(' ');
}

const SIGNER_STATUS = {
  valid: ['ok', 'valid'],
  invalid: ['bad', 'INVALID'],
  'unknown-key': ['warn', 'unknown key'],
  revoked: ['bad', 'REVOKED'],
} as const;

function signersSection(model: ReportModel): string {
  const v = model.verification;
  if (!v.checked) {
    const rows = model.signatureFiles.map((keyId) => [`<code class="digest">${esc(keyId)}</code>`, badge('warn', 'not checked')]);
    const body =
      rows.length === 0
        ? '<p class="empty">The bundle carries no signature.</p>'
        : `<p class="note">Key ids of the signature files in the bundle. Whether they are valid, trusted or revoked was not checked.</p>${table(['Key id', 'Status'], rows)}`;
    return section('signers', 'Signatures', body);
  }
  const rows = v.signers.map((signer) => {
    const [tone, label] = SIGNER_STATUS[signer.status];
    return [
      badge(tone, label) + (v.policy?.counted.includes(signer.keyId) ? ' <span class="tag">counted</span>' : ''),
      `<code class="digest">${esc(signer.keyId)}</code>`,
      signer.name === undefined ? '<span class="muted">not in the trust store</span>' : esc(signer.name) + (signer.certifiedBy ? `<div class="note">certified by ${esc(signer.certifiedBy)}</div>` : ''),
      signer.roles.length === 0 ? '<span class="muted">none</span>' : signer.roles.map((role) => `<span class="tag">${esc(role)}</span>`).join(' '),
    ];
  });
  const policy = v.policy
    ? `<dl class="facts"><dt>Policy</dt><dd>${v.policy.met ? badge('ok', 'met') : badge('bad', 'NOT met')}${v.policy.reason && !v.policy.met ? ` ${esc(v.policy.reason)}` : ''}</dd>
<dt>Threshold</dt><dd>${v.policy.counted.length} counted of ${v.policy.threshold} required</dd>
<dt>Required roles</dt><dd>${listOrNone(v.policy.requiredRoles)}</dd><dt>Trust store</dt><dd><code>${esc(v.trustStore)}</code></dd></dl>`
    : '';
  const body = rows.length === 0 ? '<p class="empty">The bundle carries no signature.</p>' : table(['Status', 'Key id', 'Signer', 'Roles'], rows);
  return section('signers', 'Signatures and policy', policy + body);
}

function listOrNone(values: string[]): string {
  return values.length === 0 ? '<span class="muted">none</span>' : values.map((value) => `<span class="tag">${esc(value)}</span>`).join(' ');
}

function imagesSection(model: ReportModel): string {
  const rows = model.images.map((image) => [
    `<code>${esc(image.ref)}</code>`,
    `<code class="digest">${esc(image.digest)}</code>`,
    image.platforms.length === 0 ? '<span class="muted">single</span>' : image.platforms.map((platform) => `<span class="tag">${esc(platform)}</span>`).join(' '),
    `<span class="num">${esc(humanBytes(image.size))}</span>`,
    badge(evidenceVerdict(image).tone, evidenceVerdict(image).label),
  ]);
  const evidence = model.images.map(
    (image) => `<article class="file"><div class="file-head"><span class="file-title">${esc(image.ref)}</span><span class="file-detail">upstream evidence</span></div>
<dl class="facts evidence">${evidenceRows(image).map(([label, text]) => `<dt>${esc(label)}</dt><dd>${esc(text)}</dd>`).join('')}</dl></article>`,
  );
  return section('images', 'Images', rows.length === 0 ? '<p class="empty">No images.</p>' : table(['Reference', 'Digest', 'Platforms', 'Size', 'Evidence'], rows) + evidence.join('\n'));
}

function sbomSection(model: ReportModel): string {
  return section(
    'sbom',
    'SBOM (CycloneDX 1.6)',
    `<p class="note">The release as a CycloneDX 1.6 document, also printed by <code>airlock inspect &lt;bundle&gt; --sbom cyclonedx</code>.</p><pre class="sbom">${esc(model.sbom)}</pre>`,
  );
}

function deltaSection(model: ReportModel): string {
  const delta = model.delta;
  if (delta === null) return '';
  const intro = `<p class="note">A delta bundle: it leaves out ${delta.omitted.length} layer blob(s), ${esc(humanBytes(delta.omittedBytes))}, that its base holds.
${esc(humanBytes(delta.bundleBytes))} here; the full bundle of this release ≈ ${esc(humanBytes(delta.fullBytes))}. The installer refuses it (DELTA_BASE_MISSING) on a site that does not hold every one.</p>`;
  const bases = `<dl class="facts">${delta.bases.map((base) => `<dt>Base</dt><dd>${esc(describeBase(base))}</dd>`).join('')}</dl>`;
  const images = table(
    ['Image', 'Left out', 'Of the image'],
    delta.images.map((image) => [`<code>${esc(image.ref)}</code>`, `<span class="num">${image.omitted.length} blob(s), ${esc(humanBytes(image.omittedBytes))}</span>`, `<span class="num">${esc(humanBytes(image.size))}</span>`]),
  );
  const blobs = table(['Omitted blob', 'Size'], delta.omitted.map((blob) => [`<code class="digest">${esc(blob.digest)}</code>`, `<span class="num">${esc(humanBytes(blob.size))}</span>`]));
  return section('delta', 'Delta', intro + bases + images + blobs);
}

function configsSection(model: ReportModel): string {
  if (model.configs.length === 0) return section('configs', 'Configuration files', '<p class="empty">No configuration files.</p>');
  const rows = model.configs.map((config, index) => [
    `<span class="tag">${esc(config.environment)}</span>`,
    `<a href="#config-${index}"><code>${esc(config.dest)}</code></a>`,
    `<code>${esc(config.mode)}</code>`,
    config.template ? 'template' : '<span class="muted">as is</span>',
    sizeCell(config),
    digestCell(config),
  ]);
  const files = model.configs.map((config, index) =>
    fileBlock(`config-${index}`, `${config.environment}: ${config.dest}`, `${config.mode}${config.template ? ', template rendered with site variables' : ''}`, config),
  );
  return section('configs', 'Configuration files', table(['Env', 'Destination', 'Mode', 'Template', 'Size', 'SHA-256'], rows) + files.join('\n'));
}

function migrationsSection(model: ReportModel): string {
  if (model.migrations.length === 0) return section('migrations', 'Migrations', '<p class="empty">No migrations.</p>');
  const blocks = model.migrations.map((migration, index) => {
    const main = fileBlock(`migration-${index}`, `${migration.database} · V${migration.version} ${migration.description}`, 'forward migration', migration);
    const undo = migration.undo ? fileBlock(`migration-${index}-undo`, `${migration.database} · U${migration.version} ${migration.description}`, 'undo script, run only by rollback --undo-migrations', migration.undo) : '';
    return main + undo;
  });
  return section('migrations', 'Migrations', blocks.join('\n'));
}

function hooksSection(model: ReportModel): string {
  if (model.hooks.length === 0) return section('hooks', 'Hooks', '<p class="empty">No hooks.</p>');
  const blocks = model.hooks.map((hook, index) => fileBlock(`hook-${index}`, `${hook.phase} · ${hook.name}`, `timeout ${hook.timeoutSeconds} s`, hook));
  return section('hooks', 'Hooks', blocks.join('\n'));
}

function gatesSection(model: ReportModel): string {
  if (model.gates.length === 0) return '';
  const rows = model.gates.map((gate) => [esc(gate.name), `<code>${esc(gate.rule)}</code>`]);
  const note = `<p class="note">Judged by the installer on the site's Prometheus after the apply; a failing gate triggers the release's reaction.</p>`;
  return section('gates', 'Health gates', `${note}\n${table(['gate', 'rule'], rows)}`);
}

function listingSection(model: ReportModel): string {
  const rows = model.listing.map((row) => [
    `<code>${esc(row.path)}</code>`,
    row.size === null ? badge('bad', 'missing from the bundle') : `<span class="num">${esc(humanBytes(row.size))}</span>`,
    row.sha256 === null ? badge('bad', 'not listed in SHA256SUMS') : `<code class="digest">${esc(row.sha256)}</code>`,
  ]);
  return section(
    'sha256sums',
    'SHA256SUMS',
    `<p class="note">Every file of the bundle and its digest as SHA256SUMS lists it (SHA256SUMS and signatures/ excepted). Content digest <code class="digest">${esc(model.checksumsDigest)}</code></p>` +
      table(['Path', 'Size', 'SHA-256'], rows, 'listing'),
  );
}

function fileBlock(id: string, title: string, detail: string, file: ReportFile): string {
  return `<article class="file" id="${id}">
<div class="file-head"><span class="file-title">${esc(title)}</span><span class="file-detail">${esc(detail)}</span></div>
<div class="file-meta"><code>${esc(file.path)}</code> · ${sizeCell(file)} · sha256 ${digestCell(file)}</div>
${contentBlock(file.content)}
</article>`;
}

function contentBlock(content: FileContent): string {
  switch (content.kind) {
    case 'missing':
      return `<p class="empty">${badge('bad', 'missing')} The bundle does not hold this file.</p>`;
    case 'binary':
      return '<p class="empty">Binary content, not shown: check it by its digest.</p>';
    case 'too-large':
      return `<p class="empty">Larger than ${esc(humanBytes(content.limit))}, not shown: check it by its digest.</p>`;
    case 'text': {
      const warning = content.hiddenCharacters > 0 ? `<p class="alert">${badge('bad', 'hidden characters')} ${content.hiddenCharacters} invisible or text-reordering character(s), shown as ⟨U+XXXX⟩ markers.</p>` : '';
      const lines = content.text.replace(/\r?\n$/, '').split(/\r?\n/);
      const code = lines.map((line) => `<span class="line">${visibleSegments(line).map((s) => (s.hidden ? `<mark class="hidden-char">${esc(s.text)}</mark>` : esc(s.text))).join('')}</span>`).join('');
      return `${warning}<pre class="code">${code}</pre>`;
    }
  }
}

function sizeCell(file: ReportFile): string {
  return file.size === null ? badge('bad', 'missing') : `<span class="num">${esc(humanBytes(file.size))}</span>`;
}

function digestCell(file: ReportFile): string {
  if (file.sha256 === null) return badge('bad', 'not listed in SHA256SUMS');
  const mismatch = file.matchesChecksum === false ? ` ${badge('bad', 'content does not match')}` : '';
  return `<code class="digest">${esc(file.sha256)}</code>${mismatch}`;
}

function badge(tone: 'ok' | 'bad' | 'warn', label: string): string {
  return `<span class="badge badge-${tone}">${esc(label)}</span>`;
}

function section(id: string, title: string, body: string): string {
  return `<section id="${id}"><h2>${esc(title)}</h2>\n${body}\n</section>`;
}

/** Cells are already HTML; headers are fixed text. */
function table(headers: string[], rows: string[][], className = ''): string {
  return `<table${className ? ` class="${className}"` : ''}><thead><tr>${headers.map((header) => `<th>${header}</th>`).join('')}</tr></thead>
<tbody>${rows.map((row) => `<tr>${row.map((cell) => `<td>${cell}</td>`).join('')}</tr>`).join('\n')}</tbody></table>`;
}

const STYLE = `
:root { --ink: #1d2330; --muted: #5f6b7a; --line: #d9dee5; --panel: #f5f7fa; --accent: #23406e;
  --ok: #1f6f43; --ok-bg: #e5f4ea; --bad: #a4262c; --bad-bg: #fbe9ea; --warn: #8a5a00; --warn-bg: #fff4d6; }
* { box-sizing: border-box; }
html { -webkit-text-size-adjust: 100%; }
body { margin: 0; color: var(--ink); background: #fff; font: 14px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, "Liberation Sans", sans-serif; }
main { max-width: 1120px; margin: 0 auto; padding: 28px 32px 48px; }
code, pre, .digest { font-family: ui-monospace, "SFMono-Regular", Menlo, Consolas, "DejaVu Sans Mono", "Liberation Mono", monospace; font-size: 12.5px; }
.masthead { border-bottom: 3px solid var(--accent); padding-bottom: 14px; margin-bottom: 20px; }
.kicker { text-transform: uppercase; letter-spacing: .08em; font-size: 12px; color: var(--muted); }
h1 { margin: 4px 0 2px; font-size: 30px; line-height: 1.2; word-break: break-word; }
h1 .version { color: var(--accent); font-weight: 600; }
.sub { color: var(--muted); }
h2 { font-size: 18px; margin: 30px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); color: var(--accent); }
.verdict { border: 2px solid; border-radius: 6px; padding: 14px 18px; margin: 8px 0 20px; }
.verdict p { margin: 4px 0; }
.verdict-title { font-size: 22px; font-weight: 700; text-transform: uppercase; letter-spacing: .04em; margin-bottom: 4px; }
.verdict-verified { border-color: var(--ok); background: var(--ok-bg); }
.verdict-verified .verdict-title { color: var(--ok); }
.verdict-rejected { border-color: var(--bad); background: var(--bad-bg); }
.verdict-rejected .verdict-title { color: var(--bad); }
.verdict-unchecked { border-color: var(--warn); background: var(--warn-bg); }
.verdict-unchecked .verdict-title { color: var(--warn); }
.facts { display: grid; grid-template-columns: 190px 1fr; gap: 6px 16px; margin: 0 0 12px; }
.facts dt { color: var(--muted); font-weight: 600; }
.facts dd { margin: 0; min-width: 0; }
table { width: 100%; border-collapse: collapse; margin: 6px 0 14px; table-layout: auto; }
th, td { text-align: left; vertical-align: top; padding: 5px 8px; border-bottom: 1px solid var(--line); }
th { background: var(--panel); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; color: var(--muted); }
tbody tr:nth-child(even) td { background: #fafbfc; }
td code { overflow-wrap: anywhere; }
.digest { overflow-wrap: anywhere; word-break: break-all; font-size: 11.5px; }
.num { white-space: nowrap; font-variant-numeric: tabular-nums; }
.listing td:nth-child(1) { width: 42%; }
.badge { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: 11.5px; font-weight: 600; white-space: nowrap; border: 1px solid; }
.badge-ok { color: var(--ok); background: var(--ok-bg); }
.badge-bad { color: var(--bad); background: var(--bad-bg); }
.badge-warn { color: var(--warn); background: var(--warn-bg); }
.tag { display: inline-block; padding: 0 6px; border-radius: 3px; background: var(--panel); border: 1px solid var(--line); font-size: 12px; }
.muted, .note { color: var(--muted); }
.note { font-size: 12.5px; margin: 2px 0 6px; }
.empty { color: var(--muted); font-style: italic; }
.alert { margin: 6px 0; color: var(--bad); }
.file { border: 1px solid var(--line); border-radius: 6px; margin: 14px 0; overflow: hidden; }
.file-head { display: flex; justify-content: space-between; gap: 12px; background: var(--panel); padding: 7px 12px; border-bottom: 1px solid var(--line); }
.file-title { font-weight: 700; overflow-wrap: anywhere; }
.file-detail { color: var(--muted); font-size: 12.5px; text-align: right; }
.file-meta { padding: 6px 12px; font-size: 12.5px; color: var(--muted); border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
.file > .empty, .file > .alert { padding: 0 12px; }
.facts.evidence { padding: 8px 12px; margin: 0; }
pre.sbom { max-height: 480px; overflow: auto; background: var(--panel); border: 1px solid var(--line); border-radius: 6px; padding: 8px 12px; white-space: pre-wrap; overflow-wrap: anywhere; }
@media print { pre.sbom { max-height: none; overflow: visible; } }
pre.code { margin: 0; padding: 8px 0; white-space: pre-wrap; overflow-wrap: anywhere; counter-reset: line; line-height: 1.45; }
pre.code .line { display: block; padding: 0 12px 0 56px; text-indent: -44px; min-height: 1.45em; }
pre.code .line::before { counter-increment: line; content: counter(line); display: inline-block; width: 34px; margin-right: 10px; text-align: right; color: #9aa5b1; text-indent: 0; user-select: none; }
mark.hidden-char { background: var(--bad-bg); color: var(--bad); border: 1px solid var(--bad); border-radius: 2px; padding: 0 1px; }
a { color: inherit; text-decoration: none; }
footer { margin-top: 36px; padding-top: 10px; border-top: 1px solid var(--line); color: var(--muted); font-size: 12px; }
@page { size: A4; margin: 14mm 12mm; }
@media print {
  body { font-size: 10.5pt; }
  main { max-width: none; padding: 0; }
  code, pre, .digest { font-size: 8.5pt; }
  .verdict, .badge, mark.hidden-char { -webkit-print-color-adjust: exact; print-color-adjust: exact; }
  h2 { break-after: avoid; }
  tr, .file-head, .file-meta, .verdict, .facts { break-inside: avoid; }
  pre.code .line { break-inside: avoid; }
  tbody tr:nth-child(even) td { background: none; }
}
`;
