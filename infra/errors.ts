/**
 * Recognising and printing errors the same way in tests and under the engine.
 *
 * Pulumi's closure serializer turns `class X extends Error` into a plain
 * constructor function: `super(message)` sets nothing on the new object, a
 * subclass's prototype is only linked to its parent when the class has a
 * method of its own, and `instanceof Error` is false for errors built inside
 * the provider. So every error class here assigns `message`, `name` and its
 * fields in its constructor and defines `toString` (which links the
 * prototype, so logs read `Name: message`), and code recognises our errors
 * by `name`, never by `instanceof`.
 */

/** The message of anything thrown (our errors, plain Errors, strings). */
export function errorMessage(err: unknown): string {
  const message = (err as { message?: unknown } | null | undefined)?.message;
  return typeof message === "string" ? message : String(err);
}

/** Whether `err` carries one of these error names. */
export function hasErrorName(err: unknown, ...names: string[]): boolean {
  const name = (err as { name?: unknown } | null | undefined)?.name;
  return typeof name === "string" && names.includes(name);
}

/** `Name: message`, for every error class's `toString`. */
export function describeError(err: { name: string; message: string }): string {
  return `${err.name}: ${err.message}`;
}
