/**
 * The text plans at any size: a handful of files listed with their diffs as always; a release of
 * 20,000 files as counts per directory, the first diffs (changes to files on the site before new
 * files) and how to see the rest; `--diff all|none|<n>`; --json keeps every file and diff; the
 * rollback plan summarised the same way.
 */
import { describe, expect, it } from 'vitest';
import { parseDiffOption } from '../../src/commands/install.js';
import { directoryLines } from '../../src/install/plan-directories.js';
import type { ConfigChange } from '../../src/install/plan-config-changes.js';
import type { InstallPlan } from '../../src/install/plan-install.js';
import type { RollbackPlan } from '../../src/install/plan-rollback.js';
import { planJson, planLines, rollbackLines } from '../../src/install/plan-view.js';
import { fails } from '../support/errors.js';

const desired = (dest: string) => ({ dest, path: `configs/${dest}`, mode: 0o644, template: false, sha256: 'f'.repeat(64), display: () => 'text\n' });
const diffOf = (dest: string, body: string) => `--- a/${dest}\n+++ b/${dest}\n@@ -1 +1 @@\n${body}`;
const added = (dest: string): ConfigChange => ({ dest, action: 'add', desired: desired(dest), notes: [], diff: diffOf(dest, `+new ${dest}`) });
const changed = (dest: string, notes: string[] = []): ConfigChange => ({ dest, action: 'change', desired: desired(dest), notes, diff: diffOf(dest, `-old\n+changed ${dest}`) });
const unchanged = (dest: string): ConfigChange => ({ dest, action: 'unchanged', desired: desired(dest), notes: [] });
const removed = (dest: string): ConfigChange => ({ dest, action: 'remove', notes: [], diff: diffOf(dest, `-gone ${dest}`) });

function planOf(configs: ConfigChange[]): InstallPlan {
  return {
    release: { name: 'web', version: '2.0.0' },
    from: null,
    site: 'plant-a',
    environment: 'prod',
    bundle: { file: 'web-2.0.0.airlock', digest: 'd'.repeat(64), signers: [] },
    images: [],
    configs: [...configs].sort((a, b) => (a.dest < b.dest ? -1 : 1)),
    databases: [],
    hooks: { preInstall: [], postInstall: [], healthCheck: [] },
    onHealthCheckFailure: 'rollback',
    overrides: [],
    steps: [],
  };
}

/**
 * 20,000 files as issue 14 has them: 16,000 new static assets in 20 directories, 3,000 per-host
 * configs of which 10 change, 1,000 certificates of which 10 go, one edited application config.
 */
function bigRelease(): InstallPlan {
  const configs: ConfigChange[] = [];
  for (let group = 0; group < 20; group++) for (let i = 0; i < 800; i++) configs.push(added(`www/assets/g${String(group).padStart(2, '0')}/f${i}.js`));
  for (let host = 0; host < 1000; host++) {
    for (const file of ['app.conf', 'tls.pem', 'rules.yaml']) {
      const dest = `hosts/h${String(host).padStart(3, '0')}/${file}`;
      configs.push(host % 100 === 0 && file === 'app.conf' ? changed(dest) : unchanged(dest));
    }
  }
  for (let cert = 0; cert < 999; cert++) configs.push(cert < 10 ? removed(`certs/c${cert}.pem`) : unchanged(`certs/c${cert}.pem`));
  configs.push(changed('app.yaml', ['edited on disk since airlock installed it: the edit will be replaced (and kept for rollback)']));
  return planOf(configs);
}

const diffHeads = (lines: string[]) => lines.filter((line) => line.trimStart().startsWith('--- a/')).map((line) => line.trim().slice('--- a/'.length));
const configSection = (lines: string[]) => lines.slice(lines.findIndex((line) => line.startsWith('Configs ->')), lines.indexOf('Migrations:'));
const countsOf = (lines: string[], dir: string) => /(\d+ files?\s+\S.*)$/.exec(lines.find((line) => line.trimStart().startsWith(dir)) ?? '')?.[1];
const dirNames = (lines: string[]) => lines.map((line) => line.trim().replace(/\s{2,}.*$/, ''));

