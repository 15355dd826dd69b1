/**
 * A real PostgreSQL 15 for tests: initdb + pg_ctl in a fresh directory under /tmp, on a free
 * loopback port, trust authentication. initdb refuses to run as root, so the server runs as
 * user postgres (runuser), and its directory must be reachable by that user (not under /root).
 */
import { execa } from 'execa';
import { chown, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import { freePort } from './ports.js';

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
  /** `pg_ctl stop -m immediate`: the server is gone at once, mid-transaction, as in a crash. Its data stays. */
  crash(): Promise<void>;
  /** Starts the server again on the same port (after crash()). */
  start(): Promise<void>;
  /** SIGSTOP to the postmaster and every backend: connections stay open and nothing answers. */
  pause(): Promise<void>;
  /** SIGCONT after pause(). */
  resume(): Promise<void>;
  /** A login role that must give its password (scram-sha-256 over TCP), unlike the trusted superuser. */
  addPasswordUser(user: string, password: string): Promise<void>;
  stop(): Promise<void>;
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
  const launch = () =>
    asPostgres('pg_ctl', [
      '-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '30',
      '-o', `-k ${dir} -h 127.0.0.1 -p ${port} -c fsync=off -c synchronous_commit=off -c full_page_writes=off`,
      'start',
    ]);
  for (let attempt = 0; ; attempt++) {
    port = await freePort();
    try {
      await launch();
      break;
    } catch (error) {
      // Another process may have taken the port between the probe and the start.
      if (attempt >= 3) throw error;
    }
  }
  /** The postmaster (first line of postmaster.pid) and its children, by pid. */
  const serverPids = async (): Promise<number[]> => {
    const postmaster = Number((await readFile(join(data, 'postmaster.pid'), 'utf8')).split('\n')[0]);
    const children: number[] = [];
    for (const entry of await readdir('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const stat = await readFile(`/proc/${entry}/stat`, 'utf8').catch(() => '');
      // Field 4 (ppid), counted after the ')' that closes the command name.
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === postmaster) children.push(Number(entry));
    }
    return [postmaster, ...children];
  };
  const signal = async (name: NodeJS.Signals) => {
    for (const pid of await serverPids()) process.kill(pid, name);
  };
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
    crash: async () => {
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']);
    },
    start: async () => {
      await launch();
    },
    pause: () => signal('SIGSTOP'),
    resume: () => signal('SIGCONT'),
    addPasswordUser: async (user, password) => {
      await psql('postgres', `CREATE ROLE "${user}" LOGIN SUPERUSER PASSWORD '${password}'`);
      const hba = join(data, 'pg_hba.conf');
      await writeFile(hba, `host all ${user} 127.0.0.1/32 scram-sha-256\n${await readFile(hba, 'utf8')}`);
      await psql('postgres', 'SELECT pg_reload_conf()');
    },
    stop: async () => {
      await signal('SIGCONT').catch(() => undefined);
      await asPostgres('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
      await rm(dir, { recursive: true, force: true });
    },
  };
}
