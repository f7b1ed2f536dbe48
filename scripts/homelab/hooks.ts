/**
 * The checks other parts of the command provide: `preflight` before the deploy
 * verbs and `verify` inside `test`. They come in as dependencies so the verbs
 * are tested with stand-ins (below); the command uses the real ones
 * (ssh-checks.ts).
 */
import type { OutputMap } from "./driver";

export interface CheckOutcome {
  ok: boolean;
  /** One line per failed check, naming the node and what to do. */
  problems: string[];
}

export type PreflightCheck = (
  stack: string,
  options: {
    verb: string;
    log: (line: string) => void;
    /** The stack's outputs from its state (deploy verbs, which have the Pulumi CLI): where the API token is. */
    stackOutputs?: () => Promise<OutputMap>;
  },
) => Promise<CheckOutcome>;

export type VerifyCheck = (stack: string, options: { outputs: OutputMap; log: (line: string) => void; drill?: boolean }) => Promise<CheckOutcome>;

/** No preflight checks are built in yet: the deploy goes ahead, and says so. */
export const noPreflight: PreflightCheck = async (_stack, { log }) => {
  log("preflight: no checks built in yet; nothing was checked");
  return { ok: true, problems: [] };
};

/** A test that verified nothing must not pass. */
export const noVerify: VerifyCheck = async () => ({
  ok: false,
  problems: ["verify: no checks built in yet; the stack was not verified"],
});
