import { describe, expect, it } from 'vitest';
import { planConfigChanges, unifiedDiff, type DesiredConfig, type ExistingConfig } from '../../src/install/plan-config-changes.js';
import { maskValues, renderMasked, renderTemplate, requiredVariables } from '../../src/install/templates.js';
import { missingVariables } from '../../src/install/variables.js';
import { isAirlockError } from '../../src/base/errors.js';

const SECRET = 's3cr3t-Pa55word';

describe('config templates', () => {
  const template = 'host: {{db_host}}\npassword: "{{db_password}}"\n{{#tls}}tls: on\n{{/tls}}{{^debug}}debug: off\n{{/debug}}url: {{{base}}}/x?a=1&b=<2>\n';

  it('requires variables used outside sections and section names, not inverted ones', () => {
    expect(requiredVariables(template, 'app.tmpl')).toEqual(['base', 'db_host', 'db_password', 'tls']);
  });

  it('renders without HTML escaping', () => {
    const out = renderTemplate('a={{v}}', { v: '<&>"' });
    expect(out).toBe('a=<&>"');
  });

  it('masks every non-boolean value in the printable rendering, keeps sections honest', () => {
    const vars = { db_host: 'db.internal', db_password: SECRET, tls: true, base: 'https://x' };
    const real = renderTemplate(template, vars);
    expect(real).toContain(SECRET);
    const masked = renderMasked(template, vars, 'app.tmpl');
    expect(masked).not.toContain(SECRET);
    expect(masked).not.toContain('db.internal');
    expect(masked).toContain('password: "<<db_password>>"');
    expect(masked).toContain('tls: on');
  });

  it('refuses partials, which would render as nothing', () => {
    try {
      requiredVariables('{{>other}}', 'configs/prod/a.tmpl');
      expect.unreachable();
    } catch (error) {
      expect(isAirlockError(error, 'MANIFEST_INVALID')).toBe(true);
      expect((error as Error).message).toContain('configs/prod/a.tmpl');
    }
  });

  it('masks site values found in files it did not render, longest first', () => {
    const text = `pw=${SECRET} short=abc pw2=${SECRET}x`;
    const out = maskValues(text, { pw: SECRET, tiny: 'abc', flag: true, longer: `${SECRET}x` });
    expect(out).toBe('pw=<<pw>> short=abc pw2=<<longer>>');
  });

  it('names the missing variable and the config that needs it', () => {
    const missing = missingVariables([{ dest: 'shop/app.yaml', required: ['a', 'b'] }, { dest: 'n.conf', required: ['b'] }], { a: 1 });
    expect([...missing]).toEqual([['b', ['shop/app.yaml', 'n.conf']]]);
  });
});

describe('config plan', () => {
  const desired = (dest: string, sha256: string, display: string | undefined, mode = 0o644): DesiredConfig => ({
    dest,
    path: `configs/prod/${dest}`,
    mode,
    template: false,
    sha256,
    display: () => display,
  });
  const existing = (sha256: string, display: string | undefined, origin: ExistingConfig['origin'] = 'managed', mode = 0o644): ExistingConfig => ({
    sha256,
    mode,
    display: () => display,
    origin,
  });

  it('adds, changes, re-modes, keeps and removes only what the previous release installed', () => {
    const plan = planConfigChanges(
      [desired('new.conf', 'n', 'new\n'), desired('a.conf', 'a2', 'x\nB\n'), desired('m.conf', 'm', 'm\n', 0o600), desired('same.conf', 's', 's\n')],
      new Map([
        ['a.conf', existing('a1', 'x\nA\n')],
        ['m.conf', existing('m', 'm\n')],
        ['same.conf', existing('s', 's\n')],
        ['gone.conf', existing('g', 'g\n')],
        ['hand-made.conf', existing('h', 'h\n', 'unmanaged')],
      ]),
      new Set(['a.conf', 'm.conf', 'same.conf', 'gone.conf']),
    );
    expect(plan.map((c) => [c.dest, c.action])).toEqual([
      ['a.conf', 'change'],
      ['gone.conf', 'remove'],
      ['m.conf', 'mode'],
      ['new.conf', 'add'],
      ['same.conf', 'unchanged'],
    ]);
    expect(plan[0]!.diff).toBe('--- a/a.conf\n+++ b/a.conf\n@@ -1,2 +1,2 @@\n x\n-A\n+B');
  });

  it('says when only variable values changed, without showing them', () => {
    const [change] = planConfigChanges([desired('app.yaml', 'new', 'pw=<<pw>>\n')], new Map([['app.yaml', existing('old', 'pw=<<pw>>\n')]]), new Set(['app.yaml']));
    expect(change!.action).toBe('change');
    expect(change!.diff).toBeUndefined();
    expect(change!.notes.join(' ')).toContain('only site variable values change');
  });

  it('warns about files edited by hand and files it did not install', () => {
    const plan = planConfigChanges(
      [desired('a', '2', 'b\n'), desired('b', '2', 'b\n')],
      new Map([
        ['a', existing('1', 'a\n', 'edited')],
        ['b', existing('1', 'a\n', 'unmanaged')],
      ]),
      new Set(['a']),
    );
    expect(plan[0]!.notes[0]).toContain('edited on disk');
    expect(plan[1]!.notes[0]).toContain('did not install');
  });

  it('shows no diff for binary content', () => {
    const [change] = planConfigChanges([desired('x.bin', '2', undefined)], new Map([['x.bin', existing('1', undefined)]]), new Set());
    expect(change!.diff).toBeUndefined();
    expect(change!.notes).toContain('binary or over 1 MiB: no diff shown');
  });

  it('gives no diff for equal text', () => {
    expect(unifiedDiff('a', 'x\n', 'x\n')).toBeUndefined();
  });
});
