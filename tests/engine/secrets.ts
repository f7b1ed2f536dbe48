/**
 * Secret values as the Pulumi wire format marks them, and the one redaction
 * every line the harness prints goes through.
 */

/** Pulumi's wire markers (`@pulumi/pulumi/runtime/rpc`: specialSigKey, specialSecretSig). */
export const SIG_KEY = "4dabf18193072939515e22adb298388d";
export const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";

export function isWireSecret(v: unknown): v is { value: unknown } {
  return !!v && typeof v === "object" && (v as Record<string, unknown>)[SIG_KEY] === SECRET_SIG;
}

/** The value with every secret wrapper removed, and whether there was one. */
export function unwrapSecrets(v: unknown): { value: unknown; secret: boolean } {
  if (isWireSecret(v)) return { value: unwrapSecrets(v.value).value, secret: true };
  if (Array.isArray(v)) {
    const items = v.map(unwrapSecrets);
    return { value: items.map((i) => i.value), secret: items.some((i) => i.secret) };
  }
  if (v && typeof v === "object") {
    let secret = false;
    const out: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const u = unwrapSecrets(x);
      out[k] = u.value;
      secret ||= u.secret;
    }
    return { value: out, secret };
  }
  return { value: v, secret: false };
}

/** Every string leaf of a value. */
export function stringLeaves(v: unknown, out: string[] = []): string[] {
  if (typeof v === "string") out.push(v);
  else if (Array.isArray(v)) v.forEach((x) => stringLeaves(x, out));
  else if (v && typeof v === "object") Object.values(v).forEach((x) => stringLeaves(x, out));
  return out;
}

/**
 * Collects the secret values seen in a run and blanks them out of any text.
 * Multi-line secrets (private keys) are also blanked line by line, so a
 * fragment quoted in an error message does not slip through.
 */
export class Redactor {
  private readonly values = new Set<string>();

  add(value: unknown): void {
    for (const s of stringLeaves(value)) {
      if (s.length >= 4) this.values.add(s);
      for (const line of s.split("\n")) if (line.trim().length >= 16) this.values.add(line.trim());
    }
  }

  redact(text: string): string {
    // Longest first, so a whole key is replaced before its lines.
    for (const s of [...this.values].sort((a, b) => b.length - a.length)) text = text.split(s).join("[secret]");
    return text;
  }
}
