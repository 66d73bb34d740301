import { readFileSync } from 'node:fs';
import type { Config } from './config.js';

/** What `GET /version` and the `signet_build_info` gauge report: one record, read once at start. */
export interface BuildInfo {
  version: string;
  revision: string;
  node: string;
  backend: Config['carbonBlack']['backend'];
}

/*
 * package.json sits one level above both src/ (tsx) and dist/ (the build, and
 * the image, which ships the manifests), so the same relative URL finds it.
 */
function packageVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof manifest.version === 'string' ? manifest.version : 'unknown';
}

export function buildInfo(config: Pick<Config, 'build' | 'carbonBlack'>): BuildInfo {
  return {
    version: config.build.version ?? packageVersion(),
    revision: config.build.revision,
    node: process.version,
    backend: config.carbonBlack.backend,
  };
}