describe('the install plan of 20,000 files', () => {
  const plan = bigRelease();

  it('fits a screen: counts per directory, the first 10 diffs, changed files before new ones, and how to see the rest', () => {
    const lines = planLines(plan, '/etc');
    expect(plan.configs).toHaveLength(20_000);
    expect(lines.length).toBeLessThan(120);
    const configs = configSection(lines);
    expect(configs[0]).toBe('Configs -> /etc (16000 added, 11 changed, 10 removed, 3979 unchanged):');
    expect(countsOf(configs, 'www/assets/')).toBe('16000 files  +16000');
    expect(countsOf(configs, 'hosts/')).toBe('3000 files  ~10 =2990');
    expect(countsOf(configs, 'certs/')).toBe('999 files  -10 =989');
    expect(countsOf(configs, '(top level)')).toBe('1 file   ~1');
    // The edited file and the hosts' changes first, then removals, then the first new files.
    expect(diffHeads(configs)).toEqual([
      'app.yaml',
      ...Array.from({ length: 10 }, (_, i) => `hosts/h${String(i * 100).padStart(3, '0')}/app.conf`),
    ].slice(0, 10));
    expect(configs).toContain('      note: edited on disk since airlock installed it: the edit will be replaced (and kept for rollback)');
    expect(configs.at(-2)).toContain('16011 more changed files: --diff <n> or --diff all lists them with their diffs, --json has every one');
  });

  it('--diff 3 shows three diffs, --diff 20 reaches the removals and new files', () => {
    expect(diffHeads(planLines(plan, '/etc', { diffs: 3 }))).toEqual(['app.yaml', 'hosts/h000/app.conf', 'hosts/h100/app.conf']);
    const twenty = diffHeads(planLines(plan, '/etc', { diffs: 20 }));
    expect(twenty.slice(11, 21)).toEqual(Array.from({ length: 9 }, (_, i) => `certs/c${i}.pem`));
    expect(planLines(plan, '/etc', { diffs: 20 }).join('\n')).toContain('16001 more changed files');
  });

  it('--diff none keeps the counts and shows no diff', () => {
    const lines = planLines(plan, '/etc', { diffs: 0 });
    expect(diffHeads(lines)).toEqual([]);
    expect(lines.join('\n')).toContain('www/assets/');
    expect(lines.join('\n')).toContain('... 16021 more changed files');
    expect(lines.length).toBeLessThan(40);
  });

  it('--diff all lists every changed file with its diff', () => {
    const lines = planLines(plan, '/etc', { diffs: 'all' });
    expect(diffHeads(lines)).toHaveLength(16_021);
    expect(lines).toContain('  + www/assets/g19/f799.js (0644)');
    expect(lines).toContain('  - certs/c9.pem');
    expect(lines.join('\n')).not.toContain('more changed files');
  });

  it('--json carries every file and every diff whatever the text shows', () => {
    const json = planJson(plan);
    expect(json.configs).toHaveLength(20_000);
    expect(json.configs.filter((change) => change.diff !== undefined)).toHaveLength(16_021);
    expect(json.counts).toMatchObject({ added: 16_000, changed: 11, removed: 10, unchanged: 3979 });
  });
});

describe('a small plan', () => {
  const plan = planOf([changed('shop/app.yaml'), added('shop/new.yaml'), removed('shop/old.yaml'), unchanged('shop/same.yaml')]);

  it('lists every file with its diff, as it always has', () => {
    const configs = configSection(planLines(plan, '/etc'));
    expect(configs).toEqual([
      'Configs -> /etc (1 added, 1 changed, 1 removed, 1 unchanged):',
      '  ~ shop/app.yaml (0644)',
      ...diffOf('shop/app.yaml', '-old\n+changed shop/app.yaml').split('\n').map((line) => `      ${line}`),
      '  + shop/new.yaml (0644)',
      ...diffOf('shop/new.yaml', '+new shop/new.yaml').split('\n').map((line) => `      ${line}`),
      '  - shop/old.yaml',
      ...diffOf('shop/old.yaml', '-gone shop/old.yaml').split('\n').map((line) => `      ${line}`),
      '',
    ]);
  });

  it('lists every file but only the diffs asked for, and says how many are left out', () => {
    const configs = configSection(planLines(plan, '/etc', { diffs: 1 }));
    expect(diffHeads(configs)).toEqual(['shop/app.yaml']);
    expect(configs).toContain('  + shop/new.yaml (0644)');
    expect(configs).toContain('  (2 more diffs not shown: --diff all shows every one, --json has them all)');
  });

  it('says so when nothing changes', () => {
    expect(configSection(planLines(planOf([unchanged('a.conf')]), '/etc'))).toEqual(['Configs -> /etc (0 added, 0 changed, 0 removed, 1 unchanged):', '  (no changes)', '']);
  });
});

