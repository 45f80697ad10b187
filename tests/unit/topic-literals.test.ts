// MQTT topics, filters and role names have one home, src/schemas/topics.ts: no string or template
// anywhere else under src/ spells the topic tree (takeo/v1, a wildcard filter) or builds on its
// root. Comments may name topics; code may not.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const SRC = resolve('src');
const HOME = join(SRC, 'schemas', 'topics.ts');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return sourceFiles(path);
    return /\.(ts|mts|js|mjs)$/.test(e.name) ? [path] : [];
  });
}

/** A string that spells a topic: the tree's root, or a level of a wildcard filter (a lone '+' passed to
 * a builder of the topics module is its argument, not a topic). */
const TOPICISH = /takeo\/v1|\/[+#](\/|$)/;

/** Topic-like strings and uses of TOPIC_ROOT in a file's code, as "line: text". */
function topicLiterals(path: string, text: string): string[] {
  const file = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true);
  const found: string[] = [];
  const at = (node: ts.Node) => file.getLineAndCharacterOfPosition(node.getStart()).line + 1;
  const visit = (node: ts.Node) => {
    if (
      (ts.isStringLiteralLike(node) ||
        ts.isTemplateHead(node) ||
        ts.isTemplateMiddle(node) ||
        ts.isTemplateTail(node)) &&
      TOPICISH.test(node.text) &&
      !ts.isImportDeclaration(node.parent)
    )
      found.push(`${at(node)}: ${node.text}`);
    if (ts.isIdentifier(node) && node.text === 'TOPIC_ROOT') found.push(`${at(node)}: TOPIC_ROOT`);
    ts.forEachChild(node, visit);
  };
  visit(file);
  return found;
}

describe('topic literals', () => {
  it('are found in strings and templates, not in comments', () => {
    const code = [
      '// on takeo/v1/alerts/<area>/ack',
      "const a = 'takeo/v1/#';",
      `const b = \`\${root}/alerts/+/ack\`;`,
      "const c = '/api/alerts';",
      "const e = topics.alertAck('+');",
      `const d = \`\${TOPIC_ROOT}/x\`;`,
    ].join('\n');
    expect(topicLiterals('x.ts', code)).toEqual(['2: takeo/v1/#', '3: /alerts/+/ack', '6: TOPIC_ROOT']);
  });

  it('appear under src/ only in src/schemas/topics.ts', () => {
    const files = sourceFiles(SRC).filter((f) => f !== HOME);
    expect(files.length).toBeGreaterThan(50);
    const found = files.flatMap((f) =>
      topicLiterals(f, readFileSync(f, 'utf8')).map((hit) => `${relative(SRC, f)}:${hit}`),
    );
    expect(found).toEqual([]);
  });
});
