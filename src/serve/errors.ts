/**
 * Errors as the OCI distribution spec shapes them: a 4xx status and a JSON body
 * `{"errors": [{"code", "message", "detail"}]}` whose code is one of the spec's list.
 */
export type OciErrorCode = 'BLOB_UNKNOWN' | 'MANIFEST_UNKNOWN' | 'NAME_UNKNOWN' | 'NAME_INVALID' | 'DIGEST_INVALID' | 'UNSUPPORTED';

export class OciError extends Error {
  constructor(
    readonly status: number,
    readonly code: OciErrorCode,
    message: string,
    readonly detail?: Record<string, string>,
  ) {
    super(message);
  }
}

export const nameUnknown = (name: string) => new OciError(404, 'NAME_UNKNOWN', `repository ${name} is not served here`, { name });
export const manifestUnknown = (name: string, reference: string) => new OciError(404, 'MANIFEST_UNKNOWN', `manifest ${reference} is not in repository ${name}`, { name, reference });
export const blobUnknown = (name: string, digest: string) => new OciError(404, 'BLOB_UNKNOWN', `blob ${digest} is not in repository ${name}`, { name, digest });
export const digestInvalid = (digest: string) => new OciError(400, 'DIGEST_INVALID', `${JSON.stringify(digest)} is not a digest (algorithm:encoded)`, { digest });

/** Writes and methods this read-only registry does not offer. */
export const readOnly = (method: string, path: string) =>
  new OciError(405, 'UNSUPPORTED', `${method} ${path}: this registry is read-only (airlock serve); it answers GET and HEAD only`);

/** The JSON body of an error answer. */
export function errorBody(error: OciError): Buffer {
  return Buffer.from(`${JSON.stringify({ errors: [{ code: error.code, message: error.message, ...(error.detail ? { detail: error.detail } : {}) }] })}\n`);
}
