/**
 * Hook scripts: each becomes `hooks/<file name>` (mode 0755) and keeps its place in its
 * phase, because hooks run in the order the manifest lists them. One script may serve
 * several hooks; two different scripts may not share a file name. A health gate
 * (`kind: prometheus`) has no script: it goes into airlock.json as it is, durations in seconds.
 */
import { posix } from 'node:path';
import { EXECUTABLE_MODE, HOOKS_DIR } from '../bundle/format.js';
import type { BundleManifest } from '../manifest/bundle-manifest.js';
import { HOOK_PHASES, type ReleaseManifest } from '../manifest/release.js';
import { displaySource } from '../manifest/release-paths.js';
import type { PackContext } from './pack-context.js';

export function packHooks(context: PackContext, manifest: ReleaseManifest): BundleManifest['hooks'] {
  const hooks: BundleManifest['hooks'] = { preInstall: [], postInstall: [], healthCheck: [] };
  const owners = new Map<string, { source: string; field: string }>();
  for (const phase of HOOK_PHASES) {
    manifest.hooks[phase].forEach((hook, index) => {
      if (!('script' in hook)) {
        // A gate on the site's metrics: nothing to pack, its query travels in airlock.json.
        const { for: forSeconds, interval, timeout, ...gate } = hook;
        hooks.healthCheck.push({ ...gate, forSeconds, intervalSeconds: interval, timeoutSeconds: timeout });
        return;
      }
      const where = ['hooks', phase, index, 'script'];
      const entry = context.source(hook.script, where, 'file');
      if (!entry) return;
      if (entry.kind !== 'file') {
        context.problem(where, `${displaySource(hook.script)} is a directory; a hook is one script file`);
        return;
      }
      const bundlePath = `${HOOKS_DIR}${posix.basename(hook.script)}`;
      const owner = owners.get(bundlePath);
      if (owner && owner.source !== hook.script) {
        context.problem(where, `${bundlePath} already holds ${displaySource(owner.source)} (${owner.field}); give the scripts different file names`);
        return;
      }
      owners.set(bundlePath, { source: hook.script, field: `hooks.${phase}[${index}].script` });
      context.addFile(bundlePath, hook.script, entry, EXECUTABLE_MODE);
      hooks[phase].push({ name: hook.name, path: bundlePath, timeoutSeconds: hook.timeout });
    });
  }
  return hooks;
}
