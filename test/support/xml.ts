/**
 * A strict little XML parser for the SVG the metrics chart writes: elements, attributes, text,
 * comments and entity references. It throws on anything not well-formed (unclosed or crossed
 * tags, unquoted or repeated attributes, a stray `<` or `&`, more than one root), so a test that
 * parses an SVG with it has checked that the file is XML, then can count its elements.
 */
export interface XmlElement {
  name: string;
  attrs: Record<string, string>;
  children: XmlElement[];
  text: string;
}

const NAME = /^[A-Za-z_:][\w:.-]*/;
const ENTITY = /^&(lt|gt|amp|quot|apos|#\d+|#x[0-9a-fA-F]+);/;

function decode(raw: string, where: number): string {
  let out = "";
  for (let i = 0; i < raw.length; i++) {
    const c = raw[i]!;
    if (c === "<") throw new Error(`XML: "<" in text or attribute at ${where + i}`);
    if (c !== "&") {
      out += c;
      continue;
    }
    const m = ENTITY.exec(raw.slice(i));
    if (!m) throw new Error(`XML: bad entity reference at ${where + i}: ${raw.slice(i, i + 12)}`);
    const e = m[1]!;
    out += e === "lt" ? "<" : e === "gt" ? ">" : e === "amp" ? "&" : e === "quot" ? '"' : e === "apos" ? "'" : String.fromCodePoint(e.startsWith("#x") ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
    i += m[0].length - 1;
  }
  return out;
}

export function parseXml(text: string): XmlElement {
  let i = 0;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  const skipSpace = () => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  if (text.startsWith("<?xml")) i = text.indexOf("?>") + 2;
  while (i < text.length) {
    if (text.startsWith("<!--", i)) {
      const end = text.indexOf("-->", i);
      if (end < 0) throw new Error("XML: unclosed comment");
      i = end + 3;
    } else if (text.startsWith("</", i)) {
      const m = NAME.exec(text.slice(i + 2));
      const open = stack.pop();
      if (!m || !open || open.name !== m[0]) throw new Error(`XML: </${m?.[0]}> at ${i} closes <${open?.name}>`);
      i += 2 + m[0].length;
      skipSpace();
      if (text[i] !== ">") throw new Error(`XML: bad end tag at ${i}`);
      i++;
    } else if (text[i] === "<") {
      const m = NAME.exec(text.slice(i + 1));
      if (!m) throw new Error(`XML: bad tag name at ${i}`);
      const el: XmlElement = { name: m[0], attrs: {}, children: [], text: "" };
      i += 1 + m[0].length;
      for (;;) {
        const before = i;
        skipSpace();
        if (text.startsWith("/>", i) || text[i] === ">") break;
        if (i === before) throw new Error(`XML: no space before an attribute at ${i}`);
        const a = NAME.exec(text.slice(i));
        if (!a) throw new Error(`XML: bad attribute at ${i}`);
        i += a[0].length;
        skipSpace();
        if (text[i] !== "=") throw new Error(`XML: attribute ${a[0]} without a value at ${i}`);
        i++;
        skipSpace();
        const q = text[i];
        if (q !== '"' && q !== "'") throw new Error(`XML: unquoted attribute ${a[0]} at ${i}`);
        const end = text.indexOf(q, i + 1);
        if (end < 0) throw new Error(`XML: unclosed attribute ${a[0]}`);
        if (a[0] in el.attrs) throw new Error(`XML: attribute ${a[0]} twice on <${el.name}>`);
        el.attrs[a[0]] = decode(text.slice(i + 1, end), i + 1);
        i = end + 1;
      }
      const parent = stack.at(-1);
      if (parent) parent.children.push(el);
      else if (root) throw new Error("XML: more than one root element");
      else root = el;
      if (text.startsWith("/>", i)) i += 2;
      else {
        i++;
        stack.push(el);
      }
    } else {
      const next = text.indexOf("<", i);
      const end = next < 0 ? text.length : next;
      const chunk = decode(text.slice(i, end), i);
      const parent = stack.at(-1);
      if (parent) parent.text += chunk;
      else if (chunk.trim()) throw new Error(`XML: text outside the root at ${i}`);
      i = end;
    }
  }
  if (stack.length) throw new Error(`XML: <${stack.at(-1)!.name}> is never closed`);
  if (!root) throw new Error("XML: no root element");
  return root;
}

/** Every element under (and including) `el`, depth first. */
export function allElements(el: XmlElement): XmlElement[] {
  return [el, ...el.children.flatMap(allElements)];
}

/** All the text inside an element. */
export function textOf(el: XmlElement): string {
  return el.text + el.children.map(textOf).join("");
}
