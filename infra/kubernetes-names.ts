/**
 * What Kubernetes accepts as node names, label keys and values, and taints
 * (apimachinery's validation rules), shared by the stack schema and the
 * components that pass them on.
 */

/** A node name: a DNS subdomain (lowercase), at most 63 characters here (K3s uses it as the hostname too). */
export const isNodeName = (v: string): boolean => /^[a-z0-9]([-a-z0-9.]{0,61}[a-z0-9])?$/.test(v);

/** A label key: an optional DNS-subdomain prefix and "/", then a name of at most 63 characters. */
export const isLabelKey = (v: string): boolean =>
  v.length <= 316 && /^([a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?\/)?[A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?$/.test(v);

/** A label value: empty, or at most 63 characters of letters, digits, "-", "_" and ".", alphanumeric at both ends. */
export const isLabelValue = (v: string): boolean => /^([A-Za-z0-9]([A-Za-z0-9._-]{0,61}[A-Za-z0-9])?)?$/.test(v);

/** A taint as `--node-taint` takes it: key[=value]:NoSchedule|PreferNoSchedule|NoExecute. */
export const isTaint = (v: string): boolean => {
  const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(v);
  return m !== null && isLabelKey(m[1]) && isLabelValue(m[2] ?? "");
};
