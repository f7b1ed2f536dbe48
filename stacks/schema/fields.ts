/**
 * Field builders: every zod field of the environment is made here, so each
 * failure reads `"<value>" is not <what>` (or `missing; expected <what>`).
 */
import { z } from "zod";
import { cidrNetworkAddress, prefixLength } from "../../infra/ipv4";
import { notA, show } from "./messages";
import {
  MTU_MAX,
  MTU_MIN,
  SAFE_TEXT_MAX,
  isCidr,
  isCidrSyntax,
  isIfName,
  isIPv4,
  isInt,
  isLabel,
  isSafeText,
} from "./predicates";

/** A string field checked by `ok`; every failure reads `"<value>" is not <what>`. */
export function text(what: string, ok: (s: string) => boolean) {
  return z
    .string({ error: (iss) => notA(iss.input, what) })
    .refine(ok, { error: (iss) => notA(iss.input, what) });
}

/** An integer field in [min, max]; every failure reads `<value> is not <what> (an integer min–max)`. */
export function integer(what: string, min: number, max: number) {
  const full = `${what} (an integer ${min}–${max})`;
  return z
    .number({ error: (iss) => notA(iss.input, full) })
    .refine((n) => isInt(n, min, max), { error: (iss) => notA(iss.input, full) });
}

export function bool() {
  return z.boolean({ error: (iss) => notA(iss.input, "true or false") });
}

export function list<T extends z.ZodType>(item: T, what: string) {
  return z.array(item, { error: (iss) => notA(iss.input, what) });
}

export function mapping<T extends z.core.$ZodLooseShape>(shape: T, what: string) {
  return z.strictObject(shape, {
    error: (iss) => (iss.code === "invalid_type" ? notA(iss.input, what) : undefined),
  });
}

export function oneOf<const T extends readonly [string, ...string[]]>(values: T, what: string) {
  return z.enum(values, { error: (iss) => notA(iss.input, `${what} (${values.join(", ")})`) });
}

const LABEL_RULE = "lowercase letters, digits and hyphens, 1–63 characters";
export const hostName = () => text(`a valid host name (${LABEL_RULE})`, isLabel);
export const networkName = () => text(`a valid network name (${LABEL_RULE})`, isLabel);
export const envName = () => text(`a valid environment name (${LABEL_RULE})`, isLabel);
export const ifName = () =>
  text("a valid interface name (letters, digits, _ . -, 1–15 characters, not starting with -)", isIfName);
export const ipv4 = () => text("an IPv4 address", isIPv4);
export const mtu = () => integer("a valid MTU", MTU_MIN, MTU_MAX);
export const safeText = () =>
  text(`a safe comment (printable characters on one line, at most ${SAFE_TEXT_MAX})`, isSafeText);
/** A Proxmox storage ID. */
export const storageId = () => text("a storage ID", (v) => /^[a-z][a-z0-9_.-]{0,62}[a-z0-9]$/.test(v));

export const cidr = () =>
  z
    .string({ error: (iss) => notA(iss.input, "an IPv4 CIDR (e.g. 192.168.3.0/24)") })
    .superRefine((value, ctx) => {
      if (!isCidrSyntax(value)) {
        ctx.addIssue({ code: "custom", message: notA(value, "an IPv4 CIDR (e.g. 192.168.3.0/24)") });
      } else if (!isCidr(value)) {
        const fixed = `${cidrNetworkAddress(value)}/${prefixLength(value)}`;
        ctx.addIssue({
          code: "custom",
          message: `${show(value)} has host bits set; the network address is ${fixed}`,
        });
      }
    });