describe('the images of a plan', () => {
  const image = (n: number) => ({ ref: `app${n}:1.0`, target: `registry.internal/app${n}:1.0`, digest: `sha256:${String(n).padStart(64, '0')}`, size: 1024 * 1024, mediaType: 'application/vnd.oci.image.index.v1+json' });
  const withImages = (count: number) => ({ ...planOf([]), imageTarget: 'registry.internal', images: Array.from({ length: count }, (_, n) => image(n)) }) as unknown as InstallPlan;

  it('lists up to 40 one by one', () => {
    const lines = planLines(withImages(40), '/etc');
    expect(lines.filter((line) => line.startsWith('  + app'))).toHaveLength(40);
    expect(lines).toContain('Images -> registry.internal (40):');
  });

  it('shows the first 20 of 200 and counts the rest', () => {
    const lines = planLines(withImages(200), '/etc');
    expect(lines.filter((line) => line.startsWith('  + app'))).toHaveLength(20);
    expect(lines).toContain('  ... 180 more images (180.0 MiB): --json lists every one');
    expect(planJson(withImages(200)).images).toHaveLength(200);
  });
});

describe('counts per directory', () => {
  const marks = { add: '+', change: '~' } as const;

  it('opens the directories with the most changes while they fit, and one line stands for a chain of single directories', () => {
    const entries = [
      ...Array.from({ length: 300 }, (_, i) => ({ path: `srv/web/static/css/s${i}.css`, kind: 'add' as const })),
      ...Array.from({ length: 200 }, (_, i) => ({ path: `srv/web/static/js/s${i}.js`, kind: 'add' as const })),
      ...Array.from({ length: 5 }, (_, i) => ({ path: `srv/web/h${i}/site.conf`, kind: 'change' as const })),
      { path: 'srv/web/index.conf', kind: 'change' as const },
    ];
    const lines = directoryLines(entries, { marks, maxLines: 6 });
    expect(dirNames(lines)).toEqual([
      'srv/web/h0/',
      'srv/web/h1/',
      'srv/web/h2/',
      'srv/web/h3/',
      'srv/web/h4/',
      'srv/web/static/ (2 subdirectories)',
      'srv/web/ (its own files)',
    ]);
    expect(lines[5]).toMatch(/500 files {2}\+500$/);
    const roomier = directoryLines(entries, { marks, maxLines: 10 });
    expect(dirNames(roomier)).toContain('srv/web/static/css/');
    expect(roomier.length).toBeLessThanOrEqual(10);
  });

  it('keeps to the line budget with 200,000 files in 2,000 directories', () => {
    const entries = Array.from({ length: 200_000 }, (_, i) => ({ path: `d${i % 40}/e${i % 50}/f${i}.txt`, kind: i % 7 === 0 ? ('change' as const) : ('add' as const) }));
    const lines = directoryLines(entries, { marks, maxLines: 20 });
    expect(lines).toHaveLength(40);
    const total = lines.reduce((sum, line) => sum + Number(/(\d+) files/.exec(line)![1]), 0);
    expect(total).toBe(200_000);
  });
});

describe('the rollback plan', () => {
  const plan = { target: { installId: 'web-2.0.0-20261202T1000', name: 'web', version: '2.0.0', interrupted: false, to: null }, steps: [], kept: [] } as unknown as RollbackPlan;
  const site = { site: 'plant-a', environment: 'prod' };

  it('lists each file of a small backup', () => {
    const lines = rollbackLines(plan, site, [
      { dest: 'shop/app.yaml', existed: true, mode: 0o640 },
      { dest: 'shop/new.yaml', existed: false },
    ] as never);
    expect(lines.slice(2)).toEqual(['  configs     2 file(s) put back as they were before it', '    ~ shop/app.yaml', '    - shop/new.yaml']);
  });

  it('counts a large one per directory and names the list of every file', () => {
    const backup = [
      ...Array.from({ length: 16_000 }, (_, i) => ({ dest: `www/assets/f${i}.js`, existed: false })),
      ...Array.from({ length: 10 }, (_, i) => ({ dest: `hosts/h${i}/app.conf`, existed: true, mode: 0o644 })),
    ];
    const lines = rollbackLines(plan, site, backup as never);
    expect(lines.length).toBeLessThan(30);
    expect(countsOf(lines, 'www/assets/')).toBe('16000 files  -16000');
    expect(countsOf(lines, 'hosts/')).toBe('10 files  ~10');
    expect(lines.at(-1)).toBe('    (~ put back, - deleted (the install added it); every file: installs/web-2.0.0-20261202T1000/previous.json in the state directory)');
  });
});

describe('--diff', () => {
  it('takes all, none or a count', () => {
    expect(parseDiffOption('all')).toBe('all');
    expect(parseDiffOption('none')).toBe(0);
    expect(parseDiffOption('25')).toBe(25);
  });

  it('refuses anything else, naming the flag', () => {
    for (const bad of ['some', '-3', '2.5', '', 'ALL']) expect(fails('USAGE', () => parseDiffOption(bad))).toBe(`--diff ${bad}: expected all, none or a number of diffs such as 20`);
  });
});
