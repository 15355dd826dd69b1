/**
 * Blobs whose bytes hashed right in this process, for the Range path: a part of a blob is sent
 * only once the whole blob has been checked, and that check runs once per blob however many
 * clients ask at the same moment.
 */
import { verifiedStream, type Expected } from '../oci/digest.js';
import type { ServedContent } from './content.js';

export class BlobChecks {
  private readonly passed = new Set<string>();
  private readonly running = new Map<string, Promise<void>>();

  constructor(private readonly content: ServedContent) {}

  passedOnce(digest: string): void {
    this.passed.add(digest);
  }

  /** Hashes the whole blob unless it passed already; throws when its bytes do not match. */
  async ensure(expected: Expected): Promise<void> {
    if (this.passed.has(expected.digest)) return;
    let check = this.running.get(expected.digest);
    if (!check) {
      check = (async () => {
        for await (const _chunk of verifiedStream(this.content.open(expected.digest), expected));
        this.passed.add(expected.digest);
      })().finally(() => this.running.delete(expected.digest));
      this.running.set(expected.digest, check);
    }
    await check;
  }
}

