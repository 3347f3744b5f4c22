// Compares two V8 heap snapshots (e.g. the soak's after-warm-up and end snapshots of one process):
// objects counted and sized by constructor, the largest growth first.
//   node bench/src/soak/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [rows]
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]] } };
  nodes: number[];
  strings: string[];
}

type Totals = Map<string, { count: number; size: number }>;

function totals(path: string): Totals {
  const s = JSON.parse(readFileSync(path, 'utf8')) as Snapshot;
  const fields = s.snapshot.meta.node_fields;
  const types = s.snapshot.meta.node_types[0];
  const width = fields.length;
  const [typeAt, nameAt, sizeAt] = ['type', 'name', 'self_size'].map((f) => fields.indexOf(f)) as [
    number,
    number,
    number,
  ];
  const out: Totals = new Map();
  for (let i = 0; i < s.nodes.length; i += width) {
    const type = types[s.nodes[i + typeAt]!] ?? '?';
    const raw = s.strings[s.nodes[i + nameAt]!] ?? '';
    // strings are grouped, not told apart by their text
    const name =
      type === 'string' || type === 'concatenated string' || type === 'sliced string' ? '' : raw.slice(0, 60);
    const key = `${type}:${name}`;
    const t = out.get(key) ?? { count: 0, size: 0 };
    t.count++;
    t.size += s.nodes[i + sizeAt]!;
    out.set(key, t);
  }
  return out;
}

const [before, after, rows = '25'] = process.argv.slice(2);
if (!before || !after) {
  process.stderr.write('usage: node bench/src/soak/heap-diff.ts <before.heapsnapshot> <after.heapsnapshot> [rows]\n');
  process.exit(2);
}
const a = totals(before);
const b = totals(after);
const sum = (t: Totals) => [...t.values()].reduce((s, v) => s + v.size, 0) / 1024 / 1024;
process.stdout.write(`heap: ${sum(a).toFixed(1)} MB → ${sum(b).toFixed(1)} MB\n`);
const diff = [...new Set([...a.keys(), ...b.keys()])]
  .map((key) => {
    const x = a.get(key) ?? { count: 0, size: 0 };
    const y = b.get(key) ?? { count: 0, size: 0 };
    return { key, count: y.count - x.count, size: y.size - x.size, now: y.count };
  })
  .sort((p, q) => q.size - p.size)
  .slice(0, Number(rows));
for (const d of diff) {
  process.stdout.write(
    `${(d.size / 1024).toFixed(0).padStart(10)} KB ${String(d.count).padStart(9)} objects (now ${d.now})  ${d.key}\n`,
  );
}
