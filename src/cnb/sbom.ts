/**
 * SBOM file names and media types (buildpack.md, "Software-Bill-of-Materials"). Files are `<layer>.sbom.<fmt>.json`,
 * `launch.sbom.<fmt>.json` or `build.sbom.<fmt>.json`; the layer name is the text before the first '.'.
 */

export type SbomFormat = 'cdx' | 'spdx' | 'syft';

export const SBOM_MEDIA_TYPES: Readonly<Record<SbomFormat, string>> = {
  cdx: 'application/vnd.cyclonedx+json',
  spdx: 'application/spdx+json',
  syft: 'application/vnd.syft+json',
};

export interface SbomFileName {
  /** launch.sbom.* / build.sbom.* describe the buildpack as a whole; anything else a layer. */
  kind: 'layer' | 'launch' | 'build';
  /** For kind 'layer'. */
  layer?: string;
  /** The <fmt> part as written, e.g. "cdx". */
  ext: string;
  /** undefined when <fmt> is not one of cdx, spdx, syft: the caller must fail the build. */
  format?: SbomFormat;
  mediaType?: string;
}

const SBOM_NAME = /^([^.]+)\.sbom\.([^.]+)\.json$/;

/** Reads an SBOM file name; undefined when the name is not an SBOM file name at all. */
export function parseSbomFileName(name: string): SbomFileName | undefined {
  const m = SBOM_NAME.exec(name);
  if (!m) return undefined;
  const base = m[1] ?? '';
  const ext = m[2] ?? '';
  const kind = base === 'launch' || base === 'build' ? base : 'layer';
  const out: SbomFileName = { kind, ext, ...(kind === 'layer' ? { layer: base } : {}) };
  if (isSbomFormat(ext)) {
    out.format = ext;
    out.mediaType = SBOM_MEDIA_TYPES[ext];
  }
  return out;
}

function isSbomFormat(s: string): s is SbomFormat {
  return Object.prototype.hasOwnProperty.call(SBOM_MEDIA_TYPES, s);
}

/** The format extension of a media type, ignoring parameters; undefined when unknown. */
export function sbomFormatOf(mediaType: string): SbomFormat | undefined {
  const base = baseMediaType(mediaType);
  return (Object.keys(SBOM_MEDIA_TYPES) as SbomFormat[]).find((f) => SBOM_MEDIA_TYPES[f] === base);
}

/** "application/vnd.cyclonedx+json; version=1.4" -> "application/vnd.cyclonedx+json". */
export function baseMediaType(mediaType: string): string {
  return (mediaType.split(';')[0] ?? '').trim().toLowerCase();
}

/** Media types match when equal with parameters ignored (buildpack.md, "Software-Bill-of-Materials"). */
export function mediaTypesMatch(a: string, b: string): boolean {
  return baseMediaType(a) === baseMediaType(b);
}

/** Whether a buildpack's `sbom-formats` declares the media type. */
export function declaresSbomMediaType(sbomFormats: readonly string[], mediaType: string): boolean {
  return sbomFormats.some((f) => mediaTypesMatch(f, mediaType));
}
