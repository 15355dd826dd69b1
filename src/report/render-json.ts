/** The report as JSON: the model itself, for archiving and for tools. */
import type { ReportModel } from './model.js';

export function renderJson(model: ReportModel): string {
  return `${JSON.stringify(model, null, 2)}\n`;
}
