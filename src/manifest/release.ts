/**
 * The release manifest: the YAML a build engineer writes (docs/MANIFEST.md). Parsing
 * normalises it (relative paths, modes, defaults), so the rest of the build reads one
 * shape. Every path is checked here; whether the files exist is checked by collection.
 */
import { z } from 'zod';
import { imageSpecSchema } from './release-images.js';
import { writtenImagePolicySchema } from './image-policy.js';
import { durationSchema, durationSeconds } from './release-durations.js';
import { healthCheckSchema } from './release-gates.js';
import { DEST_RULES, normalizeRelativePath, SOURCE_RULES, type RelativePathRules } from './release-paths.js';
import { manifestInvalid, type ManifestProblem } from './release-problems.js';
import { isSemver } from './semver.js';
import { validate } from '../base/validate.js';
import { loadYamlFile } from '../base/yaml-file.js';

/** The latest time a ustar header's 11 octal mtime digits can hold; bundles record `created` there. */
export const MAX_CREATED_SECONDS = 0o77777777777;
const DEFAULT_MODE = '0644';
const DEFAULT_HOOK_TIMEOUT = '60s';

// Names become file and path names (<name>-<version>.airlock, configs/<env>/, migrations/<db>/) and
// must match site.yaml's site, environment and database names, which follow the same rule.
const SLUG = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SLUG_RULE = "a name of letters, digits, '.', '_' and '-', starting with a letter or digit, at most 64 characters";

const slug = z.string().regex(SLUG, `expected ${SLUG_RULE}`);

/** A record keyed by names that become bundle path components (`configs/<env>/`, `migrations/<db>/`). */
function slugRecord<V extends z.ZodType>(what: string, value: V) {
  return z.record(z.string().regex(SLUG), value, {
    error: (issue) => (issue.code === 'invalid_key' ? `not a valid ${what} name: expected ${SLUG_RULE}` : undefined),
  });
}

function relativePath(rules: RelativePathRules) {
  return z
    .string()
    .min(1, 'must not be empty')
    .transform((value, ctx) => {
      const result = normalizeRelativePath(value, rules);
      if (result.ok) return result.path;
      ctx.addIssue({ code: 'custom', message: result.problem });
      return z.NEVER;
    });
}

const sourcePath = relativePath(SOURCE_RULES);
const destPath = relativePath(DEST_RULES);

/** YAML 1.2 reads `1.0` and `0640` as numbers; say so instead of a bare type error. */
function yamlNumberHint(value: unknown, example: string): string {
  return value === undefined ? 'required' : `expected a quoted string such as '${example}' (YAML read ${JSON.stringify(value)})`;
}

const versionSchema = z.unknown().transform((value, ctx) => {
  if (typeof value === 'string' && isSemver(value)) return value;
  ctx.addIssue({
    code: 'custom',
    message:
      typeof value === 'string'
        ? `not a semantic version: ${value} (expected MAJOR.MINOR.PATCH such as 1.4.0, or 2.0.0-rc.1)`
        : yamlNumberHint(value, '1.4.0'),
  });
  return z.NEVER;
});

const modeSchema = z.unknown().optional().transform((value, ctx) => {
  if (value === undefined) return DEFAULT_MODE;
  if (typeof value === 'string' && /^0?[0-7]{3}$/.test(value)) return value.padStart(4, '0');
  ctx.addIssue({
    code: 'custom',
    message: typeof value === 'string' ? `expected an octal mode such as '0640': ${value}` : yamlNumberHint(value, '0640'),
  });
  return z.NEVER;
});

const isoTime = z.iso.datetime({ offset: true, abort: true, error: 'expected an ISO time such as 2025-06-01T12:00:00Z' });

const createdSchema = isoTime.refine((value) => {
  const seconds = Date.parse(value) / 1000;
  return seconds >= 0 && seconds <= MAX_CREATED_SECONDS;
}, 'must lie between 1970 and 2242 (a tar header holds no other times)');

const expiresSchema = z
  .string()
  .refine(
    (value) => durationSeconds(value) !== undefined || isoTime.safeParse(value).success,
    'expected an ISO time (2025-12-31T00:00:00Z) or a duration after created (90d, 12h, 2w)',
  );

const configEntrySchema = z.strictObject({
  /** A file, or a directory mapped recursively under dest. */
  src: sourcePath,
  /** Relative to the site's config root; '.' is the root itself (directories only). */
  dest: destPath,
  mode: modeSchema,
  /** Default: true for *.tmpl and *.mustache sources, false otherwise. */
  template: z.boolean().optional(),
});

const hookSchema = z.strictObject({
  name: slug,
  script: sourcePath,
  /** Written `60s`, `5m`, `1h`; parsed to seconds. */
  timeout: durationSchema(DEFAULT_HOOK_TIMEOUT),
});

