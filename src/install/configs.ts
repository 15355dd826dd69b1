/**
 * From a release's config entries and the site to the inputs of planConfigChanges: the files the
 * release wants (rendered, hashed, with their masked view) and what the config root holds.
 * Only templates are kept in memory (as text, to render); a plain file is read from the
 * bundle when it is diffed or written, one at a time, and a file on the site is hashed and
 * let go, read again only if its diff is shown: memory follows the largest file, not the
 * release. Rendered content is never written anywhere but its destination.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { isSafeBundlePath } from '../bundle/safe-path.js';
import { AirlockError } from '../base/errors.js';
import type { BundleConfigFile } from '../manifest/bundle-manifest.js';
import type { SiteVariables } from '../manifest/site.js';
import { sha256Hex } from '../hash/digest.js';
import { DIFF_LIMIT_BYTES, type DesiredConfig, type ExistingConfig } from './plan-config-changes.js';
import type { ConfigRecord } from './state.js';
import { digestConfigFile } from './targets/files.js';
import { maskValues, renderMasked, renderTemplate, requiredVariables } from './templates.js';
import type { TemplateNeeds } from './variables.js';
import type { BundleManifest } from '../manifest/bundle-manifest.js';
import type { VerifiedBundle } from '../verify/verified-bundle.js';

export interface ConfigSource {
  entry: BundleConfigFile;
  mode: number;
  /** Template text (templates only). */
  source?: string;
  required: string[];
}


export interface RenderedConfig {
  desired: DesiredConfig;
  content: Buffer;
}

/** Text that can be shown as lines: valid UTF-8 without NUL bytes. */
function asText(data: Buffer): string | undefined {
  if (data.includes(0)) return undefined;
  const text = data.toString('utf8');
  return Buffer.from(text, 'utf8').equals(data) ? text : undefined;
}

/** The release's config files for this environment; airlock.json alone says which, so this is settled before any payload byte is read. */
export function configEntries(manifest: BundleManifest, environment: string): BundleConfigFile[] {
  const entries = manifest.configs[environment] ?? [];
  for (const entry of entries) {
    // airlock.json is signed, but a dest is joined onto the site's config root: check it anyway.
    if (!isSafeBundlePath(entry.dest)) throw new AirlockError('UNSAFE_PATH', `airlock.json: config ${entry.path} has an unsafe dest ${JSON.stringify(entry.dest)}`);
  }
  return entries;
}

/** The entries' sources: a template's text is read (checked against SHA256SUMS) to learn the variables it needs. */
export async function loadConfigSources(bundle: VerifiedBundle, entries: readonly BundleConfigFile[]): Promise<ConfigSource[]> {
  const sources: ConfigSource[] = [];
  for (const entry of entries) {
    const mode = Number.parseInt(entry.mode, 8);
    if (!entry.template) {
      sources.push({ entry, mode, required: [] });
      continue;
    }
    const source = asText(await bundle.read(entry.path));
    if (source === undefined) throw new AirlockError('MANIFEST_INVALID', `${entry.path}: a template must be UTF-8 text`);
    sources.push({ entry, mode, source, required: requiredVariables(source, entry.path) });
  }
  return sources;
}

export function templateNeeds(sources: readonly ConfigSource[]): TemplateNeeds[] {
  return sources.filter((s) => s.required.length > 0).map((s) => ({ dest: s.entry.dest, required: s.required }));
}

/** A template rendered with the site's variables: in memory, since templates are text. */
export function renderTemplateConfig(source: ConfigSource & { source: string }, variables: SiteVariables): RenderedConfig {
  const content = Buffer.from(renderTemplate(source.source, variables), 'utf8');
  return { desired: desiredFrom(source, sha256Hex(content), () => renderMasked(source.source, variables, source.entry.path)), content };
}

/** What the plan needs of a file: its digest, and how to make its masked view. A plain file's digest is the signed one; it is read only for a diff, and only when small enough. */
export function desiredConfig(bundle: VerifiedBundle, source: ConfigSource, variables: SiteVariables): DesiredConfig {
  if (source.source !== undefined) return renderTemplateConfig({ ...source, source: source.source }, variables).desired;
  const { path } = source.entry;
  const small = bundle.reader.entry(path).size <= DIFF_LIMIT_BYTES;
  return desiredFrom(source, bundle.checksum(path), () => (small ? asText(bundle.readSync(path)) : undefined));
}

function desiredFrom({ entry, mode }: ConfigSource, sha256: string, display: () => string | undefined): DesiredConfig {
  return { dest: entry.dest, path: entry.path, mode, template: entry.template, sha256, display };
}

/** Where an install keeps the masked view of each template it wrote (what later plans diff against). */
export function displayPath(installDir: string, dest: string): string {
  return join(installDir, 'display', dest);
}

/**
 * What the config root holds at each path: its hash, mode, and a printable view. A file
 * airlock wrote and nobody touched since is shown as the masked view recorded then; any
 * other file is shown with the site's variable values masked.
 */
export async function existingConfigs(
  configRoot: string,
  dests: Iterable<string>,
  managed: Readonly<Record<string, ConfigRecord>>,
  installDir: (installId: string) => string,
  variables: SiteVariables,
): Promise<Map<string, ExistingConfig>> {
  const existing = new Map<string, ExistingConfig>();
  for (const dest of dests) {
    const file = await digestConfigFile(configRoot, dest);
    if (file === undefined) continue;
    const record = managed[dest];
    const origin = record === undefined ? 'unmanaged' : record.sha256 === file.sha256 ? 'managed' : 'edited';
    const recorded = origin === 'managed' && record?.template === true ? displayPath(installDir(record.installId), dest) : undefined;
    const { sha256, small } = file;
    const display = () => (recorded === undefined ? undefined : readOptional(recorded)) ?? (small ? maskedOnDisk(configRoot, dest, sha256, variables) : undefined);
    existing.set(dest, { sha256: file.sha256, mode: file.mode, display, origin });
  }
  return existing;
}

/** The file as planned, read again for its diff; one changed since it was hashed gets no diff, since the diff would not be of what the plan saw. */
function maskedOnDisk(configRoot: string, dest: string, sha256: string, variables: SiteVariables): string | undefined {
  const data = readOptionalBytes(join(configRoot, dest));
  const text = data === undefined || sha256Hex(data) !== sha256 ? undefined : asText(data);
  return text === undefined ? undefined : maskValues(text, variables);
}

function readOptional(file: string): string | undefined {
  return readOptionalBytes(file)?.toString('utf8');
}

function readOptionalBytes(file: string): Buffer | undefined {
  try {
    return readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
