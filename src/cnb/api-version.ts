/**
 * API version strings: `<major>.<minor>`, or `<major>` meaning `.0` (platform.md, "Platform API Version"). While major is 0
 * every minor is its own contract, so comparisons are on (major, minor) only.
 */

export interface ApiVersion {
  major: number;
  minor: number;
}

/** The Buildpack APIs modules may declare (platform.md, "Platform API Compatibility"): 0.7 .. 0.12. */
export const SUPPORTED_BUILDPACK_APIS: readonly string[] = ['0.7', '0.8', '0.9', '0.10', '0.11', '0.12'];

/** kiln behaves as Platform API 0.13 (platform.md, "Platform API Compatibility"). */
export const PLATFORM_API = '0.13';

const VERSION = /^(0|[1-9]\d*)(?:\.(0|[1-9]\d*))?$/;

/** undefined when the text is not a valid API version. */
export function parseApiVersion(text: string): ApiVersion | undefined {
  const m = VERSION.exec(text.trim());
  if (!m) return undefined;
  return { major: Number(m[1]), minor: Number(m[2] ?? '0') };
}

/** "<major>.<minor>" — e.g. "1" becomes "1.0". */
export function formatApiVersion(v: ApiVersion): string {
  return `${v.major}.${v.minor}`;
}

/** The normalised form of a version string, or undefined when invalid. */
export function normaliseApiVersion(text: string): string | undefined {
  const v = parseApiVersion(text);
  return v ? formatApiVersion(v) : undefined;
}

function toVersion(v: string | ApiVersion): ApiVersion {
  if (typeof v !== 'string') return v;
  const p = parseApiVersion(v);
  if (!p) throw new Error(`invalid API version "${v}"`);
  return p;
}

/** Negative, zero or positive like a sort comparator. Throws on an invalid version string. */
export function compareApi(a: string | ApiVersion, b: string | ApiVersion): number {
  const x = toVersion(a);
  const y = toVersion(b);
  return x.major !== y.major ? x.major - y.major : x.minor - y.minor;
}

/** v >= min. */
export function apiAtLeast(v: string | ApiVersion, min: string | ApiVersion): boolean {
  return compareApi(v, min) >= 0;
}

/** v < max. */
export function apiLessThan(v: string | ApiVersion, max: string | ApiVersion): boolean {
  return compareApi(v, max) < 0;
}

export function isSupportedBuildpackApi(v: string): boolean {
  const n = normaliseApiVersion(v);
  return n !== undefined && SUPPORTED_BUILDPACK_APIS.includes(n);
}
