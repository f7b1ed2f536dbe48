/**
 * Live progress from recorded engine events: one line per resource step with
 * its duration and a running count, a summary table at the end; a redrawn
 * status line and colours on a terminal, plain lines elsewhere.
 */
import { describe, expect, it } from "vitest";
import { Progress } from "../scripts/homelab/progress";
import { FAILED_UP_EVENTS, UP_EVENTS } from "./helpers/engine-events";

/** Replays events with a clock that moves one second per reading. */
function replay(events: typeof UP_EVENTS, tty: boolean): { text: string; errors: string[] } {
  let clock = 0;
  const out: string[] = [];
  const progress = new Progress({ phase: "up", tty, write: (t) => out.push(t), now: () => (clock += 1000) });
  for (const event of events) progress.onEvent(event);
  progress.finish();
  return { text: out.join(""), errors: progress.errorTexts() };
}

/** The lines a terminal ends up showing: status lines (never ending in a newline) dropped, colours removed. */
const strip = (text: string) =>
  text
    .split("\r\x1b[K")
    .filter((segment) => segment.includes("\n"))
    .join("")
    .replaceAll("\x1b[32m", "")
    .replaceAll("\x1b[0m", "");

describe("progress from the engine's events", () => {
  it("plain (not a terminal): a line per changed step with duration and running count, then the summary table; no escape codes", () => {
    const { text } = replay(UP_EVENTS, false);
    expect(text).toBe(
      [
        "up [2] ok create pulumi-nodejs:dynamic:Resource matrix-join-golf (2.0s)",
        "up [3] ok update pulumi-nodejs:dynamic:Resource matrix-pool-rbd (2.0s) changed: pgNum, size",
        "up summary (42.0s)",
        "  operation  count",
        "  create         1",
        "  same           1",
        "  update         1",
        "",
      ].join("\n"),
    );
  });

  it("on a terminal: the same lines in colour, with a status line of steps done and running redrawn in place and cleared at the end", () => {
    const { text } = replay(UP_EVENTS, true);
    expect(text).toContain("\r\x1b[Kup: 1 done, 2 running (matrix-join-golf, matrix-pool-rbd)");
    expect(text).toContain("up [2] \x1b[32m✓\x1b[0m create pulumi-nodejs:dynamic:Resource matrix-join-golf (2.0s)\n");
    // the status line is gone before the summary table
    expect(text).toContain("\r\x1b[Kup summary (42.0s)\n");
    expect(strip(text).replace(/✓/g, "ok")).toBe(replay(UP_EVENTS, false).text);
  });

  it("a failed step: the engine's error text, the failed step with its duration, and the failure in the table", () => {
    const { text, errors } = replay(FAILED_UP_EVENTS, false);
    expect(text.split("\n")).toEqual([
      "up error: matrix-join-golf: golf: pvecm add failed (exit 255): unable to copy ssh ID: exit code 1",
      "  command: pvecm add 10.0.0.11 --link0 10.0.0.12 --use_ssh",
      "up [1] FAILED create pulumi-nodejs:dynamic:Resource matrix-join-golf (1.0s)",
      "up error: homelab-matrix: update failed",
      "up summary (9.0s)",
      "  operation  count",
      "  same           1",
      "  failed         1",
      "  failed: create pulumi-nodejs:dynamic:Resource matrix-join-golf",
      "",
    ]);
    expect(errors[0]).toMatch(/^golf: pvecm add failed \(exit 255\)/);
  });

  it("no events (a verb that runs no engine operation): prints nothing", () => {
    expect(replay([], true).text).toBe("");
  });
});
