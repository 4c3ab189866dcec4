// Completion of rule file keys (and enum values) from the rule schema (GET /api/rules/schema,
// the same JSON schema as rules/schema.json), following the YAML nesting above the cursor.

// The schema nodes a value may be: $ref followed, unions and arrays flattened.
function variants(schema, node, seen = new Set()) {
  if (!node || typeof node !== "object" || seen.has(node)) return [];
  seen.add(node);
  if (node.$ref) {
    const target = node.$ref.replace(/^#\//, "").split("/").reduce((n, k) => n && n[k], schema);
    return variants(schema, target, seen);
  }
  const out = [node];
  for (const key of ["anyOf", "oneOf", "allOf"]) {
    for (const sub of node[key] || []) out.push(...variants(schema, sub, seen));
  }
  if (node.items) out.push(...variants(schema, node.items, seen));
  return out;
}

function properties(schema, nodes) {
  const props = new Map();
  for (const node of nodes) {
    for (const [name, sub] of Object.entries(node.properties || {})) {
      if (!props.has(name)) props.set(name, sub);
    }
  }
  return props;
}

// Column where a line's key starts ("  - any:" -> 4) and the key, if the line has one.
function keyOf(text) {
  const m = /^(\s*(?:-\s+)*)([A-Za-z_][\w-]*)\s*:(?:\s|$)/.exec(text);
  return m ? { column: m[1].length, key: m[2] } : null;
}

function contentColumn(text) {
  return /^(\s*(?:-\s+)*)/.exec(text)[1].length;
}

// The keys enclosing a position at `column` on line `lineNo`, outermost first, and the keys
// already written beside it.
function context(doc, lineNo, column) {
  const path = [];
  const siblings = new Set();
  let limit = column;
  for (let n = lineNo - 1; n >= 1; n--) {
    const text = doc.line(n).text;
    if (!text.trim() || text.trim().startsWith("#")) continue;
    const k = keyOf(text);
    const col = k ? k.column : contentColumn(text);
    if (limit === 0 && col > 0) continue;
    if (k && col < limit) {
      path.unshift(k.key);
      limit = col;
    } else if (k && col === limit && path.length === 0) {
      siblings.add(k.key);
    }
    if (limit === 0 && path.length > 0) break;
  }
  if (limit > 0 && path.length === 0) return null;
  return { path, siblings };
}

function nodesAt(schema, path) {
  let nodes = variants(schema, schema);
  for (const key of path) {
    const sub = properties(schema, nodes).get(key);
    if (!sub) return [];
    nodes = variants(schema, sub);
  }
  return nodes;
}

function describe(sub, schema) {
  const texts = variants(schema, sub).map((n) => n.description).filter(Boolean);
  return texts[0] || "";
}

export const forTests = { context, nodesAt, properties, variants };

export function schemaCompletion(loadSchema) {
  let schema = null;
  return async (ctx) => {
    schema = schema || (await loadSchema());
    if (!schema) return null;
    const line = ctx.state.doc.lineAt(ctx.pos);
    const before = line.text.slice(0, ctx.pos - line.from);

    // A value after "key: ": the property's enum values, if any.
    const value = /^(\s*(?:-\s+)*)([A-Za-z_][\w-]*)\s*:\s+([\w-]*)$/.exec(before);
    if (value) {
      const where = context(ctx.state.doc, line.number, value[1].length);
      if (!where) return null;
      const sub = properties(schema, nodesAt(schema, where.path)).get(value[2]);
      const options = variants(schema, sub)
        .flatMap((n) => n.enum || [])
        .map((v) => ({ label: String(v), type: "enum" }));
      if (!options.length) return null;
      return { from: ctx.pos - value[3].length, options, validFor: /^[\w-]*$/ };
    }

    // A key being typed at the start of a line (or after "- ").
    const key = /^(\s*(?:-\s+)*)([A-Za-z_][\w-]*)?$/.exec(before);
    if (!key || (!key[2] && !ctx.explicit)) return null;
    const where = context(ctx.state.doc, line.number, key[1].length);
    if (!where) return null;
    const props = properties(schema, nodesAt(schema, where.path));
    const options = [...props]
      .filter(([name]) => !where.siblings.has(name))
      .map(([name, sub]) => ({
        label: name,
        type: "property",
        apply: name + ": ",
        info: describe(sub, schema) || undefined,
      }));
    if (!options.length) return null;
    return { from: ctx.pos - (key[2] || "").length, options, validFor: /^[\w-]*$/ };
  };
}
