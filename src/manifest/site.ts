/**
 * site.yaml: what one installation on the isolated network looks like. It lives on the
 * site, never in a bundle, and is the only place secrets (template variables, names of
 * password environment variables) come from. Relative paths are resolved against the
 * directory of the site file, so a site directory can be moved as a whole.
 */
import { dirname, resolve } from 'node:path';
import { z } from 'zod';
import { loadYamlFile } from '../base/yaml-file.js';

// The release manifest's name rule (docs/MANIFEST.md): site, environment and database names must match it.
const name = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, "expected a name of letters, digits, '.', '_' and '-', starting with a letter or digit");
const envVarName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'expected an environment variable name');
/** Mustache names; dots are excluded because values are flat scalars. */
const variableName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_-]*$/, 'expected a variable name (letters, digits, "_", "-")');
const dir = z.string().min(1);

const postgresSchema = z
  .strictObject({
    /** postgres://user@host:port/database; a password belongs in passwordEnv, not here. */
    url: z.string().regex(/^postgres(ql)?:\/\//, 'expected postgres://user@host:port/database').optional(),
    host: z.string().min(1).optional(),
    port: z.number().int().min(1).max(65535).optional(),
    user: z.string().min(1).optional(),
    database: z.string().min(1).optional(),
    /** Name of the environment variable that holds the password (its value is never stored or printed). */
    passwordEnv: envVarName.optional(),
  })
  .refine((pg) => pg.url !== undefined || pg.database !== undefined, { message: 'give url, or host/port/user/database' })
  .refine((pg) => pg.url === undefined || !/^postgres(ql)?:\/\/[^/@]*:[^/@]*@/.test(pg.url), {
    message: 'put the password in the environment variable named by passwordEnv, not in the url',
    path: ['url'],
  });

const databaseSchema = z.union([
  z.strictObject({ postgres: postgresSchema }),
  z.strictObject({ sqlite: z.strictObject({ file: z.string().min(1) }) }),
]);

const imagesSchema = z.union([
  z.strictObject({
    /** host:port of an OCI registry on the isolated network. */
    registry: z.string().regex(/^[A-Za-z0-9.-]+(:\d+)?$/, 'expected host or host:port'),
    /** Plain HTTP instead of HTTPS (only for registries on a trusted segment). */
    insecure: z.boolean().optional(),
    /** Environment variables that hold the registry user name and password. */
    credentialsEnv: z.strictObject({ username: envVarName, password: envVarName }).optional(),
    /** Put every repository under this path: docker.io/library/nginx:1.25 -> <registry>/<prefix>/library/nginx:1.25. */
    repositoryPrefix: z.string().min(1).optional(),
  }),
  z.strictObject({ ociLayout: dir }),
]);

/** http(s)://host[:port][/path]: a credential belongs in bearerTokenEnv, never in the URL (which is printed and recorded). */
const httpUrl = z.string().refine((value) => {
  try {
    const url = new URL(value);
    return (url.protocol === 'http:' || url.protocol === 'https:') && url.username === '' && url.password === '' && url.search === '' && url.hash === '';
  } catch {
    return false;
  }
}, 'expected http(s)://host:port[/path], without user, password, query or fragment (a token goes in bearerTokenEnv)');

const telemetryEndpointSchema = z.strictObject({
  url: httpUrl,
  /** Name of the environment variable that holds a bearer token (its value is never stored or printed). */
  bearerTokenEnv: envVarName.optional(),
});

const telemetrySchema = z.strictObject({
  /** The site's Prometheus, whose HTTP API (/api/v1/query) health gates are judged by. */
  prometheus: telemetryEndpointSchema.optional(),
  /** node_exporter's textfile collector directory: every run rewrites <dir>/airlock.prom. */
  textfile: dir.optional(),
  /** A Pushgateway the same series are pushed to (job airlock, grouped by site). */
  pushgateway: telemetryEndpointSchema.optional(),
});

const siteSchema = z.strictObject({
  site: name,
  environment: name,
  /** Where airlock keeps state, journal, audit log, previous configs and receipts (mode 0700). */
  stateDir: dir,
  /** Trust store directory (keys/ layout) that bundles are verified against. */
  trust: dir,
  /** Template variables; secrets live here and nowhere else. */
  variables: z.record(variableName, z.union([z.string(), z.number(), z.boolean()])).default({}),
  targets: z.strictObject({
    configRoot: dir,
    databases: z.record(name, databaseSchema).default({}),
    images: imagesSchema.optional(),
  }),
  /** Overrides the bundle's reaction to a failed health check. */
  onHealthCheckFailure: z.enum(['rollback', 'stop']).optional(),
  /** Health gates' Prometheus, and where deployment markers go (docs/TELEMETRY.md). */
  telemetry: telemetrySchema.default({}),
});

export type SiteFile = z.infer<typeof siteSchema>;
export type SiteVariables = SiteFile['variables'];
/** A telemetry server as the site file names it: the token by the name of its environment variable. */
export type TelemetryEndpoint = z.infer<typeof telemetryEndpointSchema>;
export type SiteTelemetry = SiteFile['telemetry'];

export interface PostgresTarget {
  kind: 'postgres';
  url?: string;
  host?: string;
  port?: number;
  user?: string;
  database?: string;
  passwordEnv?: string;
}
export interface SqliteTarget {
  kind: 'sqlite';
  file: string;
}
export type DatabaseTarget = PostgresTarget | SqliteTarget;

/** Where images go, as the site file says it: credentials by the names of their environment variables (resolved into images/push's ImageTarget when a run starts). */
export type SiteImageTarget =
  | { kind: 'registry'; registry: string; insecure: boolean; credentialsEnv?: { username: string; password: string }; repositoryPrefix?: string }
  | { kind: 'oci-layout'; dir: string };

/** A site file with every path absolute and every target in one tagged shape. */
export interface Site {
  file: string;
  site: string;
  environment: string;
  stateDir: string;
  trustDir: string;
  variables: SiteVariables;
  configRoot: string;
  databases: ReadonlyMap<string, DatabaseTarget>;
  images?: SiteImageTarget;
  onHealthCheckFailure?: 'rollback' | 'stop';
  /** `textfile` is absolute. */
  telemetry: SiteTelemetry;
}

function resolveSite(parsed: SiteFile, file: string): Site {
  const base = dirname(resolve(file));
  const at = (path: string) => resolve(base, path);
  const databases = new Map<string, DatabaseTarget>();
  for (const [db, target] of Object.entries(parsed.targets.databases)) {
    databases.set(db, 'postgres' in target ? { kind: 'postgres', ...target.postgres } : { kind: 'sqlite', file: at(target.sqlite.file) });
  }
  const images = parsed.targets.images;
  return {
    file: resolve(file),
    site: parsed.site,
    environment: parsed.environment,
    stateDir: at(parsed.stateDir),
    trustDir: at(parsed.trust),
    variables: parsed.variables,
    configRoot: at(parsed.targets.configRoot),
    databases,
    images:
      images === undefined
        ? undefined
        : 'registry' in images
          ? {
              kind: 'registry',
              registry: images.registry,
              insecure: images.insecure === true,
              ...(images.credentialsEnv === undefined ? {} : { credentialsEnv: images.credentialsEnv }),
              ...(images.repositoryPrefix === undefined ? {} : { repositoryPrefix: images.repositoryPrefix }),
            }
          : { kind: 'oci-layout', dir: at(images.ociLayout) },
    onHealthCheckFailure: parsed.onHealthCheckFailure,
    telemetry: { ...parsed.telemetry, ...(parsed.telemetry.textfile === undefined ? {} : { textfile: at(parsed.telemetry.textfile) }) },
  };
}

export async function loadSite(file: string): Promise<Site> {
  return resolveSite(await loadYamlFile(file, siteSchema, 'SITE_INVALID'), file);
}
