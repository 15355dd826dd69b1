/** airlock's own version, recorded in every bundle it builds and shown by --version. */
export const VERSION = '0.1.0';
