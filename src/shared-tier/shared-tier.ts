import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import type * as IoRedis from 'ioredis';
import type { Redis, RedisOptions } from 'ioredis';
import type { SharedTierSettings } from './environment.js';

/*
 * ioredis is loaded on the first SharedTier, not with this module: the
 * metrics import this module's operation names on every start, and loading
 * ioredis costs ~60 ms of start-up that only REDIS_URL needs. It is CommonJS,
 * so a synchronous require keeps the constructor synchronous.
 */
let ioredis: typeof IoRedis | undefined;
function loadIoredis(): typeof IoRedis {
  ioredis ??= createRequire(import.meta.url)('ioredis') as typeof IoRedis;
  return ioredis;
}

/**
 * The fleet's connection to Redis or Valkey, on ioredis: one connection for
 * commands and one subscribed to the fleet's channel. Everything here is
 * built so that Redis can only ever slow a lookup by REDIS_TIMEOUT_MS and
 * never fail it: commands are not queued while Redis is away (they fail at
 * once, and the caller carries on locally), each is bounded by the timeout,
 * and ioredis reconnects by itself with a capped backoff.
 */

/** What the shared tier's callers did, for `signet_shared_cache_*`. */
export type SharedOperation = 'read' | 'write' | 'flight' | 'forget' | 'slots' | 'budget' | 'rate-limit';
export const SHARED_OPERATIONS: readonly SharedOperation[] = ['read', 'write', 'flight', 'forget', 'slots', 'budget', 'rate-limit'];

export interface SharedTierObserver {
  /** One command (or script) answered, in milliseconds. */
  latency?: (operation: SharedOperation, ms: number) => void;
  /** One command failed (timeout, Redis down, an error reply). */
  error?: (operation: SharedOperation) => void;
  /** Up or down: told on each change, for the log. */
  state?: (up: boolean, reason: string) => void;
  /** Why the connection fails (refused, wrong password, ...): told when the reason changes. Never holds the password. */
  trouble?: (message: string) => void;
}

