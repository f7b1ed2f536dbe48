/**
 * The one way a command line is built. Every value that reaches a remote
 * shell passes through `quote`, so no config value can inject shell syntax.
 */

export type Arg = string | number;

/** Characters that never need quoting in a POSIX shell word. */
const SAFE_WORD = /^[A-Za-z0-9_@%+=:,./-]+$/;

/**
 * Quote one argument for a POSIX shell (sh, bash, dash).
 *
 * Single quotes make everything literal except `'` itself, which is closed,
 * escaped and reopened. NUL cannot be carried by any shell argument, so it is
 * refused rather than silently truncated.
 */
export function quote(value: Arg): string {
  const text = typeof value === "number" ? numberArg(value) : value;
  if (text.includes("\0")) {
    throw new Error("shell argument contains a NUL byte, which no shell can pass");
  }
  if (text.length > 0 && SAFE_WORD.test(text)) return text;
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

function numberArg(value: number): string {
  if (!Number.isFinite(value)) throw new Error(`shell argument ${value} is not a finite number`);
  return String(value);
}

/** Build a command line from argv: every element is quoted. */
export function command(...argv: Arg[]): string {
  if (argv.length === 0) throw new Error("empty command");
  return argv.map(quote).join(" ");
}

/**
 * Tagged template: the literal parts are trusted shell text written in our
 * code, every interpolated value is quoted. An array value expands to several
 * quoted words.
 *
 *   sh`pvecm add ${host} --link0 ${addr}`
 */
export function sh(literals: TemplateStringsArray, ...values: (Arg | readonly Arg[])[]): string {
  let out = literals[0];
  values.forEach((value, i) => {
    out += Array.isArray(value) ? value.map(quote).join(" ") : quote(value as Arg);
    out += literals[i + 1];
  });
  return out;
}

/** Join commands so the first failure stops the rest (`set -e` semantics without relying on it). */
export function andThen(...commands: string[]): string {
  return commands.join(" && ");
}

/** Run a command with a fixed C locale so tool output and error texts are the documented English ones. */
export function inCLocale(commandLine: string): string {
  return `LC_ALL=C ${commandLine}`;
}
