/** Issue 16 point 4: version-dependent behaviour asks named features, not version numbers. */
import { describe, expect, it } from 'vitest';
import { BUILDPACK_API_FEATURES, buildpackApi, PLATFORM_API_FEATURES, platformApi } from '../../../src/cnb/api-features.js';
import { isSupportedBuildpackApi, normaliseApiVersion, PLATFORM_API } from '../../../src/cnb/api-version.js';

describe('API features', () => {
  it('a Buildpack API supports the features introduced at or before it', () => {
    expect(buildpackApi('0.7').supports('cnb-dir-env')).toBe(false);
    expect(buildpackApi('0.8').supports('cnb-dir-env')).toBe(true);
    expect(buildpackApi('0.9').supports('targets')).toBe(false);
    expect(buildpackApi('0.10').supports('targets')).toBe(true);
    expect(buildpackApi('0.11').supports('exec-env')).toBe(false);
    expect(buildpackApi('0.12').supports('exec-env')).toBe(true);
    expect(buildpackApi('').supports('process-working-dir')).toBe(false);
  });

  it('the Platform API kiln speaks has run-image extension', () => {
    expect(platformApi.version).toBe(PLATFORM_API);
    expect(platformApi.supports('run-image-extension')).toBe(true);
  });

  it('every feature names a valid version, and Buildpack features a supported one', () => {
    for (const v of Object.values(BUILDPACK_API_FEATURES)) expect(isSupportedBuildpackApi(v)).toBe(true);
    for (const v of Object.values(PLATFORM_API_FEATURES)) expect(normaliseApiVersion(v)).toBe(v);
  });
});
