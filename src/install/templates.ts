/**
 * Config templates: mustache, logic-less, with HTML escaping off (configs are not HTML).
 * Two renderings exist: the real one, written to the site, and a masked one in which every
 * non-boolean variable shows as <<name>>; only the masked one is ever printed or stored.
 */
import Mustache from 'mustache';
import { AirlockError } from '../base/errors.js';
import type { SiteVariables } from '../manifest/site.js';

type Token = [string, string, number, number, Token[]?, number?];

const NO_ESCAPE = { escape: (value: unknown) => String(value) };

function parse(source: string, where: string): Token[] {
  try {
    return Mustache.parse(source) as Token[];
  } catch (cause) {
    throw new AirlockError('MANIFEST_INVALID', `${where}: not a valid template (${(cause as Error).message})`, { cause });
  }
}

/**
 * Variables a template cannot render without: names used outside any section, and the
 * names of `{{#section}}`s. Names inside a section may resolve against the section's own
 * value, and `{{^name}}` exists to handle absence, so neither is required.
 */
export function requiredVariables(source: string, where: string): string[] {
  const names = new Set<string>();
  for (const token of parse(source, where)) {
    const [type, value] = token;
    if (type === 'name' || type === '&' || type === '#') names.add(value);
    if (type === '>') throw new AirlockError('MANIFEST_INVALID', `${where}: partials ({{>${value}}}) are not supported in config templates`);
  }
  return [...names].sort();
}

export function renderTemplate(source: string, variables: SiteVariables): string {
  return Mustache.render(source, variables, {}, NO_ESCAPE);
}

function maskedVariables(variables: SiteVariables, names: Iterable<string>): SiteVariables {
  const masked: SiteVariables = {};
  for (const name of names) {
    const value = variables[name];
    masked[name] = typeof value === 'boolean' ? value : `<<${name}>>`;
  }
  return masked;
}

/** The printable form of a rendered template: same text, every variable value replaced by <<name>>. */
export function renderMasked(source: string, variables: SiteVariables, where: string): string {
  return renderTemplate(source, maskedVariables(variables, requiredVariables(source, where).concat(Object.keys(variables))));
}

/** Values shorter than this are too common to mask by value (and too short to be secrets). */
const MIN_MASKED_VALUE = 4;

/**
 * Masks site variable values inside text that airlock did not render itself (a file found
 * on disk). Longest values first, so a value containing another is masked whole.
 */
export function maskValues(text: string, variables: SiteVariables): string {
  const entries = Object.entries(variables)
    .filter((entry): entry is [string, string | number] => typeof entry[1] !== 'boolean' && String(entry[1]).length >= MIN_MASKED_VALUE)
    .sort((a, b) => String(b[1]).length - String(a[1]).length);
  let out = text;
  for (const [name, value] of entries) out = out.split(String(value)).join(`<<${name}>>`);
  return out;
}
