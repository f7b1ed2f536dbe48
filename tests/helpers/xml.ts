/**
 * A small XML well-formedness check (no parser is installed): one root
 * element, tags nested and closed in order, attributes quoted and not
 * repeated, text and attribute values with only the predefined entities.
 * Returns the problems found (empty when well-formed) and the element names.
 */
const NAME = "[A-Za-z_][\\w.:-]*";
const ENTITY = /&(?:amp|lt|gt|quot|apos|#[0-9]+|#x[0-9a-fA-F]+);/g;
const TAG = new RegExp(`^<(/?)(${NAME})((?:\\s+${NAME}\\s*=\\s*"[^"<]*")*)\\s*(/?)>`);
const ATTR = new RegExp(`(${NAME})\\s*=\\s*"([^"<]*)"`, "g");

export function xmlProblems(text: string): { problems: string[]; elements: string[] } {
  const problems: string[] = [];
  const elements: string[] = [];
  const open: string[] = [];
  let roots = 0;
  let rest = text.replace(/^<\?xml[^?]*\?>\s*/, "");
  const badText = (t: string) => t.replace(ENTITY, "").includes("&");
  while (rest.length > 0) {
    const lt = rest.indexOf("<");
    const chunk = lt < 0 ? rest : rest.slice(0, lt);
    if (badText(chunk)) problems.push(`unescaped & in text: ${chunk.slice(0, 40)}`);
    if (open.length === 0 && chunk.trim() !== "") problems.push(`text outside the root element: ${chunk.trim().slice(0, 40)}`);
    if (lt < 0) break;
    rest = rest.slice(lt);
    if (rest.startsWith("<!--")) {
      const end = rest.indexOf("-->");
      if (end < 0) return { problems: [...problems, "unterminated comment"], elements };
      rest = rest.slice(end + 3);
      continue;
    }
    const m = TAG.exec(rest);
    if (!m) return { problems: [...problems, `malformed tag at: ${rest.slice(0, 60)}`], elements };
    const [whole, closing, name, attrs, selfClosing] = m;
    const seen = new Set<string>();
    for (const [, attr, value] of attrs.matchAll(ATTR)) {
      if (seen.has(attr)) problems.push(`<${name}> repeats attribute ${attr}`);
      seen.add(attr);
      if (badText(value)) problems.push(`<${name} ${attr}> has an unescaped &`);
    }
    if (closing) {
      const expected = open.pop();
      if (expected !== name) problems.push(`</${name}> closes <${expected ?? "nothing"}>`);
    } else {
      elements.push(name);
      if (open.length === 0) roots++;
      if (!selfClosing) open.push(name);
    }
    rest = rest.slice(whole.length);
  }
  if (open.length > 0) problems.push(`unclosed: ${open.join(" > ")}`);
  if (roots !== 1) problems.push(`${roots} root elements`);
  return { problems, elements };
}
