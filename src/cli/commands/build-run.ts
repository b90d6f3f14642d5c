/**
 * What `kiln build` needs only once it runs, loaded by its action (issue 21: `kiln --version` and
 * `kiln --help` load neither dockerode nor the lifecycle).
 */
export { buildApp } from '../../app/build-app.js';
export { publishImage, registryAuthFor } from '../../app/publish.js';
export { pullPreviousImage } from '../../app/previous-image.js';
export { fetcherFor } from '../pull-options.js';
export { chooseBuilder } from '../builder-choice.js';
export { readKilnConfig } from '../../config/kiln-config.js';
export { withDefaultTag } from '../../image/image-ref.js';
export { observeEngine } from '../../ui/observed-engine.js';
export { collectSummary, summaryOf } from '../../ui/summary.js';
export { applyTags, writeReport, writeSbomOutput } from '../../app/build-outputs.js';
