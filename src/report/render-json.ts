/** The report as JSON: the model itself, for archiving and for tools; the SBOM embedded as a document, not a string. */
import type { ReportModel } from './model.js';

export function renderJson(model: ReportModel): string {
  return `${JSON.stringify({ ...model, sbom: JSON.parse(model.sbom) as unknown }, null, 2)}\n`;
}
