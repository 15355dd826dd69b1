/**
 * The Prometheus text exposition format (version 0.0.4), which node_exporter's textfile
 * collector reads and a Pushgateway takes: `# HELP`, `# TYPE`, then one line per series.
 * Label values are escaped (backslash, double quote, newline), so a release name can never
 * break a line or forge another series.
 */
export interface Series {
  labels: Record<string, string>;
  value: number;
}

export interface MetricFamily {
  name: string;
  help: string;
  type: 'gauge' | 'counter';
  series: Series[];
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatNumber(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  return String(value);
}

export const CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

export function renderExposition(families: readonly MetricFamily[]): string {
  const lines: string[] = [];
  for (const family of families) {
    // A family without series is left out: a HELP line alone says nothing.
    if (family.series.length === 0) continue;
    lines.push(`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} ${family.type}`);
    for (const series of family.series) {
      const labels = Object.entries(series.labels).map(([name, value]) => `${name}="${escapeLabel(value)}"`);
      lines.push(`${family.name}${labels.length > 0 ? `{${labels.join(',')}}` : ''} ${formatNumber(series.value)}`);
    }
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}
