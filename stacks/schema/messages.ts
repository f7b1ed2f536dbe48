/**
 * How schema messages render user values. Messages name the bad value;
 * `stacks/errors.ts` prefixes them with the path.
 */

const SHOW_MAX = 60;

/** Render a user value for a message: strings quoted (escaped), others by kind. */
export function show(value: unknown): string {
  if (typeof value === "string") {
    const text = value.length > SHOW_MAX ? `${value.slice(0, SHOW_MAX)}…` : value;
    return JSON.stringify(text);
  }
  if (value === undefined) return "nothing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a mapping";
  return String(value);
}

/** `"x" is not <what>`, or `missing; expected <what>` when there is no value. */
export function notA(input: unknown, what: string): string {
  return input === undefined ? `missing; expected ${what}` : `${show(input)} is not ${what}`;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}
