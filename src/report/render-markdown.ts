/**
 * The report as Markdown, for tickets and wikis. Text from the bundle is either escaped
 * (every Markdown and HTML special character backslash-escaped, on one line) or placed in
 * a code fence longer than any backtick run it contains, so it can never close the fence.
 */
import { humanBytes } from '../ui/format.js';
import { describeBase } from '../manifest/delta.js';
import type { FileContent, ReportFile, ReportModel } from './model.js';
import { verdictOf } from './verdict.js';
import { evidenceRows, evidenceVerdict } from './image-evidence.js';
import { visibleText } from './visible-text.js';

/**
 * Inline text on one line. CommonMark lets any ASCII punctuation be backslash-escaped:
 * escaped are the characters that start inline markup or HTML anywhere.
 */
export function mdText(text: string): string {
  return visibleText(text)
    .replace(/\r?\n|\r/g, ' ')
    .replace(/[\\`*_{}[\]<>|~&!]/g, (char) => `\\${char}`);
}

/** Text that begins a line: also escaped where it would start a heading, list or quote. */
function mdLineText(text: string): string {
  return mdText(text)
    .replace(/^(\s*)([#+\-=])/, '$1\\$2')
    .replace(/^(\s*\d+)([.)])/, '$1\\$2');
}

export function mdFence(text: string, info = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((match) => match[0].length));
  const fence = '`'.repeat(longest + 1);
  return `${fence}${info}\n${visibleText(text).replace(/\r?\n$/, '')}\n${fence}`;
}

export function renderMarkdown(model: ReportModel): string {
  const { release, targets } = model;
  const verdict = verdictOf(model);
  const out: string[] = [];
  out.push(`# ${mdText(release.name)} ${mdText(release.version)}: airlock release report`, '');
  out.push(`**${verdict.title.toUpperCase()}**`, '', verdict.lines.map((line) => `> ${mdLineText(line)}`).join('\n>\n'), '');

  out.push('## Release', '');
  out.push(
    ...table(
      ['', ''],
      [
        ['Release', `${mdText(release.name)} ${mdText(release.version)}`],
        ['Bundle', `${mdText(model.bundle.file)} (${humanBytes(model.bundle.size)})`],
        ['Created', mdText(release.created)],
        ['Expires', release.expires === null ? 'never' : `${mdText(release.expires)}${release.expired ? ' **EXPIRED**' : ''}`],
        ['Target sites', anyOf(targets.sites)],
        ['Target environments', anyOf(targets.environments)],
        ['Health check fails', release.onHealthCheckFailure === 'rollback' ? 'roll back to the previous configs' : 'stop and report'],
        ['Built by', mdText(release.builtBy)],
        ['Content digest', `\`${model.checksumsDigest}\` (SHA-256 of SHA256SUMS)`],
      ],
    ),
    '',
  );

  out.push(...signers(model), '');

  out.push('## Images', '');
  if (model.images.length === 0) out.push('No images.');
  else out.push(...table(['Reference', 'Digest', 'Platforms', 'Size', 'Evidence'], model.images.map((image) => [mdText(image.ref), `\`${image.digest}\``, image.platforms.map(mdText).join(', ') || 'single', humanBytes(image.size), `**${evidenceVerdict(image).label}**`])));
  out.push('');
  for (const image of model.images) {
    out.push(`### ${mdText(image.ref)}`, '', ...table(['', ''], evidenceRows(image).map(([label, text]) => [label, mdText(text)])), '');
  }
  out.push(...deltaSection(model));

  out.push('## Configuration files', '');
  if (model.configs.length === 0) out.push('No configuration files.', '');
  else {
    out.push(...table(['Env', 'Destination', 'Mode', 'Template', 'Size', 'SHA-256'], model.configs.map((c) => [mdText(c.environment), mdText(c.dest), mdText(c.mode), c.template ? 'yes' : 'no', size(c), digest(c)])), '');
    for (const config of model.configs) out.push(...fileBlock(`${config.environment}: ${config.dest}`, config), '');
  }

  out.push('## Migrations', '');
  if (model.migrations.length === 0) out.push('No migrations.', '');
  for (const migration of model.migrations) {
    out.push(...fileBlock(`${migration.database} V${migration.version} ${migration.description}`, migration, 'sql'), '');
    if (migration.undo) out.push(...fileBlock(`${migration.database} U${migration.version} ${migration.description} (undo)`, migration.undo, 'sql'), '');
  }

  out.push('## Hooks', '');
  if (model.hooks.length === 0) out.push('No hooks.', '');
  for (const hook of model.hooks) out.push(...fileBlock(`${hook.phase}: ${hook.name} (timeout ${hook.timeoutSeconds} s)`, hook, 'sh'), '');

  if (model.gates.length > 0) {
    out.push('## Health gates', '', "Judged by the installer on the site's Prometheus after the apply; a failing gate triggers the release's reaction.", '');
    for (const gate of model.gates) out.push(`### ${mdText(gate.name)}`, '', mdFence(gate.rule), '');
  }

  out.push('## SBOM (CycloneDX 1.6)', '', 'The release as a CycloneDX 1.6 document (also `airlock inspect <bundle> --sbom cyclonedx`).', '', mdFence(model.sbom, 'json'), '');

  out.push('## SHA256SUMS', '', `Content digest \`${model.checksumsDigest}\`.`, '');
  out.push(
    ...table(
      ['Path', 'Size', 'SHA-256'],
      model.listing.map((row) => [mdText(row.path), row.size === null ? '**missing from the bundle**' : humanBytes(row.size), row.sha256 === null ? '**not listed in SHA256SUMS**' : `\`${row.sha256}\``]),
    ),
    '',
  );
  out.push(`Generated ${model.generated} by airlock ${model.tool.version} (${model.format}).`, '');
  return out.join('\n');
}

function deltaSection(model: ReportModel): string[] {
  const delta = model.delta;
  if (delta === null) return [];
  return [
    '## Delta',
    '',
    `A delta bundle: it leaves out ${delta.omitted.length} layer blob(s), ${humanBytes(delta.omittedBytes)}, that its base holds. ${humanBytes(delta.bundleBytes)} here; the full bundle of this release ≈ ${humanBytes(delta.fullBytes)}. The installer refuses it (DELTA_BASE_MISSING) on a site that does not hold every one.`,
    '',
    ...delta.bases.map((base) => `- Base: ${mdText(describeBase(base))}`),
    '',
    ...table(['Image', 'Left out', 'Of the image'], delta.images.map((image) => [mdText(image.ref), `${image.omitted.length} blob(s), ${humanBytes(image.omittedBytes)}`, humanBytes(image.size)])),
    '',
    ...table(['Omitted blob', 'Size'], delta.omitted.map((blob) => [`\`${blob.digest}\``, humanBytes(blob.size)])),
    '',
  ];
}

function signers(model: ReportModel): string[] {
  const v = model.verification;
  if (!v.checked) {
    return [
      '## Signatures',
      '',
      model.signatureFiles.length === 0 ? 'The bundle carries no signature.' : 'Signature files in the bundle (not checked):',
      '',
      ...model.signatureFiles.map((keyId) => `- \`${keyId}\``),
    ];
  }
  const lines = ['## Signatures and policy', ''];
  if (v.policy) {
    lines.push(
      `- Policy: **${v.policy.met ? 'met' : 'NOT met'}**${v.policy.reason && !v.policy.met ? ` (${mdText(v.policy.reason)})` : ''}`,
      `- Threshold: ${v.policy.counted.length} counted of ${v.policy.threshold} required`,
      `- Required roles: ${v.policy.requiredRoles.map(mdText).join(', ') || 'none'}`,
      `- Trust store: ${mdText(v.trustStore)}`,
      '',
    );
  }
  if (v.signers.length === 0) lines.push('The bundle carries no signature.');
  else {
    lines.push(
      ...table(
        ['Status', 'Key id', 'Signer', 'Roles'],
        v.signers.map((s) => [s.status + (v.policy?.counted.includes(s.keyId) ? ' (counted)' : ''), `\`${s.keyId}\``, s.name === undefined ? 'not in the trust store' : mdText(s.name), s.roles.map(mdText).join(', ') || 'none']),
      ),
    );
  }
  return lines;
}

function fileBlock(title: string, file: ReportFile, language = ''): string[] {
  return [`### ${mdText(title)}`, '', `${mdText(file.path)}, ${size(file)}, sha256 ${digest(file)}`, '', content(file.content, language)];
}

function content(value: FileContent, language: string): string {
  switch (value.kind) {
    case 'missing':
      return '**Missing from the bundle.**';
    case 'binary':
      return '_Binary content, not shown: check it by its digest._';
    case 'too-large':
      return `_Larger than ${humanBytes(value.limit)}, not shown: check it by its digest._`;
    case 'text':
      return (value.hiddenCharacters > 0 ? `**${value.hiddenCharacters} hidden character(s)**, shown as ⟨U+XXXX⟩ markers.\n\n` : '') + mdFence(value.text, language);
  }
}

function size(file: ReportFile): string {
  return file.size === null ? '**missing**' : humanBytes(file.size);
}

function digest(file: ReportFile): string {
  if (file.sha256 === null) return '**not listed in SHA256SUMS**';
  return `\`${file.sha256}\`${file.matchesChecksum === false ? ' **content does not match**' : ''}`;
}

function anyOf(values: string[]): string {
  return values.length === 0 ? 'any' : values.map(mdText).join(', ');
}

/** Cells must already be Markdown-safe and on one line. */
function table(headers: string[], rows: string[][]): string[] {
  return [`| ${headers.join(' | ')} |`, `|${headers.map(() => '---').join('|')}|`, ...rows.map((row) => `| ${row.join(' | ')} |`)];
}
