/**
 * A real PostgreSQL 15 for tests: initdb + pg_ctl in a fresh directory under /tmp, on a free
 * loopback port, trust authentication. initdb refuses to run as root, so the server runs as
 * user postgres (runuser), and its directory must be reachable by that user (not under /root).
 */
import { execa } from 'execa';
import { chown, mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';

const PGBIN = '/usr/lib/postgresql/15/bin';

export interface TestPostgres {
  host: string;
  port: number;
  user: string;
  dir: string;
  /** postgres://postgres@127.0.0.1:<port>/<database> */
  url(database: string): string;
  createDatabase(name: string): Promise<void>;
  /** Runs SQL as the superuser through psql; returns its unaligned, tuples-only output. */
  psql(database: string, sql: string): Promise<string>;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function postgresIds(): { uid: number; gid: number } {
  const id = (flag: string) => Number(execFileSync('id', [flag, 'postgres']).toString().trim());
  return { uid: id('-u'), gid: id('-g') };
}

const asPostgres = (command: string, args: string[]) => execa('runuser', ['-u', 'postgres', '--', join(PGBIN, command), ...args]);

export async function startPostgres(): Promise<TestPostgres> {
  const dir = await mkdtemp('/tmp/airlock-pg-');
  const { uid, gid } = postgresIds();
  await chown(dir, uid, gid);
  const data = join(dir, 'data');
  await asPostgres('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  let port = 0;
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await asPostgres('pg_ctl', [
        '-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30',
        '-o', `-k ${dir} -h 127.0.0.1 -p ${port} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
        'start',
      ]);
      break;
    } catch (error) {
      // Another process may have taken the port between the probe and the start.
      if (attempt >= 3) throw error;
    }
  }
  const host = '127.0.0.1';
  const psql = async (database: string, sql: string): Promise<string> => {
    const result = await execa(join(PGBIN, 'psql'), ['-h', host, '-p', String(port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-At', '-c', sql]);
    return result.stdout;
  };
  return {
    host,
    port,
    user: 'postgres',
    dir,
    url: (database) => `postgres://postgres@${host}:${port}/${database}`,
    createDatabase: async (name) => {
      await psql('postgres', `CREATE DATABASE "${name}"`);
    },
    psql,
    stop: async () => {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