/** A Lua script defined once on the connection (ioredis sends it by SHA, reloading it after a Redis restart). */
export type Script = (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown>;

/**
 * A Redis that stops answering keeps its connection open, so ioredis still
 * calls it ready and every command would wait the whole timeout. After this
 * many commands in a row time out (or lose their connection), the tier counts
 * as down for a while: lookups skip it instead of each paying the timeout.
 */
const FAILURES_TO_SUSPEND = 3;
const SUSPEND_MS = 1000;

/** How long ioredis waits between reconnection attempts: doubling from 50 ms, at most 2 s, with jitter. */
function reconnectDelayMs(attempt: number): number {
  const ceiling = Math.min(2000, 50 * 2 ** Math.min(attempt, 6));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export class SharedTierTimeoutError extends Error {
  override name = 'SharedTierTimeoutError';
  constructor(timeoutMs: number) {
    super(`Redis did not answer within ${timeoutMs} ms (REDIS_TIMEOUT_MS)`);
  }
}

export class SharedTier {
  readonly prefix: string;
  /** The fleet's one channel: verdicts stored, flights failed, binaries forgotten. */
  readonly channel: string;
  readonly timeoutMs: number;
  readonly flightLeaseMs: number;
  readonly fleetMaxConcurrency: number | undefined;
  /** This replica's random id: the prefix of every token it puts in Redis (flights, slots, budget places). */
  readonly replica = randomBytes(6).toString('hex');
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private observer: SharedTierObserver;
  private readonly listeners = new Set<(message: string) => void>();
  private scripts = 0;
  private wasUp = false;
  private closed = false;
  private failuresInARow = 0;
  /** Until when (epoch ms) the tier counts as down although connected: Redis stopped answering. */
  private suspendedUntil = 0;

  constructor(settings: SharedTierSettings, observer: SharedTierObserver = {}) {
    this.prefix = settings.keyPrefix;
    this.channel = `${settings.keyPrefix}events`;
    this.timeoutMs = settings.timeoutMs;
    this.flightLeaseMs = settings.flightLeaseMs;
    this.fleetMaxConcurrency = settings.fleetMaxConcurrency;
    this.observer = observer;
    const options: RedisOptions = {
      ...(settings.password !== undefined && { password: settings.password }),
      connectionName: 'signet',
      // A command while Redis is away fails at once instead of waiting in a queue: the lookup goes on locally.
      enableOfflineQueue: false,
      maxRetriesPerRequest: 0,
      // run() bounds every command by REDIS_TIMEOUT_MS itself; this only drops replies that never come.
      commandTimeout: Math.max(1000, settings.timeoutMs * 20),
      connectTimeout: Math.max(1000, settings.timeoutMs * 10),
      retryStrategy: reconnectDelayMs,
      // A failover replica answering READONLY: reconnect, to reach the new primary.
      reconnectOnError: (error) => error.message.startsWith('READONLY'),
    };
    const { Redis } = loadIoredis();
    this.commands = new Redis(settings.url, options);
    // The subscriber subscribes on each (re)connection itself, whether or not Redis was there at start.
    this.subscriber = new Redis(settings.url, { ...options, autoResubscribe: false, connectionName: 'signet-events' });
    // ioredis would print an unhandled 'error' event on every failed reconnect; the log hears each new reason once.
    this.commands.on('error', (error: Error) => this.troubled(error.message));
    this.subscriber.on('error', () => undefined);
    this.commands.on('ready', () => {
      this.lastTrouble = undefined;
      this.failuresInARow = 0;
      this.suspendedUntil = 0;
      this.changed(true, 'connected');
    });
    this.commands.on('close', () => this.changed(false, 'connection closed'));
    this.subscriber.on('message', (_channel: string, message: string) => {
      for (const listener of this.listeners) listener(message);
    });
    this.subscriber.on('ready', () => void this.subscriber.subscribe(this.channel).catch(() => undefined));
  }

  /** Where latencies, errors and state changes go (the app's metrics and log, bound when it is built). */
  observe(observer: SharedTierObserver): void {
    this.observer = observer;
    if (this.wasUp) observer.state?.(true, 'connected');
  }

  /** Whether commands can be sent now. While down, callers skip Redis entirely rather than time out. */
  get up(): boolean {
    if (this.commands.status !== 'ready') return false;
    if (this.suspendedUntil === 0) return true;
    if (Date.now() < this.suspendedUntil) return false;
    // The pause is over: the next command finds out whether Redis answers again.
    this.suspendedUntil = 0;
    return true;
  }

  /** The command connection, for @fastify/rate-limit's Redis store (fleet-rate-limit-store.ts), which drives it itself. */
  get connection(): Redis {
    return this.commands;
  }

  key(kind: string, id: string): string {
    return `${this.prefix}${kind}:${id}`;
  }

  /** Defines a Lua script on the command connection; its calls go through `run` like any other command. */
  script(lua: string): Script {
    const name = `signetScript${++this.scripts}`;
    // No numberOfKeys: each call says how many keys it passes, so a script may take a varying number.
    this.commands.defineCommand(name, { lua });
    const call = (this.commands as unknown as Record<string, (...args: (string | number)[]) => Promise<unknown>>)[name]!;
    return (keys, args) => call.call(this.commands, keys.length, ...keys, ...args);
  }

  /** One bounded Redis call, timed and counted. Rejects when Redis is down, slow or answers an error. */
  async run<T>(operation: SharedOperation, call: (redis: Redis) => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      const value = await this.bounded(call(this.commands));
      this.observer.latency?.(operation, performance.now() - started);
      if (this.failuresInARow > 0 || this.suspendedUntil !== 0) {
        this.failuresInARow = 0;
        this.suspendedUntil = 0;
        this.changed(true, 'answering again');
      }
      return value;
    } catch (error) {
      this.observer.error?.(operation);
      // An error reply is an answer: Redis is there (full, read-only, ...) and reads may still work.
      if (!(error instanceof loadIoredis().ReplyError) && ++this.failuresInARow >= FAILURES_TO_SUSPEND && this.suspendedUntil === 0) {
        this.suspendedUntil = Date.now() + SUSPEND_MS;
        this.changed(false, 'not answering within REDIS_TIMEOUT_MS');
      }
      throw error;
    }
  }

  /**
   * The command's result, or a timeout after REDIS_TIMEOUT_MS. When the timer
   * fires, a reply may already wait in the socket, unread because this
   * process was busy (a long event-loop turn, CPU throttling): it gets one
   * more turn of the loop to be read, so only a Redis that really did not
   * answer in time counts as slow.
   */
  private bounded<T>(command: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const timer = setTimeout(
        () =>
          setImmediate(() => {
            if (settled) return;
            settled = true;
            reject(new SharedTierTimeoutError(this.timeoutMs));
          }),
        this.timeoutMs,
      );
      command.then(
        (value) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          resolve(value);
        },
        (error: unknown) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          reject(error as Error);
        },
      );
    });
  }

  /** Sends a message to every replica (this one included). */
  publish(operation: SharedOperation, message: string): Promise<unknown> {
    return this.run(operation, (redis) => redis.publish(this.channel, message));
  }

  /** Hears every message on the fleet's channel; returns the unsubscribe. */
  listen(listener: (message: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.listeners.clear();
    await Promise.allSettled([this.commands.quit(), this.subscriber.quit()]);
    this.commands.disconnect();
    this.subscriber.disconnect();
  }

  private lastTrouble: string | undefined;

  private troubled(message: string): void {
    if (message === this.lastTrouble || this.closed) return;
    this.lastTrouble = message;
    this.observer.trouble?.(message);
  }

  private changed(up: boolean, reason: string): void {
    if (up === this.wasUp || this.closed) return;
    this.wasUp = up;
    this.observer.state?.(up, reason);
  }
}
