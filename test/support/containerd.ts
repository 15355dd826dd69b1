/**
 * A real containerd daemon for tests (Debian package `containerd`), with its root, state and
 * socket in a temporary directory and the CRI plugin off: enough for `ctr content fetch` to
 * resolve and pull images the way a node would, honouring a hosts.toml directory.
 */
import { execa } from 'execa';
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface TestContainerd {
  /** Runs ctr against this daemon, in namespace `airlock-test`. */
  ctr(args: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }>;
  stop(): Promise<void>;
  log(): Promise<string>;
}

const READY_TIMEOUT_MS = 20_000;

export async function startContainerd(): Promise<TestContainerd> {
  const dir = await mkdtemp(join(tmpdir(), 'ctd-'));
  const address = join(dir, 'containerd.sock');
  const config = join(dir, 'config.toml');
  await writeFile(
    config,
    ['version = 2', `root = ${JSON.stringify(join(dir, 'root'))}`, `state = ${JSON.stringify(join(dir, 'state'))}`, 'disabled_plugins = ["io.containerd.grpc.v1.cri"]', '[grpc]', `  address = ${JSON.stringify(address)}`, ''].join('\n'),
  );
  const logFile = join(dir, 'containerd.log');
  const child = spawn('bash', ['-c', 'exec containerd --config "$1" >"$2" 2>&1', 'containerd', config, logFile], { stdio: 'ignore' });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  const ctr = async (args: readonly string[]) => {
    const result = await execa('ctr', ['--address', address, '--namespace', 'airlock-test', ...args], { reject: false });
    return { code: result.exitCode ?? -1, stdout: result.stdout, stderr: result.stderr };
  };
  const started = Date.now();
  while (!(existsSync(address) && (await ctr(['version'])).code === 0)) {
    if (child.exitCode !== null || Date.now() - started > READY_TIMEOUT_MS) {
      throw new Error(`containerd did not start:\n${await readFile(logFile, 'utf8').catch(() => '')}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return {
    ctr,
    log: () => readFile(logFile, 'utf8'),
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
      await rm(dir, { recursive: true, force: true });
    },
  };
}
