/** kiln's version (`kiln --version`, the builder's createdBy), apart from main.ts so commands need not import it. */
export const KILN_VERSION = '0.1.0';
