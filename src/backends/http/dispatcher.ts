import { readFileSync } from 'node:fs';
import { rootCertificates } from 'node:tls';
import { Agent } from 'undici';
import type { Config } from '../../config.js';

export interface CarbonBlackDispatcherOptions {
  /** PEM file of a private CA (one or more certificates), trusted in addition to Node's bundled roots. */
  caFile?: string;
  /** Skip certificate verification entirely. Off by default; for lab servers only. */
  insecure?: boolean;
  /** Most sockets per origin. Undefined: no limit (the caller's concurrency limit bounds it). */
  connections?: number;
  /** How long an idle pooled socket is kept, in milliseconds. */
  keepAliveTimeoutMs?: number;
}

/**
 * The pooled, keep-alive undici Agent every Carbon Black request goes through.
 * It is created once at startup, so reading the CA file synchronously is fine,
 * and a missing or empty file fails startup loudly instead of every request later.
 */
export function createCarbonBlackDispatcher(options: CarbonBlackDispatcherOptions = {}): Agent {
  const connect: { ca?: string[]; rejectUnauthorized?: boolean } = {};
  if (options.caFile !== undefined) {
    // `ca` replaces the trust store rather than extending it, so the bundled roots are passed along.
    connect.ca = [...rootCertificates, readCaFile(options.caFile)];
  }
  if (options.insecure === true) connect.rejectUnauthorized = false;
  return new Agent({
    connect,
    ...(options.connections === undefined ? {} : { connections: options.connections }),
    ...(options.keepAliveTimeoutMs === undefined ? {} : { keepAliveTimeout: options.keepAliveTimeoutMs }),
  });
}

function readCaFile(path: string): string {
  let pem: string;
  try {
    pem = readFileSync(path, 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'unreadable';
    throw new Error(`cannot read Carbon Black CA file ${path} (${code})`, { cause: error });
  }
  if (!pem.includes('-----BEGIN CERTIFICATE-----')) {
    throw new Error(`Carbon Black CA file ${path} holds no PEM certificate`);
  }
  return pem;
}

/** The Agent as the environment configures it, for either backend: its CA file, TLS check and one connection per slot. */
export function dispatcherFromConfig(settings: Pick<Config['carbonBlack'], 'caFile' | 'tlsInsecure' | 'maxConcurrency'>): Agent {
  return createCarbonBlackDispatcher({
    ...(settings.caFile !== undefined && { caFile: settings.caFile }),
    insecure: settings.tlsInsecure,
    connections: settings.maxConcurrency,
  });
}
