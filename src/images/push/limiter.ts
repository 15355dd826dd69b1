/**
 * At most `width` tasks running at once, the rest waiting in the order they came. Unlike
 * forEachLimit (one list, known up front), tasks arrive from many images as the push goes on.
 * A task must not wait for another task of the same limiter while it runs, or both could wait forever.
 */
import { AirlockError } from '../../base/errors.js';

export class Limiter {
  private running = 0;
  private readonly queue: Array<() => void> = [];
  private closed = false;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly width: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running < this.width) this.running++;
    else await new Promise<void>((resolve) => this.queue.push(resolve));
    if (this.closed) {
      this.release();
      throw new AirlockError('ABORTED', 'the push stopped before this transfer began');
    }
    try {
      return await task();
    } finally {
      this.release();
    }
  }

  /** No queued task starts any more; resolves once the running ones have settled. */
  close(): Promise<void> {
    this.closed = true;
    if (this.running === 0 && this.queue.length === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private release(): void {
    const next = this.queue.shift();
    // The slot passes straight to the next task: `running` stays the same.
    if (next) return next();
    this.running--;
    if (this.running === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