const releaseManifestSchema = z.strictObject({
  name: slug,
  version: versionSchema,
  created: createdSchema.optional(),
  expires: expiresSchema.optional(),
  targets: z
    .strictObject({ sites: z.array(slug).default(() => []), environments: z.array(slug).default(() => []) })
    .default(() => ({ sites: [], environments: [] })),
  configs: slugRecord('environment', z.array(configEntrySchema)).default(() => ({})),
  migrations: slugRecord('database', z.strictObject({ dir: sourcePath })).default(() => ({})),
  hooks: z
    .strictObject({
      preInstall: z.array(hookSchema).default(() => []),
      postInstall: z.array(hookSchema).default(() => []),
      /** Scripts, or gates on the site's metrics (`kind: prometheus`), in the order they run. */
      healthCheck: z.array(healthCheckSchema(hookSchema)).default(() => []),
    })
    .default(() => ({ preInstall: [], postInstall: [], healthCheck: [] })),
  onHealthCheckFailure: z.enum(['rollback', 'stop']).default('rollback'),
  images: z.array(imageSpecSchema).default(() => []),
  /** The signature policy of every image that names none of its own (docs/SUPPLY-CHAIN.md). */
  verify: writtenImagePolicySchema.optional(),
  /** Sigstore trusted_root.json that keyless policies are checked against; carried in the bundle. */
  trustedRoot: sourcePath.optional(),
});

export type ReleaseManifest = z.infer<typeof releaseManifestSchema>;
export type ReleaseConfigEntry = ReleaseManifest['configs'][string][number];
export type ReleaseHookPhase = keyof ReleaseManifest['hooks'];

export const HOOK_PHASES: readonly ReleaseHookPhase[] = ['preInstall', 'postInstall', 'healthCheck'];

function duplicates<T>(values: readonly T[], key: (value: T) => string, report: (index: number, first: number) => void): void {
  const seen = new Map<string, number>();
  values.forEach((value, index) => {
    const first = seen.get(key(value));
    if (first === undefined) seen.set(key(value), index);
    else report(index, first);
  });
}

/** Rules that span fields; run once the schema passed, so every field has its parsed shape. */
function releaseManifestProblems(manifest: ReleaseManifest): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  for (const list of ['sites', 'environments'] as const) {
    duplicates(manifest.targets[list], String, (index, first) =>
      problems.push({ path: ['targets', list, index], message: `${manifest.targets[list][index]} is already listed at targets.${list}[${first}]` }),
    );
  }
  const environments = manifest.targets.environments;
  if (environments.length > 0) {
    for (const env of Object.keys(manifest.configs)) {
      if (!environments.includes(env)) {
        problems.push({ path: ['configs', env], message: `environment ${env} is not in targets.environments (${environments.join(', ')})` });
      }
    }
  }
  for (const phase of HOOK_PHASES) {
    const hooks = manifest.hooks[phase];
    duplicates(hooks, (hook) => hook.name, (index, first) =>
      problems.push({ path: ['hooks', phase, index, 'name'], message: `${hooks[index]?.name} is already the name of hooks.${phase}[${first}]` }),
    );
  }
  duplicates(manifest.images, (image) => image.ref, (index, first) =>
    problems.push({ path: ['images', index, 'ref'], message: `${manifest.images[index]?.ref} is already listed at images[${first}]` }),
  );
  manifest.images.forEach((image, index) => {
    for (const field of ['ociLayout', 'dockerArchive'] as const) {
      const value = image[field];
      const result = value === undefined ? undefined : normalizeRelativePath(value, SOURCE_RULES);
      if (result && !result.ok) problems.push({ path: ['images', index, field], message: result.problem });
    }
  });
  const policies = [...(manifest.verify ? [{ policy: manifest.verify, path: ['verify'] }] : []), ...manifest.images.flatMap((image, index) => (image.verify ? [{ policy: image.verify, path: ['images', index, 'verify'] }] : []))];
  for (const { policy, path } of policies) {
    if (policy.identity !== undefined && manifest.trustedRoot === undefined) problems.push({ path, message: 'a keyless policy needs trustedRoot: the Sigstore trusted_root.json it is checked against' });
    if (policy.key !== undefined) {
      const result = normalizeRelativePath(policy.key, SOURCE_RULES);
      if (!result.ok) problems.push({ path: [...path, 'key'], message: result.problem });
    }
  }
  if (manifest.created !== undefined && manifest.expires !== undefined && durationSeconds(manifest.expires) === undefined) {
    if (Date.parse(manifest.expires) <= Date.parse(manifest.created)) {
      problems.push({ path: ['expires'], message: `${manifest.expires} is not after created (${manifest.created})` });
    }
  }
  return problems;
}

/** Validates parsed YAML as a release manifest; throws MANIFEST_INVALID listing every problem. */
export function parseReleaseManifest(data: unknown, file: string): ReleaseManifest {
  return checked(validate(releaseManifestSchema, data, file, 'MANIFEST_INVALID'), file);
}

export async function loadReleaseManifest(file: string): Promise<ReleaseManifest> {
  return checked(await loadYamlFile(file, releaseManifestSchema, 'MANIFEST_INVALID'), file);
}

function checked(manifest: ReleaseManifest, file: string): ReleaseManifest {
  const problems = releaseManifestProblems(manifest);
  if (problems.length > 0) throw manifestInvalid(file, problems);
  return manifest;
}
