/**
 * Runs tasks with at most `limit` in flight. After the first failure no new task starts;
 * the ones running are allowed to settle (so no transfer is left writing), then the first error is thrown.
 */
export async function forEachLimit<T>(items: readonly T[], limit: number, run: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  let firstError: unknown;
  const worker = async (): Promise<void> => {
    while (!failed && next < items.length) {
      const item = items[next++]!;
      try {
        await run(item);
      } catch (error) {
        if (!failed) firstError = error;
        failed = true;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  if (failed) throw firstError;
}

/** Blob transfers in flight per run: enough to hide latency, few enough not to thrash a disk or a small registry. */
export const TRANSFER_CONCURRENCY = 4;

/**
 * Promise.all that waits for every task to settle before it throws the first failure: a task that
 * fails early (a refused image policy) does not leave the others writing (blobs into a cache)
 * behind a caller that has already moved on to close their connections.
 */
export async function allSettledFirst<T extends readonly unknown[]>(tasks: { [K in keyof T]: Promise<T[K]> }): Promise<T> {
  const settled = await Promise.allSettled(tasks);
  const failed = settled.find((result) => result.status === 'rejected');
  if (failed) throw failed.reason;
  return settled.map((result) => (result as PromiseFulfilledResult<unknown>).value) as unknown as T;
}
