// Bundles the logic tests with esbuild and runs them with node's test runner.
import * as esbuild from 'esbuild';
import { spawnSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const out = join(mkdtempSync(join(tmpdir(), 'yizhan-web-test-')), 'logic.test.mjs');
await esbuild.build({
  entryPoints: ['test/logic.test.ts'],
  bundle: true,
  platform: 'node',
  format: 'esm',
  outfile: out,
  external: ['livekit-client'],
  logLevel: 'warning',
});
const r = spawnSync(process.execPath, ['--test', out], { stdio: 'inherit' });
process.exit(r.status ?? 1);
