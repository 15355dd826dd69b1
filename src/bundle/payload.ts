/**
 * One file destined for the bundle, before it is written: where its bytes come from
 * and the path it gets inside the bundle. Sources are read only while the bundle is written.
 */
export type PayloadSource =
  | { kind: 'file'; path: string }
  | { kind: 'bytes'; data: Buffer }
  /** Bytes already inside another file, e.g. an existing bundle being countersigned. */
  | { kind: 'range'; file: string; start: number };

export interface PayloadFile {
  /** Path inside the bundle, e.g. `configs/prod/app.yaml`; see docs/FORMAT.md for the rules. */
  path: string;
  size: number;
  /** Mode recorded in the tar header: 0o644, or 0o755 for hooks. */
  mode: number;
  source: PayloadSource;
}

export function bytesPayload(path: string, data: Buffer, mode = 0o644): PayloadFile {
  return { path, size: data.length, mode, source: { kind: 'bytes', data } };
}
