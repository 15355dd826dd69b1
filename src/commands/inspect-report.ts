/**
 * `airlock inspect <bundle> --report <file>`: the security officer's report. With
 * --trust the real verification runs and its verdict leads the report; without it the
 * report says plainly that no signature was checked. The report is written even for a
 * bundle that fails verification (the officer files the refusal too), and the command
 * then fails with the verification's own code.
 */
import { writeFile } from 'node:fs/promises';
import { extname } from 'node:path';
import { AirlockError } from '../base/errors.js';
import { loadTrustStore } from '../trust/store.js';
import type { Output } from '../ui/output.js';
import { withVerified, type LoadStrategy } from '../verify/load-verified.js';
import { assertVerified } from '../verify/report.js';
import { collectReport } from '../report/collect.js';
import type { ReportModel } from '../report/model.js';
import { renderHtml } from '../report/render-html.js';
import { renderJson } from '../report/render-json.js';
import { renderMarkdown } from '../report/render-markdown.js';
import { verdictOf } from '../report/verdict.js';

const RENDERERS = { html: renderHtml, md: renderMarkdown, json: renderJson } satisfies Record<string, (model: ReportModel) => string>;
type ReportFormat = keyof typeof RENDERERS;

/** The options of `airlock inspect` that ask for a report. */
export interface ReportOptions {
  report?: string;
  format?: string;
  trust?: string;
}

const EXTENSION_FORMATS: Record<string, ReportFormat> = { '.md': 'md', '.markdown': 'md', '.json': 'json' };

/** Whether inspect was asked for a report rather than its listing. */
export function wantsReport(options: ReportOptions): boolean {
  return options.report !== undefined || options.format !== undefined || options.trust !== undefined;
}

function reportFormat(format: string | undefined, file: string): ReportFormat {
  if (format === undefined) return EXTENSION_FORMATS[extname(file).toLowerCase()] ?? 'html';
  if (Object.hasOwn(RENDERERS, format)) return format as ReportFormat;
  throw new AirlockError('USAGE', `--format: expected html, md or json, not ${JSON.stringify(format)}`);
}

export async function inspectReportCommand(output: Output, bundle: string, options: ReportOptions): Promise<void> {
  if (options.report === undefined) throw new AirlockError('USAGE', '--format and --trust go with --report <file>');
  const format = reportFormat(options.format, options.report);
  const trust = options.trust === undefined ? undefined : await loadTrustStore(options.trust);
  const now = new Date();
  // Without a trust store nothing is judged: the report says plainly that no signature was checked.
  const strategy: LoadStrategy & { unreadable: 'throw' } = trust
    ? { checks: 'payload', trust, now, allowExpired: false, unreadable: 'throw' }
    : { checks: 'layout', unreadable: 'throw' };
  const { model, verification } = await withVerified(bundle, strategy, async (loaded) => {
    const verification = trust ? loaded.report : undefined;
    try {
      return { verification, model: await collectReport(loaded.reader, { now, verified: verification && { report: verification, trustStore: options.trust! } }) };
    } catch (error) {
      // A bundle too damaged to describe: its verification failure is the better message.
      if (verification && !verification.ok) assertVerified(verification);
      throw error;
    }
  });
  await writeFile(options.report, RENDERERS[format](model));

  const verdict = verdictOf(model);
  output.result({ report: options.report, format, verdict: verdict.kind, release: { name: model.release.name, version: model.release.version }, checksumsDigest: model.checksumsDigest });
  output.say(`wrote ${options.report} (${format}): ${model.release.name} ${model.release.version}, ${verdict.title.toLowerCase()}`);
  if (verification) assertVerified(verification);
}
