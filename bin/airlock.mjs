#!/usr/bin/env node
// Runs the bundled CLI; `npm run build` (run by `npm install` via prepare) writes it.
import '../dist/airlock.mjs';
