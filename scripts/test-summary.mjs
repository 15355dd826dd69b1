// Prints the plain closing line `N passed, N failed` from vitest's JSON report.
// A missing report (the run died before vitest wrote it) counts as a failure.
import { readFileSync } from 'node:fs';

const file = process.argv[2] ?? '.tmp/test-results.json';
let report;
try {
  report = JSON.parse(readFileSync(file, 'utf8'));
} catch {
  console.log('0 passed, 1 failed');
  process.exit(1);
}
// Files that failed to load count as failures too: their tests never ran.
const brokenFiles = report.testResults.filter((r) => r.status === 'failed' && r.assertionResults.length === 0).length;
const failed = report.numFailedTests + brokenFiles;
console.log(`${report.numPassedTests} passed, ${failed} failed`);
process.exit(failed > 0 || report.numPassedTests === 0 ? 1 : 0);
