import { execFileSync } from "node:child_process";
import { describe, expect, it } from "vitest";
import { command, quote, sh } from "../infra/shell";

/** What a real POSIX shell makes of a command line: the argv it would run. */
function argvSeenByShell(commandLine: string): string[] {
  // `printf '%s\0'` prints each argument NUL-terminated, so we can split exactly.
  const out = execFileSync("sh", ["-c", `printf '%s\\0' ${commandLine}`], { encoding: "utf8" });
  return out.split("\0").slice(0, -1);
}

const HOSTILE = [
  "; rm -rf /",
  "$(touch /tmp/pwned)",
  "`id`",
  "a'b",
  "'",
  "''",
  '"double" quotes',
  "new\nline",
  "tab\there",
  "$HOME",
  "*",
  "~root",
  "a && b || c | d > e < f",
  "-rf",
  "",
  "back\\slash",
  "ünïcödé ✓",
  "!history",
  "{a,b}",
];

describe("quote", () => {
  it.each(HOSTILE)("passes %j through sh as exactly one literal argument", (value) => {
    expect(argvSeenByShell(quote(value))).toEqual([value]);
  });

  it("leaves plain words readable", () => {
    expect(quote("pvecm")).toBe("pvecm");
    expect(quote("192.168.3.5")).toBe("192.168.3.5");
    expect(quote("/dev/nvme0n1")).toBe("/dev/nvme0n1");
    expect(quote("root@pam")).toBe("root@pam");
  });

  it("quotes numbers as their decimal text and refuses NaN", () => {
    expect(quote(7000)).toBe("7000");
    expect(() => quote(Number.NaN)).toThrow(/not a finite number/);
  });

  it("refuses NUL bytes instead of truncating them", () => {
    expect(() => quote("a\0b")).toThrow(/NUL/);
  });
});

describe("command and sh", () => {
  it("command() quotes every argv element", () => {
    const line = command("pvecm", "add", "10.0.0.1; reboot", "--link0", "$(id)");
    expect(argvSeenByShell(line)).toEqual(["pvecm", "add", "10.0.0.1; reboot", "--link0", "$(id)"]);
  });

  it("sh`` quotes interpolations but keeps the literal parts as shell syntax", () => {
    const name = "x'; touch /tmp/pwned; echo '";
    const line = sh`qm set ${7000} --name ${name} --tags ${["a b", "c"]}`;
    expect(argvSeenByShell(line)).toEqual(["qm", "set", "7000", "--name", name, "--tags", "a b", "c"]);
  });

  it("does not execute command substitutions in values", () => {
    const marker = `/tmp/homelab-quote-test-${process.pid}`;
    execFileSync("sh", ["-c", command("echo", `$(touch ${marker})`, `\`touch ${marker}\``)]);
    expect(() => execFileSync("test", ["-e", marker])).toThrow();
  });
});
