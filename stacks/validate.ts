/**
 * `npm run validate -- <stack | path/to/stack-file.yaml>`
 *
 * Validates a stack file with the same schema the Pulumi program uses. Prints
 * every issue (one line each, on stderr) and exits 1, or prints a one-line
 * summary and exits 0. Warnings (unsafe settings, placeholders left from the
 * reference stack files) go to stderr and do not change the exit code. Exit 2
 * on wrong usage.
 */
import { summary, validateStackFile } from "./stack-file";

export function main(argv: string[], out: (line: string) => void, err: (line: string) => void): number {
  if (argv.length !== 1 || argv[0].startsWith("-")) {
    err("usage: npm run validate -- <stack name | path to a stack file>");
    return 2;
  }
  const result = validateStackFile(argv[0]);
  if (result.issues.length > 0 || !result.environment) {
    for (const line of result.issues) err(line);
    return 1;
  }
  // Warnings (once the file is valid) never fail validation; stderr keeps the summary one line on stdout.
  for (const line of result.warnings ?? []) err(`warning: ${line}`);
  out(summary(result.environment));
  return 0;
}

if (require.main === module) {
  process.exitCode = main(
    process.argv.slice(2),
    (line) => console.log(line),
    (line) => console.error(line),
  );
}
