import { LRUCache } from 'lru-cache';
import { DatedSignature, SignatureFacts, StatedSignature, type CachedVerdict, type VerdictBasis, type VerdictKind } from './verdict.js';

/** The signing fields of one Carbon Black binary record, as a backend reads them (undefined: absent). */
export interface RecordedSigning {
  digsigResult: string;
  publisher: string | undefined;
  issuer: string | undefined;
  subject: string | undefined;
  programName: string | undefined;
  /** digsig_sign_time, epoch ms. */
  signedAtMs: number | undefined;
}

/** status, publisher, issuer, subject, programName (null: absent), and the signing time in whole epoch seconds. */
type SignatureFields = [
  status: string,
  publisher: string | null,
  issuer: string | null,
  subject: string | null,
  programName: string | null,
  signedAtSeconds: number | null,
];

/*
 * The table remembers this many signatures, the most recently seen. Shared
 * signatures (a vendor's publisher, issuer and subject) come back constantly
 * and stay; one-off ones (a program name only one binary carries) pass
 * through. Entries keep the facts they point to either way, so forgetting
 * only costs sharing, never a verdict. Measured at a million cached binaries:
 * a table of 100,000 cost 15 bytes an entry in keys and gained nothing over this.
 */
const DEFAULT_MAX_DISTINCT = 10_000;

/**
 * Stores each distinct signature once. Publisher, issuer, subject and program
 * name repeat across millions of binaries (every Microsoft driver carries the
 * same strings), so a cache entry holds a pointer to shared facts and, at
 * most, its own signing time. The strings themselves are shared too, so a
 * signature seen once (a program name of its own) still points at the
 * vendor's one copy of its publisher.
 */
export class SignatureInterner {
  private readonly table: LRUCache<string, SignatureFacts>;
  /** Cloud's signatures: a handful of state sets times the publishers cover millions of binaries. */
  private readonly stateds: LRUCache<string, StatedSignature>;
  private readonly strings: LRUCache<string, string>;

  /** How many signatures (and strings) the table remembers. */
  readonly capacity: number;

  constructor(maxDistinct = DEFAULT_MAX_DISTINCT) {
    this.capacity = maxDistinct;
    this.table = new LRUCache({ max: maxDistinct });
    this.stateds = new LRUCache({ max: maxDistinct });
    this.strings = new LRUCache({ max: maxDistinct });
  }

  get size(): number {
    return this.table.size;
  }

  /**
   * The shared facts for these fields (null: absent). Facts seen for the first
   * time keep `signedAtSeconds` as their own time.
   */
  facts(...fields: SignatureFields): SignatureFacts {
    const { key, facts } = this.candidate(fields);
    const shared = this.table.get(key);
    if (shared !== undefined) return shared;
    this.table.set(key, facts);
    return facts;
  }

  /**
   * Facts read back from a snapshot, exactly as they were written (their own
   * signing time included), sharing this interner's strings; they become the
   * shared facts for their signature when it has none yet, so binaries read
   * from Carbon Black later point at them too.
   */
  restore(...fields: SignatureFields): SignatureFacts {
    const { key, facts } = this.candidate(fields);
    if (!this.table.has(key)) this.table.set(key, facts);
    return facts;
  }

  /**
   * Facts a snapshot reader built itself (over owned strings it already
   * shares among its entries): they become the shared facts for their
   * signature when it has none yet, and their strings the shared copies, as
   * `restore` would make them, without building a second object.
   */
  adopt(facts: SignatureFacts): void {
    const parts = [
      this.adoptText(facts.status),
      this.adoptTextOrNull(facts.publisher),
      this.adoptTextOrNull(facts.issuer),
      this.adoptTextOrNull(facts.subject),
      this.adoptTextOrNull(facts.programName),
    ] as const;
    // The same key `candidate` builds: a later live read of this signature finds these facts.
    const key = JSON.stringify(parts);
    if (!this.table.has(key)) this.table.set(key, facts);
  }

  /** The shared copy of `value`, which becomes `value` itself when there is none yet (it is owned already). */
  private adoptText(value: string): string {
    const shared = this.strings.get(value);
    if (shared !== undefined) return shared;
    this.strings.set(value, value);
    return value;
  }

  private adoptTextOrNull(value: string | null): string | null {
    return value === null ? null : this.adoptText(value);
  }

  /** New facts over owned, shared strings, and the table key of their signature. */
  private candidate([status, publisher, issuer, subject, programName, signedAtSeconds]: SignatureFields): {
    key: string;
    facts: SignatureFacts;
  } {
    // Owned copies first: a key built from slices of a response body would keep the body alive in the table.
    const parts = [
      this.text(status),
      this.textOrNull(publisher),
      this.textOrNull(issuer),
      this.textOrNull(subject),
      this.textOrNull(programName),
    ] as const;
    // JSON: no two different signatures can spell the same key, whatever characters they hold.
    return { key: JSON.stringify(parts), facts: new SignatureFacts(...parts, signedAtSeconds) };
  }

  /**
   * The shared StatedSignature for these fields, from a live read or a
   * snapshot alike (it carries nothing per binary). Owned strings, frozen states.
   */
  stated(
    kind: VerdictKind,
    status: string | null,
    publisher: string | null,
    states: readonly string[],
    basis: VerdictBasis,
  ): StatedSignature {
    const parts = [kind, this.textOrNull(status), this.textOrNull(publisher), states.map((state) => this.text(state)), basis] as const;
    // JSON: no two different signatures can spell the same key, whatever characters they hold.
    const key = JSON.stringify(parts);
    let shared = this.stateds.get(key);
    if (shared === undefined) {
      shared = new StatedSignature(parts[0], parts[1], parts[2], Object.freeze(parts[3]), parts[4]);
      this.stateds.set(key, shared);
    }
    return shared;
  }

  /** The cache entry for a record: the shared facts, wrapped when this binary's signing time is not theirs. */
  entryFor(record: RecordedSigning): CachedVerdict {
    const at = record.signedAtMs;
    const seconds = at === undefined || !Number.isFinite(at) ? null : Math.floor(at / 1000);
    const facts = this.facts(
      record.digsigResult,
      record.publisher ?? null,
      record.issuer ?? null,
      record.subject ?? null,
      record.programName ?? null,
      seconds,
    );
    return facts.signedAtSeconds === seconds ? facts : new DatedSignature(facts, seconds);
  }

  /*
   * One owned copy per distinct string. Strings parsed out of a response body
   * can be slices of the whole body; kept for a day, they would keep that body
   * alive, so the first copy is a flat one.
   */
  private text(value: string): string {
    let owned = this.strings.get(value);
    if (owned === undefined) {
      owned = Buffer.from(value, 'utf8').toString('utf8');
      this.strings.set(owned, owned);
    }
    return owned;
  }

  private textOrNull(value: string | null): string | null {
    return value === null ? null : this.text(value);
  }
}
