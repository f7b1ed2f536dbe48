/**
 * The mock runner lives in scripts/homelab/mock-program.ts, where `npm run plan`
 * uses it too; tests import it from here.
 */
export * from "../../scripts/homelab/mock-program";
