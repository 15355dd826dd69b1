/**
 * Config sets: each environment's entries become `configs/<env>/<dest>` in the bundle.
 * A directory source maps recursively under its dest. Template files (*.tmpl, *.mustache,
 * unless the entry says otherwise) are recorded as templates and lose that suffix in dest.
 */
import { isSafeBundlePath } from '../bundle/safe-path.js';
import { comparePaths, CONFIGS_DIR } from '../bundle/format.js';
import type { BundleConfigFile } from '../manifest/bundle-manifest.js';
import type { ReleaseConfigEntry, ReleaseManifest } from '../manifest/release.js';
import { displaySource, UNUSABLE_NAME } from '../manifest/release-paths.js';
import type { SourceEntry } from './source-listing.js';
import { entryProblem, type PackContext } from './pack-context.js';

const TEMPLATE_SUFFIXES = ['.tmpl', '.mustache'] as const;

function templateSuffix(path: string): string | undefined {
  const name = path.slice(path.lastIndexOf('/') + 1);
  return TEMPLATE_SUFFIXES.find((suffix) => name.endsWith(suffix) && name.length > suffix.length);
}

interface ConfigFile {
  dest: string;
  source: string;
  entry: SourceEntry;
  template: boolean;
  mode: string;
}

/** The files one config entry stands for, or none (with problems recorded) when its source is unusable. */
function expandEntry(context: PackContext, spec: ReleaseConfigEntry, where: PropertyKey[]): ConfigFile[] {
  const entry = context.source(spec.src, [...where, 'src'], 'file');
  if (!entry) return [];
  const isTemplate = (source: string): boolean => spec.template ?? templateSuffix(source) !== undefined;
  if (entry.kind === 'file') {
    if (spec.dest === '.') {
      context.problem([...where, 'dest'], `a file needs a destination file name, not '.'`);
      return [];
    }
    return [{ source: spec.src, entry, dest: spec.dest, template: isTemplate(spec.src), mode: spec.mode }];
  }
  const files: ConfigFile[] = [];
  let usable = true;
  // Made once: each dest is then one concatenation, not two strings more per file.
  const destPrefix = spec.dest === '.' ? '' : `${spec.dest}/`;
  for (const [path, below] of context.below(spec.src, 'all')) {
    const problem = entryProblem(path, below);
    if (problem) {
      context.problem([...where, 'src'], problem);
      usable = false;
    }
    if (below.kind !== 'file') continue;
    const relative = path.slice(spec.src.length + 1);
    const template = isTemplate(relative);
    const suffix = template ? templateSuffix(relative) : undefined;
    const destRelative = suffix ? relative.slice(0, -suffix.length) : relative;
    const dest = destPrefix + destRelative;
    if (!isSafeBundlePath(dest)) {
      context.problem([...where, 'src'], `${displaySource(path)}: ${UNUSABLE_NAME}`);
      usable = false;
    }
    files.push({ source: path, entry: below, dest, template, mode: spec.mode });
  }
  if (usable && files.length === 0) context.problem([...where, 'src'], `directory ${displaySource(spec.src)} has no files`);
  return usable ? files : [];
}

/** The directories above `path`, top first: `a/b/c` -> `a`, `a/b`. */
function ancestors(path: string): string[] {
  const dirs: string[] = [];
  for (let slash = path.indexOf('/'); slash !== -1; slash = path.indexOf('/', slash + 1)) dirs.push(path.slice(0, slash));
  return dirs;
}

export function packConfigs(context: PackContext, manifest: ReleaseManifest): Record<string, BundleConfigFile[]> {
  const configs: Record<string, BundleConfigFile[]> = {};
  for (const env of Object.keys(manifest.configs).sort(comparePaths)) {
    // Which entry claimed each destination file, and each directory above one: a path cannot be both.
    const fileOwners = new Map<string, string>();
    const dirOwners = new Map<string, string>();
    const records: BundleConfigFile[] = [];
    const envDir = `${CONFIGS_DIR}${env}/`;
    manifest.configs[env]?.forEach((spec, index) => {
      const where = ['configs', env, index];
      const owner = `configs.${env}[${index}]`;
      for (const config of expandEntry(context, spec, where)) {
        const from = () => (config.source === spec.src ? '' : ` (from ${displaySource(config.source)})`);
        const dirs = ancestors(config.dest);
        const fileAbove = dirs.find((dir) => fileOwners.has(dir));
        const clash =
          fileOwners.has(config.dest) ? `${config.dest}${from()} is also written by ${fileOwners.get(config.dest)}`
          : dirOwners.has(config.dest) ? `${config.dest}${from()} is a directory of files from ${dirOwners.get(config.dest)}`
          : fileAbove !== undefined ? `${config.dest}${from()} needs ${fileAbove} to be a directory, but ${fileOwners.get(fileAbove)} writes a file there`
          : undefined;
        if (clash) {
          context.problem([...where, 'dest'], clash);
          continue;
        }
        fileOwners.set(config.dest, owner);
        // Deepest first: once a directory has an owner, so has every directory above it.
        for (let index = dirs.length - 1; index >= 0 && !dirOwners.has(dirs[index]!); index--) dirOwners.set(dirs[index]!, owner);
        const bundlePath = envDir + config.dest;
        context.addFile(bundlePath, config.source, config.entry);
        records.push({ path: bundlePath, dest: config.dest, mode: config.mode, template: config.template });
      }
    });
    configs[env] = records.sort((a, b) => comparePaths(a.path, b.path));
  }
  return configs;
}
