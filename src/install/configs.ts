/**
 * From a release's config entries and the site to the inputs of planConfigs: the files the
 * release wants (rendered, hashed, with their masked view) and what the config root holds.
 * Rendered content stays in memory (configs are small) and is never written anywhere but
 * its destination.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { isSafeBundlePath } from '../bundle/safe-path.js';
import { AirlockError } from '../errors.js';
import type { BundleConfigFile } from '../manifest/bundle-manifest.js';
import type { SiteVariables } from '../manifest/site.js';
import { sha256Hex } from '../trust/digest.js';
import type { DesiredConfig, ExistingConfig } from './config-plan.js';
import type { ConfigRecord } from './state.js';
import { readConfigFile } from './targets/files.js';
import { maskValues, renderMasked, renderTemplate, requiredVariables } from './templates.js';
import type { TemplateNeeds } from './variables.js';
import type { VerifiedBundle } from './verified-bundle.js';

export interface ConfigSource {
  entry: BundleConfigFile;
  mode: number;
  data: Buffer;
  /** Template text (templates only). */
  source?: string;
  required: string[];
}

export interface RenderedConfig {
  desired: DesiredConfig;
  content: Buffer;
}

/** Text that can be shown as lines: valid UTF-8 without NUL bytes. */
export function asText(data: Buffer): string | undefined {
  if (data.includes(0)) return undefined;
  const text = data.toString('utf8');
  return Buffer.from(text, 'utf8').equals(data) ? text : undefined;
}

export function configEntries(bundle: VerifiedBundle, environment: string): BundleConfigFile[] {
  const entries = bundle.manifest.configs[environment] ?? [];
  for (const entry of entries) {
    // airlock.json is signed, but a dest is joined onto the site's config root: check it anyway.
    if (!isSafeBundlePath(entry.dest)) throw new AirlockError('UNSAFE_PATH', `airlock.json: config ${entry.path} has an unsafe dest ${JSON.stringify(entry.dest)}`);
  }
  return entries;
}

export async function loadConfigSources(bundle: VerifiedBundle, environment: string): Promise<ConfigSource[]> {
  const sources: ConfigSource[] = [];
  for (const entry of configEntries(bundle, environment)) {
    const data = await bundle.read(entry.path);
    const mode = Number.parseInt(entry.mode, 8);
    if (!entry.template) {
      sources.push({ entry, mode, data, required: [] });
      continue;
    }
    const source = asText(data);
    if (source === undefined) throw new AirlockError('MANIFEST_INVALID', `${entry.path}: a template must be UTF-8 text`);
    sources.push({ entry, mode, data, source, required: requiredVariables(source, entry.path) });
  }
  return sources;
}

export function templateNeeds(sources: readonly ConfigSource[]): TemplateNeeds[] {
  return sources.filter((s) => s.required.length > 0).map((s) => ({ dest: s.entry.dest, required: s.required }));
}

export function renderConfig(source: ConfigSource, variables: SiteVariables): RenderedConfig {
  const { entry, mode } = source;
  const content = source.source === undefined ? source.data : Buffer.from(renderTemplate(source.source, variables), 'utf8');
  const display = source.source === undefined ? asText(content) : renderMasked(source.source, variables, entry.path);
  return {
    desired: { dest: entry.dest, path: entry.path, mode, template: entry.template, sha256: sha256Hex(content), display },
    content,
  };
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
    const file = await readConfigFile(configRoot, dest);
    if (file === undefined) continue;
    const record = managed[dest];
    const origin = record === undefined ? 'unmanaged' : record.sha256 === file.sha256 ? 'managed' : 'edited';
    let display: string | undefined;
    if (origin === 'managed' && record?.template === true) display = await readOptional(displayPath(installDir(record.installId), dest));
    if (display === undefined) {
      const text = asText(file.content);
      display = text === undefined ? undefined : maskValues(text, variables);
    }
    existing.set(dest, { sha256: file.sha256, mode: file.mode, display, origin });
  }
  return existing;
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
