/**
 * Every scenario the benchmark knows, in the order they run. To add one (issue 3's image
 * pull and push, say), write bench/scenarios/<name>.ts exporting a Scenario and list it here.
 */
import type { Scenario } from './scenario.js';
import { bundleScenario } from './scenarios/bundle.js';
import { deltaScenario } from './scenarios/delta.js';
import { imagesScenario } from './scenarios/images.js';
import { manyImagesScenario } from './scenarios/many-images.js';
import { manyScenario } from './scenarios/many.js';
import { mediaScenario } from './scenarios/media.js';
import { serveScenario } from './scenarios/serve.js';

export const SCENARIOS: readonly Scenario[] = [bundleScenario, imagesScenario, mediaScenario, serveScenario, deltaScenario, manyScenario, manyImagesScenario];
