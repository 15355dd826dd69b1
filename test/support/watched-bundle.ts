/** A bundle file opened through a byte source that reports every read: to count what a command reads of a bundle, and where. */
import { BundleReader, type BundleEntry } from '../../src/bundle/reader.js';
import { openFileSource, type ByteSource } from '../../src/fs/byte-source.js';
import type { BundleInput } from '../../src/verify/load-verified.js';

export async function watchedBundle(file: string, onRead: (position: number, length: number) => void): Promise<{ input: BundleInput; entries: BundleEntry[] }> {
  const reader = await BundleReader.open(file);
  const entries = [...reader.entries];
  await reader.close();
  const open = async (): Promise<ByteSource> => {
    const source = await openFileSource(file);
    return {
      name: source.name,
      size: source.size,
      ranges: (start, length) => source.ranges(start, length),
      close: () => source.close(),
      read(buffer, offset, length, position) {
        onRead(position, length);
        return source.read(buffer, offset, length, position);
      },
      readSync(buffer, offset, length, position) {
        onRead(position, length);
        return source.readSync(buffer, offset, length, position);
      },
    };
  };
  return { input: { name: file, open }, entries };
}
