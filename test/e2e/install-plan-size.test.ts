/**
 * The plan of a release of many config files through the real CLI: short by default (counts per
 * directory, the first diffs, how to see the rest), `--diff none|all|<n>`, the whole plan under
 * --json, a bad --diff refused as a usage error before anything is read, and the rollback plan
 * counted per directory.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { exitCodeFor } from '../../src/exit-codes.js';
import { runCli } from '../support/cli.js';
import { makeFixture, makeSite, type Fixture } from '../support/install-fixture.js';

const GROUPS = 6;
const PER_GROUP = 100;
let fixture: Fixture;
let bundle: string;
let upgrade: string;

function release(version: string, dir: string, color: (group: number, i: number) => string): [string, Record<string, string>] {
  const files: Record<string, string> = { [`${dir}/app.conf`]: 'workers: 4\n' };
  for (let group = 0; group < GROUPS; group++) for (let i = 0; i < PER_GROUP; i++) files[`${dir}/assets/g${group}/f${i}.css`] = `.c${i} { color: #${color(group, i)}; }\n`;
  const manifest = ['name: web', `version: ${version}`, 'expires: 30d', 'configs:', '  prod:', `    - src: ${dir}/assets`, '      dest: www/assets', `    - src: ${dir}/app.conf`, '      dest: web/app.conf', ''];
  return [manifest.join('\n'), files];
}

const diffHeads = (stdout: string) => stdout.split('\n').filter((line) => line.trimStart().startsWith('--- a/'));

beforeAll(async () => {
  fixture = await makeFixture();
  bundle = await fixture.build(...release('1.0.0', 'web', (_, i) => String(i).padStart(3, '0')));
  // 1.0.1 changes the colours of the first group only.
  upgrade = await fixture.build(...release('1.0.1', 'web2', (group, i) => (group === 0 ? 'f' : '') + String(i).padStart(3, '0')));
});

describe('the plan of 601 config files', () => {
  it('is short by default: counts per directory, the first 10 diffs, and how to see the rest', async () => {
    const site = await makeSite(fixture);
    const plan = await runCli(['install', bundle, '--site', site.file, '--plan-only']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout.split('\n').length).toBeLessThan(100);
    expect(plan.stdout).toContain(`Configs -> ${join(site.dir, 'etc')} (601 added, 0 changed, 0 removed, 0 unchanged):`);
    expect(plan.stdout).toMatch(/\n {2}web\/ +1 file {3}\+1\n {2}www\/assets\/ +600 files {2}\+600\n {4}www\/assets\/g0\/ +100 files {2}\+100\n/);
    expect(plan.stdout).toMatch(/\n {4}www\/assets\/g5\/ +100 files {2}\+100\n\n/);
    expect(diffHeads(plan.stdout)).toHaveLength(10);
    expect(plan.stdout).toContain('... 591 more changed files: --diff <n> or --diff all lists them with their diffs, --json has every one');
    expect(plan.stdout).toContain('Plan only: nothing was changed.');
  });

  it('shows no diff with --diff none, three with --diff 3, every one with --diff all', async () => {
    const site = await makeSite(fixture);
    const none = await runCli(['install', bundle, '--site', site.file, '--plan-only', '--diff', 'none']);
    expect(none.code, none.stderr).toBe(0);
    expect(diffHeads(none.stdout)).toEqual([]);
    expect(none.stdout).toContain('... 601 more changed files');
    const three = await runCli(['install', bundle, '--site', site.file, '--plan-only', '--diff', '3']);
    expect(diffHeads(three.stdout)).toHaveLength(3);
    const all = await runCli(['install', bundle, '--site', site.file, '--plan-only', '--diff', 'all']);
    expect(diffHeads(all.stdout)).toHaveLength(601);
    expect(all.stdout).toContain('  + www/assets/g5/f99.css (0644)');
  });

  it('keeps every file and every diff under --json', async () => {
    const site = await makeSite(fixture);
    const result = await runCli(['install', bundle, '--site', site.file, '--plan-only', '--json', '--diff', 'none']);
    expect(result.code, result.stderr).toBe(0);
    const { plan } = JSON.parse(result.stdout) as { plan: { configs: Array<{ dest: string; diff?: string }> } };
    expect(plan.configs).toHaveLength(601);
    expect(plan.configs.every((change) => change.diff?.startsWith(`--- a/${change.dest}`))).toBe(true);
  });

  it('refuses a bad --diff as a usage error, naming the flag, before reading anything', async () => {
    const result = await runCli(['install', join(fixture.dir, 'no-such.airlock'), '--site', join(fixture.dir, 'no-such.yaml'), '--diff', 'some']);
    expect(result.code).toBe(exitCodeFor('USAGE'));
    expect(result.stderr).toBe('airlock: USAGE: --diff some: expected all, none or a number of diffs such as 20\n');
  });

  it('installs with --yes printing the short plan; an upgrade shows changes first; the rollback plan counts files per directory', async () => {
    const site = await makeSite(fixture);
    const install = await runCli(['install', bundle, '--site', site.file, '--yes']);
    expect(install.code, install.stderr).toBe(0);
    const shown = install.stdout.slice(0, install.stdout.indexOf('Installing (journal'));
    expect(shown).toContain('... 591 more changed files');
    expect(shown.split('\n').length).toBeLessThan(100);
    // No terminal: no progress bar on stderr.
    expect(install.stderr).toBe('');

    const upgraded = await runCli(['install', upgrade, '--site', site.file, '--yes', '--diff', '2']);
    expect(upgraded.code, upgraded.stderr).toBe(0);
    expect(upgraded.stdout).toContain('(0 added, 100 changed, 0 removed, 501 unchanged)');
    expect(upgraded.stdout).toMatch(/\n {2}www\/assets\/ +600 files {2}~100 =500\n {4}www\/assets\/g0\/ +100 files {2}~100\n {4}www\/assets\/g1\/ +100 files {2}=100\n/);
    expect(diffHeads(upgraded.stdout).map((line) => line.trim())).toEqual(['--- a/www/assets/g0/f0.css', '--- a/www/assets/g0/f1.css']);
    expect(upgraded.stdout).toContain('      -.c0 { color: #000; }');
    expect(upgraded.stdout).toContain('      +.c0 { color: #f000; }');

    const rollback = await runCli(['rollback', '--site', site.file, '--yes']);
    expect(rollback.code, rollback.stderr).toBe(0);
    expect(rollback.stdout).toContain('  configs     100 file(s) put back as they were before it');
    expect(rollback.stdout).toMatch(/ {4}www\/assets\/g0\/ +100 files {2}~100\n/);
    expect(rollback.stdout).toMatch(/ {4}\(~ put back; every file: installs\/\S+-web-1\.0\.1-\S+\/previous\.json in the state directory\)\n/);
    const plan = rollback.stdout.slice(0, rollback.stdout.indexOf('previous.json'));
    expect(plan.split('\n').length).toBeLessThan(20);
  });
});
