// gen.mjs - random small ONNX graphs for differential testing (difftest.mjs).
//
// generate(seed) builds a chain of 2-6 ops (plus the guard and macro nodes
// some of them need) over ops that `qopt-import --list-ops` claims, in ONNX's
// text syntax (onnx-text2pb turns it into a model). Every tensor's shape is
// known per *config*: a graph with symbolic dims is run at two concrete
// shapes, and a dim counts as static only if it is the same in every config,
// so ops that need a static dim (weights, LayerNormalization's scale) never
// see a symbolic one. Everything is a pure function of the seed.
//
// The generator only builds graphs that are valid ONNX with well-conditioned
// numbers: inputs of Log/Sqrt/Reciprocal/Div pass through a guard, and ops
// that are discontinuous (Floor, Round, Sign, Mod...) only see raw graph
// inputs, so a rounding difference upstream cannot flip a result and pass
// for a miscompile.

// ---------------------------------------------------------------- random

export class Rng {
  constructor(seed) {
    // splitmix32 to spread small seeds, then sfc32.
    let s = (seed >>> 0) ^ 0x9e3779b9;
    const next = () => {
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; ++i) this.u32();
  }
  u32() {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }
  float() { return this.u32() / 4294967296; }
  uniform(lo, hi) { return lo + (hi - lo) * this.float(); }
  int(lo, hi) { return lo + Math.floor(this.float() * (hi - lo + 1)); }
  chance(p) { return this.float() < p; }
  pick(list) { return list[Math.floor(this.float() * list.length)]; }
  // [[weight, value], ...]
  weighted(list) {
    let total = 0;
    for (const [w] of list) total += w;
    let x = this.float() * total;
    for (const [w, v] of list) {
      if ((x -= w) < 0) return v;
    }
    return list[list.length - 1][1];
  }
  shuffle(list) {
    const a = [...list];
    for (let i = a.length - 1; i > 0; --i) {
      const j = this.int(0, i);
      [a[i], a[j]] = [a[j], a[i]];
    }
    return a;
  }
  subset(list, min = 0) {
    for (;;) {
      const s = list.filter(() => this.chance(0.5));
      if (s.length >= min) return s;
    }
  }
}

// ---------------------------------------------------------------- helpers

const prod = (dims) => dims.reduce((a, b) => a * b, 1);
const range = (n) => Array.from({length: n}, (_, i) => i);
const divisors = (n) => range(n).map((i) => i + 1).filter((d) => n % d === 0);
const eqShape = (a, b) => a.length === b.length && a.every((d, i) => d === b[i]);
// Elements per tensor are capped so that constants stay small in text and a
// case runs in milliseconds.
const MAX_ELEMENTS = 4096;

export function fmtFloat(v) {
  if (!Number.isFinite(v)) throw new Error(`non-finite constant ${v}`);
  let s = String(Number(v.toPrecision(5)));
  if (!/[.e]/.test(s)) s += '.0';
  return s;
}

/**
 * Marks `g` when a symbolic dim of one operand meets a different dim of the
 * other (1 in some config): ONNX broadcasts it at run time, compilers that
 * specialize on shapes may refuse it (difftest counts such a run-time
 * refusal as a limitation, not a finding).
 */
function noteDynamicBroadcast(g, a, b) {
  const ra = a[0].length;
  const rb = b[0].length;
  const r = Math.max(ra, rb);
  for (let i = 0; i < r; ++i) {
    const da = a.map((s) => (i - (r - ra) >= 0 ? s[i - (r - ra)] : 1));
    const db = b.map((s) => (i - (r - rb) >= 0 ? s[i - (r - rb)] : 1));
    const symbolicOne = (x, y) => new Set(x).size > 1 && x.some((d, k) => d === 1 && y[k] > 1);
    if (symbolicOne(da, db) || symbolicOne(db, da)) g.dynamicBroadcast = true;
  }
}

function broadcast(a, b) {
  const r = Math.max(a.length, b.length);
  const out = [];
  for (let i = 0; i < r; ++i) {
    const x = i - (r - a.length) >= 0 ? a[i - (r - a.length)] : 1;
    const y = i - (r - b.length) >= 0 ? b[i - (r - b.length)] : 1;
    if (x !== y && x !== 1 && y !== 1) return null;
    out.push(x === 1 ? y : x);
  }
  return out;
}

// ---------------------------------------------------------------- graph

/**
 * A graph under construction. `configs` are the concrete values of the
 * symbolic dims, one object per run ({N: 2}); a static graph has one empty
 * config. Tensors are described in `info`: dtype, shapes (one per config),
 * and `raw` (a graph input's values, untouched by arithmetic).
 */
export class Graph {
  constructor(opset, configs) {
    this.opset = opset;
    this.configs = configs;
    this.inputs = [];   // {name, dtype, dims: (number|string)[]}
    this.inits = [];    // {name, dtype, shape, values}
    this.nodes = [];    // {op, inputs, outputs, attrs}
    this.outputs = [];
    this.info = new Map();
    this.counter = 0;
  }
  get nc() { return this.configs.length; }
  shapes(name) { return this.info.get(name).shapes; }
  shape0(name) { return this.info.get(name).shapes[0]; }
  rank(name) { return this.info.get(name).shapes[0].length; }
  dtype(name) { return this.info.get(name).dtype; }
  /** Per dim: its value if the same in every config, else null. */
  sdims(name) {
    const s = this.shapes(name);
    return s[0].map((d, i) => (s.every((x) => x[i] === d) ? d : null));
  }
  isStatic(name) { return this.sdims(name).every((d) => d !== null); }
  elements(name) { return Math.max(...this.shapes(name).map(prod)); }
  /** The symbol whose value is `values[k]` in config k, if any. */
  symbolFor(values) {
    if (this.nc < 2) return null;
    for (const sym of Object.keys(this.configs[0])) {
      if (this.configs.every((c, k) => c[sym] === values[k])) return sym;
    }
    return null;
  }
  fresh(prefix) { return `${prefix}${this.counter++}`; }

  addInput(dtype, dims) {
    const name = `X${this.inputs.length}`;
    this.inputs.push({name, dtype, dims});
    const shapes = this.configs.map(
        (c) => dims.map((d) => (typeof d === 'string' ? c[d] : d)));
    this.info.set(name, {dtype, shapes, raw: true, kind: 'input'});
    return name;
  }
  addConst(dtype, shape, values) {
    const name = this.fresh('c');
    // Some constants are Constant nodes rather than initializers; which,
    // by the name, so that it is a pure function of the seed.
    const asNode = shape.length > 0 && this.counter % 7 === 3;
    this.inits.push({name, dtype, shape, values, asNode});
    this.info.set(name, {dtype, shapes: this.configs.map(() => shape),
                         kind: 'const'});
    return name;
  }
  constF(shape, lo = -1, hi = 1, rng) {
    const n = prod(shape);
    return this.addConst('float', shape,
                         range(n).map(() => rng.uniform(lo, hi)));
  }
  constI(shape, values) { return this.addConst('int64', shape, values); }
  /**
   * Adds a node. `outs` is [{dtype, shapes}] per output (shapes per config,
   * or one shape for all configs via `shape`).
   */
  addNode(op, inputs, attrs, outs) {
    const outputs = outs.map(() => this.fresh('t'));
    this.nodes.push({op, inputs, outputs, attrs: attrs || {}});
    outs.forEach((o, i) => {
      const shapes = o.shapes || this.configs.map(() => o.shape);
      for (const s of shapes) {
        if (s.some((d) => !(Number.isInteger(d) && d >= 0))) {
          throw new Error(`bad shape [${s}] for ${op}`);
        }
      }
      this.info.set(outputs[i], {dtype: o.dtype, shapes, kind: 'node'});
    });
    return outputs;
  }
  /** A node with one output whose shape per config is f(config index). */
  node1(op, inputs, attrs, dtype, shapeOf) {
    return this.addNode(op, inputs, attrs,
                        [{dtype, shapes: this.configs.map((_, k) => shapeOf(k))}])[0];
  }

  /** Declared dims of a tensor that becomes a graph input or output. */
  declDims(name) {
    const sd = this.sdims(name);
    const s = this.shapes(name);
    return sd.map((d, i) => (d !== null ? d : this.symbolFor(s.map((x) => x[i])) || '?'));
  }

  toText() {
    const ir = this.opset <= 18 ? 8 : this.opset <= 20 ? 9 : 10;
    const type = (dtype, dims) => `${dtype}[${dims.join(', ')}]`;
    const ins = this.inputs.map((i) => `${type(i.dtype, i.dims)} ${i.name}`);
    const outs = this.outputs.map((o) => `${type(this.dtype(o), this.declDims(o))} ${o}`);
    const lines = [`<ir_version: ${ir}, opset_import: ["" : ${this.opset}]>`,
                   `difftest (${ins.join(', ')}) => (${outs.join(', ')})`];
    const literal = (c) => {
      const vals = c.dtype === 'float' ? c.values.map(fmtFloat) : c.values.map(String);
      return `${c.shape.length ? type(c.dtype, c.shape) : c.dtype} {${vals.join(', ')}}`;
    };
    const inits = this.inits.filter((c) => !c.asNode);
    if (inits.length) {
      const body = inits.map((c) => {
        const [t, v] = literal(c).split(' {');
        return `  ${t} ${c.name} = {${v}`;
      });
      lines.push('<', body.join(',\n'), '>');
    }
    lines.push('{');
    for (const c of this.inits.filter((x) => x.asNode)) {
      lines.push(`  ${c.name} = Constant <value = ${literal(c)}> ()`);
    }
    for (const n of this.nodes) {
      const attrs = Object.entries(n.attrs).map(([k, v]) => `${k} = ${fmtAttr(v)}`);
      const a = attrs.length ? ` <${attrs.join(', ')}>` : '';
      lines.push(`  ${n.outputs.join(', ')} = ${n.op}${a} (${n.inputs.join(', ')})`);
    }
    lines.push('}');
    return lines.join('\n') + '\n';
  }

  /**
   * The subgraph of nodes [from, to]: tensors they read from outside
   * become graph inputs (with the shapes they had), the outputs of node
   * `to` (and nothing else) become graph outputs. Used by the minimizer.
   */
  window(from, to) {
    const g = new Graph(this.opset, this.configs);
    g.counter = this.counter;
    const produced = new Set();
    const needed = [];
    const nodes = this.nodes.slice(from, to + 1);
    for (const n of nodes) {
      for (const x of n.inputs) {
        if (x === '' || produced.has(x) || needed.includes(x)) continue;
        const info = this.info.get(x);
        if (info.kind !== 'const') needed.push(x);
      }
      n.outputs.forEach((o) => produced.add(o));
    }
    const rename = new Map();
    for (const x of needed) {
      const dims = this.declDims(x).map((d, i) => (d === '?' ? null : d));
      // A dim that no symbol describes gets its own name; its value in each
      // config is whatever the original tensor had.
      const name = `X${g.inputs.length}`;
      const shapes = this.shapes(x);
      const decl = dims.map((d, i) => (d === null ? `${name}_d${i}` : d));
      g.inputs.push({name, dtype: this.dtype(x), dims: decl});
      g.info.set(name, {dtype: this.dtype(x), shapes, raw: true, kind: 'input'});
      rename.set(x, name);
    }
    const used = new Set(nodes.flatMap((n) => n.inputs));
    g.inits = this.inits.filter((c) => used.has(c.name));
    for (const c of g.inits) g.info.set(c.name, this.info.get(c.name));
    for (const n of nodes) {
      g.nodes.push({...n, inputs: n.inputs.map((x) => rename.get(x) || x)});
      for (const o of n.outputs) g.info.set(o, this.info.get(o));
    }
    g.outputs = [...this.nodes[to].outputs];
    return g;
  }
}

function fmtAttr(v) {
  switch (v.t) {
    case 'i': return String(v.v);
    case 'f': return fmtFloat(v.v);
    case 's': return `"${v.v}"`;
    case 'is': return `[${v.v.join(', ')}]`;
    case 'fs': return `[${v.v.map(fmtFloat).join(', ')}]`;
    case 'tensor': return v.v;
    default: throw new Error(`bad attribute ${JSON.stringify(v)}`);
  }
}
const I = (v) => ({t: 'i', v});
const F = (v) => ({t: 'f', v});
const S = (v) => ({t: 's', v});
const IS = (v) => ({t: 'is', v});

// ---------------------------------------------------------------- op menu

// Each op generator takes (g, rng, cur) and returns the new current tensor,
// or null when it does not apply to `cur` (rank, dtype, symbolic dims).

const sameShape = (g, x) => (k) => g.shapes(x)[k];
const isFloat = (g, x) => g.dtype(x) === 'float';

/** |x| + 0.5: a strictly positive input for Log, Sqrt, Div... */
function guardPositive(g, rng, x) {
  const a = g.node1('Abs', [x], null, 'float', sameShape(g, x));
  const c = g.addConst('float', [], [rng.pick([0.5, 0.25, 1])]);
  return g.node1('Add', [a, c], null, 'float', sameShape(g, a));
}

function unary(op, attrs = () => null, minOpset = 1) {
  return (g, rng, x) => {
    if (!isFloat(g, x) || g.opset < minOpset) return null;
    return g.node1(op, [x], attrs(rng), 'float', sameShape(g, x));
  };
}

function guardedUnary(op, guard) {
  return (g, rng, x) => {
    if (!isFloat(g, x)) return null;
    let y = x;
    if (guard === 'positive') y = guardPositive(g, rng, x);
    if (guard === 'unit') {  // into (-0.9, 0.9)
      const t = g.node1('Tanh', [x], null, 'float', sameShape(g, x));
      const c = g.addConst('float', [], [0.9]);
      y = g.node1('Mul', [t, c], null, 'float', sameShape(g, x));
    }
    if (guard === 'ge1') {
      const p = guardPositive(g, rng, x);
      const c = g.addConst('float', [], [1]);
      y = g.node1('Add', [p, c], null, 'float', sameShape(g, x));
    }
    return g.node1(op, [y], null, 'float', sameShape(g, x));
  };
}

/** Ops with a jump: only on a graph input's exact values. */
function rawUnary(op, attrs = () => null, minOpset = 1) {
  return (g, rng, x) => {
    if (!isFloat(g, x) || !g.info.get(x).raw || g.opset < minOpset) return null;
    return g.node1(op, [x], attrs(rng), 'float', sameShape(g, x));
  };
}

/**
 * A second operand that broadcasts with `x`: a constant, a new graph input
 * (whose symbolic dims are the same symbols) or an earlier tensor.
 * Returns {name, shapes of the result} or null.
 */
function broadcastOperand(g, rng, x, {lo = -1, hi = 1, positive = false} = {}) {
  const shapes = g.shapes(x);
  const sd = g.sdims(x);
  const r = sd.length;
  const kind = rng.weighted([[6, 'const'], [2.5, 'input'], [1.5, 'earlier']]);
  if (kind === 'earlier') {
    const cands = [...g.info.keys()].filter((n) => {
      const info = g.info.get(n);
      if (n === x || info.kind === 'const' || info.dtype !== 'float') return false;
      return g.configs.every((_, k) => {
        const b = broadcast(shapes[k], info.shapes[k]);
        return b && prod(b) <= MAX_ELEMENTS;
      });
    });
    if (cands.length && !positive) {
      const y = rng.pick(cands);
      noteDynamicBroadcast(g, shapes, g.shapes(y));
      return {name: y, shapes: g.configs.map((_, k) => broadcast(shapes[k], g.shapes(y)[k]))};
    }
  }
  const expand = rng.chance(0.25);
  let dims = [];
  const r2 = rng.chance(0.6) ? r : rng.int(0, r);
  for (let i = r - r2; i < r; ++i) {
    const d = sd[i];
    if (d === null) {
      const sym = g.symbolFor(shapes.map((s) => s[i]));
      dims.push(kind === 'input' && sym && rng.chance(0.7) ? sym : 1);
    } else if (kind === 'input' && d > 1 && rng.chance(0.5) && dynamicOne(g, d)) {
      // A symbolic dim that is 1 in some config and d in the others: ONNX
      // broadcasts it at run time (qopt may refuse, never guess).
      dims.push(dynamicOne(g, d));
    } else if (d === 1 && expand && rng.chance(0.5)) {
      dims.push(rng.int(2, 4));
    } else {
      dims.push(rng.chance(0.65) ? d : 1);
    }
  }
  if (expand && rng.chance(0.3) && r < 4) dims = [rng.int(2, 3), ...dims];
  const concrete = g.configs.map((c) => dims.map((d) => (typeof d === 'string' ? c[d] : d)));
  const out = g.configs.map((_, k) => broadcast(shapes[k], concrete[k]));
  if (out.some((s) => !s || prod(s) > MAX_ELEMENTS)) return null;
  noteDynamicBroadcast(g, shapes, concrete);
  let name;
  // Not a rank-0 input: ONNX's text syntax cannot declare one (`float[]`
  // leaves the shape out, and qopt-import refuses inputs of unknown rank).
  if (kind === 'input' && dims.length) {
    name = g.addInput('float', dims);
    if (positive) name = guardPositive(g, rng, name);
  } else {
    const n = prod(dims);
    const vals = range(n).map(() => {
      const v = rng.uniform(lo, hi);
      return positive ? v : v;
    });
    name = g.addConst('float', dims, vals);
  }
  return {name, shapes: out};
}

/** A symbol whose value is 1 or d in every config, 1 in at least one. */
function dynamicOne(g, d) {
  if (g.nc < 2) return null;
  for (const sym of Object.keys(g.configs[0])) {
    const vals = g.configs.map((c) => c[sym]);
    if (vals.every((v) => v === 1 || v === d) && vals.includes(1)) return sym;
  }
  return null;
}

function binary(op, {minOpset = 1} = {}) {
  return (g, rng, x) => {
    if (!isFloat(g, x) || g.opset < minOpset) return null;
    const opts = op === 'Mul' ? {lo: -2, hi: 2} : {};
    const o = broadcastOperand(g, rng, x, opts);
    if (!o) return null;
    const swap = rng.chance(0.3);
    return g.node1(op, swap ? [o.name, x] : [x, o.name], null, 'float', (k) => o.shapes[k]);
  };
}

function divide(g, rng, x) {
  if (!isFloat(g, x)) return null;
  if (rng.chance(0.6)) {  // x / c, c away from 0
    const o = broadcastOperand(g, rng, x, {lo: 0.5, hi: 2});
    if (!o || g.info.get(o.name).kind !== 'const') return null;
    const c = g.inits.find((i) => i.name === o.name);
    c.values = c.values.map((v) => (rng.chance(0.5) ? -v : v));
    return g.node1('Div', [x, o.name], null, 'float', (k) => o.shapes[k]);
  }
  const d = guardPositive(g, rng, x);
  const o = broadcastOperand(g, rng, x);
  if (!o) return null;
  return g.node1('Div', [o.name, d], null, 'float', (k) => o.shapes[k]);
}

function power(g, rng, x) {
  if (!isFloat(g, x)) return null;
  const base = guardPositive(g, rng, x);
  let e;
  if (rng.chance(0.5)) {
    const eShape = rng.chance(0.5) ? [] : [1];
    e = g.addConst('float', eShape, [rng.pick([2, 3, 0.5, -1, 1.5])]);
    // A [1] exponent makes a rank-0 base rank 1.
    return g.node1('Pow', [base, e], null, 'float', (k) => broadcast(g.shapes(x)[k], eShape));
  }
  const o = broadcastOperand(g, rng, base, {lo: -1.5, hi: 2});
  if (!o || g.info.get(o.name).kind === 'input') return null;
  return g.node1('Pow', [base, o.name], null, 'float', (k) => o.shapes[k]);
}

function variadic(op) {
  return (g, rng, x) => {
    if (!isFloat(g, x)) return null;
    const n = rng.int(1, 2);
    let shapes = g.shapes(x);
    const ins = [x];
    for (let i = 0; i < n; ++i) {
      const o = broadcastOperand(g, rng, x);
      if (!o) return null;
      const next = g.configs.map((_, k) => broadcast(shapes[k], g.shapes(o.name)[k]));
      if (next.some((s) => !s || prod(s) > MAX_ELEMENTS)) return null;
      shapes = next;
      ins.push(o.name);
    }
    return g.node1(op, rng.shuffle(ins), null, 'float', (k) => shapes[k]);
  };
}

function where(g, rng, x) {
  if (!isFloat(g, x)) return null;
  const cmpOp = rng.pick(['Greater', 'Less', 'GreaterOrEqual', 'LessOrEqual']);
  if (g.opset < 12 && cmpOp.endsWith('Equal')) return null;
  const t = g.addConst('float', [], [rng.uniform(-0.5, 0.5)]);
  let cond = g.node1(cmpOp, [x, t], null, 'bool', sameShape(g, x));
  if (rng.chance(0.25)) {
    const t2 = g.addConst('float', [], [rng.uniform(-0.5, 0.5)]);
    const c2 = g.node1(rng.pick(['Less', 'Greater']), [x, t2], null, 'bool', sameShape(g, x));
    cond = g.node1(rng.pick(['And', 'Or', 'Xor']), [cond, c2], null, 'bool', sameShape(g, x));
    if (rng.chance(0.3)) cond = g.node1('Not', [cond], null, 'bool', sameShape(g, x));
  }
  const o = broadcastOperand(g, rng, x);
  if (!o) return null;
  const ins = rng.chance(0.5) ? [cond, x, o.name] : [cond, o.name, x];
  return g.node1('Where', ins, null, 'float', (k) => o.shapes[k]);
}

function clip(g, rng, x) {
  if (!isFloat(g, x) || g.opset < 11) return null;
  const lo = rng.uniform(-1, 0);
  const hi = rng.uniform(0, 1);
  const form = rng.int(0, 2);
  const ins = [x, form === 1 ? '' : g.addConst('float', [], [lo])];
  if (form !== 2) ins.push(g.addConst('float', [], [hi]));
  return g.node1('Clip', ins, null, 'float', sameShape(g, x));
}

function matmul(g, rng, x) {
  if (!isFloat(g, x)) return null;
  const sd = g.sdims(x);
  const r = sd.length;
  if (r === 0) return null;
  const shapes = g.shapes(x);
  if (r >= 2 && sd[r - 2] !== null && rng.chance(0.2)) {
    // A constant on the left: [M, K'] x [..., K', N].
    const K = sd[r - 2];
    const M = rng.int(1, 12);
    const w = g.constF([M, K], -1, 1, rng);
    scaleWeights(g, w, K);
    const out = (k) => [...shapes[k].slice(0, r - 2), M, shapes[k][r - 1]];
    if (g.configs.some((_, k) => prod(out(k)) > MAX_ELEMENTS)) return null;
    return g.node1('MatMul', [w, x], null, 'float', out);
  }
  const K = sd[r - 1];
  if (K === null) return null;
  if (r === 1 && rng.chance(0.9)) return null;
  const N = rng.weighted([[5, rng.int(1, 16)], [2, rng.int(17, 40)], [1, rng.pick([48, 64, 80])]]);
  let wdims;
  // qopt-import refuses 1-D MatMul operands; keep a few to track that.
  const form = rng.weighted([[7, 'plain'], [0.2, 'vector'], [2, 'batched']]);
  if (form === 'vector') {
    wdims = [K];
  } else if (form === 'batched' && r >= 3) {
    const batch = sd.slice(0, r - 2).map((d) => (d === null || rng.chance(0.3) ? 1 : d));
    wdims = [...batch.slice(rng.int(0, batch.length - 1)), K, N];
  } else {
    wdims = [K, N];
  }
  let w;
  if (rng.chance(0.15) && wdims.length === 2) {
    w = g.addInput('float', wdims);
  } else {
    w = g.constF(wdims, -1, 1, rng);
    scaleWeights(g, w, K);
  }
  const out = (k) => {
    const a = shapes[k];
    if (wdims.length === 1) return a.slice(0, -1);
    if (a.length === 1) return [N];
    const ba = a.slice(0, -2);
    const bb = wdims.slice(0, -2);
    return [...broadcast(ba, bb), a[a.length - 2], N];
  };
  if (g.configs.some((_, k) => prod(out(k)) > MAX_ELEMENTS)) return null;
  return g.node1('MatMul', [x, w], null, 'float', out);
}

function scaleWeights(g, name, fanIn) {
  const c = g.inits.find((i) => i.name === name);
  const s = Math.sqrt(3 / Math.max(fanIn, 1));
  c.values = c.values.map((v) => v * s);
}

function gemm(g, rng, x) {
  if (!isFloat(g, x) || g.rank(x) !== 2) return null;
  const sd = g.sdims(x);
  const transA = sd[0] !== null && sd[1] !== null && rng.chance(0.3);
  const K = transA ? sd[0] : sd[1];
  if (K === null) return null;
  const transB = rng.chance(0.5);
  const N = rng.weighted([[5, rng.int(1, 16)], [2, rng.int(17, 40)]]);
  const b = g.constF(transB ? [N, K] : [K, N], -1, 1, rng);
  scaleWeights(g, b, K);
  const attrs = {};
  if (transA) attrs.transA = I(1);
  if (transB || rng.chance(0.2)) attrs.transB = I(transB ? 1 : 0);
  if (rng.chance(0.3)) attrs.alpha = F(rng.uniform(0.5, 2));
  const Mk = (k) => g.shapes(x)[k][transA ? 1 : 0];
  const ins = [x, b];
  if (g.opset < 11 || rng.chance(0.75)) {
    const Ms = transA ? sd[1] : sd[0];
    const forms = [[N], [1, N], []];
    if (Ms !== null) forms.push([Ms, N], [Ms, 1]);
    ins.push(g.constF(rng.pick(forms), -1, 1, rng));
    if (rng.chance(0.3)) attrs.beta = F(rng.uniform(0.5, 2));
  }
  return g.node1('Gemm', ins, attrs, 'float', (k) => [Mk(k), N]);
}

/** Conv output size for one spatial dim. */
function convOut(d, k, s, dil, pb, pe) {
  return Math.floor((d + pb + pe - dil * (k - 1) - 1) / s) + 1;
}

function conv(g, rng, x, forced = {}) {
  if (!isFloat(g, x)) return null;
  const sd = g.sdims(x);
  const r = sd.length;
  if (r !== 3 && r !== 4) return null;
  if (sd.slice(1).some((d) => d === null)) return null;
  const C = sd[1];
  const spatial = sd.slice(2);
  const groupKind = forced.group ?? rng.weighted([[5, 'one'], [2, 'depthwise'], [2, 'other']]);
  let G = 1;
  if (groupKind === 'depthwise') G = C;
  if (groupKind === 'other') G = rng.pick(divisors(C));
  const M = forced.M ?? (G === 1 ? rng.weighted([[4, rng.int(1, 16)], [1, rng.int(17, 32)]])
                                 : G * rng.pick([1, 1, 2, 3]));
  if (M % G) return null;
  const ks = forced.kernel ?? spatial.map(() => rng.weighted([[4, 1], [4, 3], [1, 2], [1, 5]]));
  const strides = spatial.map(() => (forced.kernel ? 1 : rng.weighted([[6, 1], [2, 2], [1, 3]])));
  let dils = spatial.map(() => (forced.kernel || !rng.chance(0.12) ? 1 : 2));
  const padMode = forced.kernel ? 'none' :
      rng.weighted([[5, 'explicit'], [2, 'none'], [1, 'SAME_UPPER'], [1, 'SAME_LOWER'], [1, 'VALID']]);
  // ORT refuses dilations with SAME padding.
  if (padMode.startsWith('SAME')) dils = spatial.map(() => 1);
  const attrs = {};
  let outSpatial;
  if (padMode === 'explicit' || padMode === 'none') {
    const pads = spatial.map((_, i) => (padMode === 'none' ? 0 : rng.int(0, Math.min(ks[i] - 1, 2))));
    const pads2 = spatial.map((_, i) => (padMode === 'none' ? 0 : rng.chance(0.7) ? pads[i] : rng.int(0, Math.min(ks[i] - 1, 2))));
    outSpatial = spatial.map((d, i) => convOut(d, ks[i], strides[i], dils[i], pads[i], pads2[i]));
    if (padMode === 'explicit') attrs.pads = IS([...pads, ...pads2]);
  } else {
    attrs.auto_pad = S(padMode);
    outSpatial = spatial.map((d, i) => (padMode === 'VALID' ? convOut(d, ks[i], strides[i], dils[i], 0, 0)
                                                            : Math.ceil(d / strides[i])));
    if (padMode !== 'VALID' && spatial.some((d, i) => (outSpatial[i] - 1) * strides[i] + ks[i] < d)) return null;
  }
  if (outSpatial.some((d) => d < 1)) return null;
  if (rng.chance(0.5) || forced.kernel) attrs.kernel_shape = IS(ks);
  if (strides.some((s) => s !== 1) || rng.chance(0.2)) attrs.strides = IS(strides);
  if (dils.some((s) => s !== 1) || rng.chance(0.1)) attrs.dilations = IS(dils);
  if (G !== 1 || rng.chance(0.2)) attrs.group = I(G);
  const fan = (C / G) * prod(ks);
  const w = g.constF([M, C / G, ...ks], -1, 1, rng);
  scaleWeights(g, w, fan);
  const ins = [x, w];
  const bias = forced.bias ?? rng.chance(0.6);
  if (bias) ins.push(g.constF([M], -1, 1, rng));
  const out = (k) => [g.shapes(x)[k][0], M, ...outSpatial];
  if (g.configs.some((_, k) => prod(out(k)) > MAX_ELEMENTS)) return null;
  return g.node1('Conv', ins, attrs, 'float', out);
}

function pool(op) {
  return (g, rng, x) => {
    if (!isFloat(g, x)) return null;
    const sd = g.sdims(x);
    const r = sd.length;
    if (r !== 3 && r !== 4) return null;
    if (sd.slice(2).some((d) => d === null)) return null;
    const spatial = sd.slice(2);
    const ks = spatial.map((d) => rng.int(1, Math.min(3, d + 1)));
    const strides = spatial.map((_, i) => rng.pick([1, 2, ks[i]]));
    const dils = spatial.map(() => (op === 'MaxPool' && g.opset >= 10 && rng.chance(0.1) ? 2 : 1));
    const attrs = {kernel_shape: IS(ks)};
    const auto = rng.weighted([[8, null], [1, 'SAME_UPPER'], [1, 'VALID']]);
    let outSpatial;
    if (auto) {
      attrs.auto_pad = S(auto);
      outSpatial = spatial.map((d, i) => (auto === 'VALID' ? convOut(d, ks[i], strides[i], dils[i], 0, 0)
                                                           : Math.ceil(d / strides[i])));
      // SAME with dilation or ceil_mode: semantics differ between versions.
      if (dils.some((v) => v !== 1)) return null;
      // A stride longer than the kernel can make SAME's total padding
      // negative, which ORT refuses.
      if (auto !== 'VALID' && spatial.some((d, i) => (outSpatial[i] - 1) * strides[i] + ks[i] < d)) return null;
    } else {
      const pb = spatial.map((_, i) => (rng.chance(0.5) ? rng.int(0, Math.floor((ks[i] - 1) / 1)) : 0));
      const pe = spatial.map((_, i) => (rng.chance(0.5) ? pb[i] : rng.int(0, ks[i] - 1)));
      // Pads must stay below the (dilated) kernel.
      if (spatial.some((_, i) => pb[i] >= ks[i] || pe[i] >= ks[i])) return null;
      if (pb.some((p) => p) || pe.some((p) => p) || rng.chance(0.2)) attrs.pads = IS([...pb, ...pe]);
      let ceil = g.opset >= 10 && rng.chance(0.25);
      const eff = (i) => dils[i] * (ks[i] - 1) + 1;
      const out = (i, c) => {
        const v = (spatial[i] + pb[i] + pe[i] - eff(i)) / strides[i];
        return (c ? Math.ceil(v) : Math.floor(v)) + 1;
      };
      // ceil_mode's last window must start inside the input or the left
      // padding; versions of the spec differ otherwise, so avoid the case.
      if (ceil && spatial.some((d, i) => (out(i, true) - 1) * strides[i] >= d + pb[i])) ceil = false;
      if (ceil) attrs.ceil_mode = I(1);
      outSpatial = spatial.map((_, i) => out(i, ceil));
    }
    if (outSpatial.some((d) => d < 1)) return null;
    if (strides.some((s) => s !== 1) || rng.chance(0.3)) attrs.strides = IS(strides);
    if (dils.some((d) => d !== 1)) attrs.dilations = IS(dils);
    if (op === 'AveragePool' && rng.chance(0.4)) attrs.count_include_pad = I(rng.int(0, 1));
    return g.node1(op, [x], attrs, 'float', (k) => [...g.shapes(x)[k].slice(0, 2), ...outSpatial]);
  };
}

function globalAvgPool(g, rng, x) {
  if (!isFloat(g, x) || g.rank(x) < 3) return null;
  return g.node1('GlobalAveragePool', [x], null, 'float',
                 (k) => g.shapes(x)[k].map((d, i) => (i < 2 ? d : 1)));
}

function globalMaxPool(g, rng, x) {
  if (!isFloat(g, x) || g.rank(x) < 3) return null;
  return g.node1('GlobalMaxPool', [x], null, 'float',
                 (k) => g.shapes(x)[k].map((d, i) => (i < 2 ? d : 1)));
}

function batchNorm(g, rng, x) {
  if (!isFloat(g, x) || g.rank(x) < 2 || g.opset < 9) return null;
  const C = g.sdims(x)[1];
  if (C === null) return null;
  const ins = [x, g.constF([C], 0.5, 1.5, rng), g.constF([C], -1, 1, rng),
               g.constF([C], -0.5, 0.5, rng), g.constF([C], 0.5, 2, rng)];
  const attrs = rng.chance(0.5) ? {epsilon: F(rng.pick([1e-5, 1e-3, 0.01]))} : null;
  return g.node1('BatchNormalization', ins, attrs, 'float', sameShape(g, x));
}

function layerNorm(g, rng, x0) {
  if (!isFloat(g, x0) || g.opset < 17 || g.rank(x0) < 1) return null;
  const x = spreadRows(g, rng, x0);
  const sd = g.sdims(x);
  const r = sd.length;
  let first = r;
  while (first > 0 && sd[first - 1] !== null) --first;
  if (first === r) return null;
  const axis = rng.int(Math.max(first, r - 2), r - 1);
  const norm = sd.slice(axis);
  const attrs = {};
  if (axis !== r - 1 || rng.chance(0.3)) attrs.axis = I(rng.chance(0.5) ? axis : axis - r);
  if (rng.chance(0.5)) attrs.epsilon = F(rng.pick([1e-5, 1e-3, 0.1]));
  const ins = [x, g.constF(norm, 0.5, 1.5, rng)];
  if (rng.chance(0.7)) ins.push(g.constF(norm, -1, 1, rng));
  return g.node1('LayerNormalization', ins, attrs, 'float', sameShape(g, x));
}

function softmax(op) {
  return (g, rng, x) => {
    if (!isFloat(g, x) || g.opset < 13 || g.rank(x) < 1) return null;
    const r = g.rank(x);
    const attrs = rng.chance(0.7) ? {axis: I(rng.int(-r, r - 1))} : null;
    return g.node1(op, [x], attrs, 'float', sameShape(g, x));
  };
}

const REDUCES = ['ReduceSum', 'ReduceMean', 'ReduceMax', 'ReduceMin', 'ReduceProd',
                 'ReduceL1', 'ReduceL2', 'ReduceSumSquare', 'ReduceLogSumExp', 'ReduceLogSum'];

function reduce(op) {
  return (g, rng, x0) => {
    if (!isFloat(g, x0) || g.rank(x0) < 1) return null;
    const x = op === 'ReduceLogSum' ? guardPositive(g, rng, x0) : x0;
    const r = g.rank(x);
    const all = rng.chance(0.12);
    const axes = all ? range(r) : rng.subset(range(r), 1);
    const keep = rng.chance(0.5);
    // ReduceProd of many elements under/overflows: keep it small.
    if (op === 'ReduceProd' && g.configs.some((_, k) => prod(axes.map((a) => g.shapes(x)[k][a])) > 16)) return null;
    const attrs = {};
    if (!keep) attrs.keepdims = I(0);
    else if (rng.chance(0.3)) attrs.keepdims = I(1);
    const written = axes.map((a) => (rng.chance(0.3) ? a - r : a));
    const ins = [x];
    if (!all || rng.chance(0.5)) {
      const asInput = g.opset >= 18 || (op === 'ReduceSum' && g.opset >= 13);
      if (asInput) ins.push(g.constI([written.length], written));
      else attrs.axes = IS(written);
    }
    const out = (k) => {
      const s = g.shapes(x)[k];
      return keep ? s.map((d, i) => (axes.includes(i) ? 1 : d)) : s.filter((_, i) => !axes.includes(i));
    };
    return g.node1(op, ins, attrs, 'float', out);
  };
}

/**
 * x plus random noise over its static dims. An index result (ArgMax, TopK's
 * indices) flips between near-equal values on rounding noise, and chains
 * make mathematically equal values (a softmax row's mean is 1/n in every
 * row); the noise spreads them far apart along every static axis.
 */
function tieBreak(g, rng, x) {
  const dims = g.sdims(x).map((d) => d ?? 1);
  return g.node1('Add', [x, g.constF(dims, -1, 1, rng)], null, 'float', sameShape(g, x));
}

/**
 * Normalization divides by a row's standard deviation (plus epsilon): a row
 * that is constant (Expand, Min with a constant after Relu) turns rounding
 * differences in its mean into results of size 1e-8 / sqrt(epsilon), and
 * the two agree only to that. Noise along the static dims keeps rows apart.
 */
function spreadRows(g, rng, x) {
  return g.sdims(x).some((d) => d !== null && d > 1) ? tieBreak(g, rng, x) : x;
}

function argReduce(op) {
  return (g, rng, x0) => {
    if (!isFloat(g, x0) || g.rank(x0) < 1) return null;
    const r = g.rank(x0);
    const axes = range(r).filter((i) => g.sdims(x0)[i] !== null);
    if (!axes.length) return null;
    const axis = rng.pick(axes);
    const x = tieBreak(g, rng, x0);
    const keep = rng.chance(0.5);
    const attrs = {axis: I(rng.chance(0.3) ? axis - r : axis)};
    if (!keep) attrs.keepdims = I(0);
    if (g.opset >= 12 && rng.chance(0.3)) attrs.select_last_index = I(1);
    const out = (k) => {
      const s = g.shapes(x)[k];
      return keep ? s.map((d, i) => (i === axis ? 1 : d)) : s.filter((_, i) => i !== axis);
    };
    return g.node1(op, [x], attrs, 'int64', out);
  };
}

/** A random factorization of n into `parts` factors. */
function factorize(rng, n, parts) {
  const out = [];
  for (let i = 0; i < parts - 1; ++i) {
    const d = rng.pick(divisors(n));
    out.push(d);
    n /= d;
  }
  out.push(n);
  return rng.shuffle(out);
}

function reshape(g, rng, x) {
  const sd = g.sdims(x);
  const r = sd.length;
  let lastSym = -1;
  sd.forEach((d, i) => { if (d === null) lastSym = i; });
  // Dims [0, keep) stay as they are (written 0) or merge into -1; the static
  // rest is refactored.
  const keep = lastSym >= 0 ? rng.int(lastSym + 1, r) : rng.chance(0.3) ? rng.int(0, r) : 0;
  const rest = sd.slice(keep);
  const total = prod(rest);
  const parts = rng.int(total === 1 ? 0 : 1, 3);
  if (parts === 0 && keep === 0) return null;
  const facts = parts ? factorize(rng, total, parts) : [];
  if (parts === 0 && total !== 1) return null;
  let head;
  let headShape;
  if (keep > 0 && rng.chance(0.5)) {
    head = [-1];
    headShape = (k) => [prod(g.shapes(x)[k].slice(0, keep))];
  } else {
    head = sd.slice(0, keep).map((d) => (d === null || rng.chance(0.5) ? 0 : d));
    headShape = (k) => g.shapes(x)[k].slice(0, keep);
  }
  const target = [...head, ...facts];
  // An all-static target may still use one -1.
  if (!head.includes(-1) && facts.length && rng.chance(0.3)) {
    target[keep + rng.int(0, facts.length - 1)] = -1;
  }
  if (target.length > 6) return null;
  const shapeConst = g.constI([target.length], target);
  return g.node1('Reshape', [x, shapeConst], null, g.dtype(x), (k) => [...headShape(k), ...facts]);
}

function transpose(g, rng, x) {
  const r = g.rank(x);
  if (r < 2) return null;
  const noPerm = rng.chance(0.15);
  const perm = noPerm ? range(r).reverse() : rng.shuffle(range(r));
  return g.node1('Transpose', [x], noPerm ? null : {perm: IS(perm)}, g.dtype(x),
                 (k) => perm.map((p) => g.shapes(x)[k][p]));
}

function flatten(g, rng, x) {
  const r = g.rank(x);
  if (r < 1) return null;
  const axis = rng.int(0, r);
  const attrs = axis === 1 && rng.chance(0.3) ? null
      : {axis: I(g.opset >= 11 && rng.chance(0.3) && axis < r ? axis - r : axis)};
  return g.node1('Flatten', [x], attrs, g.dtype(x), (k) => {
    const s = g.shapes(x)[k];
    return [prod(s.slice(0, axis)), prod(s.slice(axis))];
  });
}

function squeeze(g, rng, x) {
  const sd = g.sdims(x);
  const r = sd.length;
  const ones = range(r).filter((i) => sd[i] === 1);
  if (!ones.length) return null;
  const noAxes = sd.every((d) => d !== null) && rng.chance(0.2);
  const axes = noAxes ? ones : rng.subset(ones, 1);
  const written = axes.map((a) => (rng.chance(0.3) ? a - r : a));
  const ins = [x];
  let attrs = null;
  if (!noAxes) {
    if (g.opset >= 13) ins.push(g.constI([written.length], written));
    else attrs = {axes: IS(written)};
  }
  return g.node1('Squeeze', ins, attrs, g.dtype(x),
                 (k) => g.shapes(x)[k].filter((_, i) => !axes.includes(i)));
}

function unsqueeze(g, rng, x) {
  const r = g.rank(x);
  if (r >= 5) return null;
  const n = rng.chance(0.8) ? 1 : 2;
  const R = r + n;
  const axes = rng.shuffle(range(R)).slice(0, n);
  const written = axes.map((a) => (rng.chance(0.3) ? a - R : a));
  const ins = [x];
  let attrs = null;
  if (g.opset >= 13) ins.push(g.constI([n], written));
  else attrs = {axes: IS(written)};
  return g.node1('Unsqueeze', ins, attrs, g.dtype(x), (k) => {
    const s = [...g.shapes(x)[k]];
    const out = [];
    for (let i = 0; i < R; ++i) out.push(axes.includes(i) ? 1 : s.shift());
    return out;
  });
}

function concat(g, rng, x) {
  if (!isFloat(g, x) || g.rank(x) < 1) return null;
  const sd = g.sdims(x);
  const shapes = g.shapes(x);
  const r = sd.length;
  const axis = rng.int(0, r - 1);
  const n = rng.chance(0.75) ? 1 : 2;
  const ins = [x];
  for (let j = 0; j < n; ++j) {
    const kind = rng.weighted([[4, 'const'], [2, 'input'], [1, 'self'], [2, 'earlier']]);
    if (kind === 'self') { ins.push(x); continue; }
    if (kind === 'earlier') {
      const c = [...g.info.keys()].filter((t) => {
        const info = g.info.get(t);
        return t !== x && info.kind !== 'const' && info.dtype === 'float' &&
               g.configs.every((_, k) => info.shapes[k].length === r &&
                   info.shapes[k].every((d, i) => i === axis || d === shapes[k][i]));
      });
      if (c.length) { ins.push(rng.pick(c)); continue; }
    }
    const len = rng.int(1, 5);
    const dims = [];
    for (let i = 0; i < r; ++i) {
      if (i === axis) dims.push(len);
      else if (sd[i] !== null) dims.push(sd[i]);
      else {
        const sym = g.symbolFor(shapes.map((s) => s[i]));
        if (!sym) return null;
        dims.push(sym);
      }
    }
    const needsInput = dims.some((d) => typeof d === 'string');
    ins.push(kind === 'input' || needsInput ? g.addInput('float', dims) : g.constF(dims, -1, 1, rng));
  }
  const order = rng.chance(0.3) ? rng.shuffle(ins) : ins;
  const out = (k) => {
    const s = [...shapes[k]];
    s[axis] = order.reduce((a, t) => a + g.shapes(t)[k][axis], 0);
    return s;
  };
  if (g.configs.some((_, k) => prod(out(k)) > MAX_ELEMENTS)) return null;
  return g.node1('Concat', order, {axis: I(rng.chance(0.3) ? axis - r : axis)}, 'float', out);
}

/** ONNX Slice's output length for one axis. */
function sliceLen(d, start, end, step) {
  const clamp = (v, lo, hi) => Math.min(Math.max(v, lo), hi);
  if (step > 0) {
    let s = start < 0 ? start + d : start;
    let e = end < 0 ? end + d : end;
    s = clamp(s, 0, d);
    e = clamp(e, 0, d);
    return Math.max(0, Math.ceil((e - s) / step));
  }
  let s = start < 0 ? start + d : start;
  let e = end < 0 ? end + d : end;
  s = clamp(s, 0, d - 1);
  e = clamp(e, -1, d - 1);
  return Math.max(0, Math.ceil((s - e) / -step));
}

const INT64_MAX = '9223372036854775807';
const INT64_MIN = '-9223372036854775808';

function slice(g, rng, x) {
  if (g.opset < 10 || g.rank(x) < 1) return null;
  const shapes = g.shapes(x);
  const r = g.rank(x);
  const axes = rng.shuffle(range(r)).slice(0, rng.int(1, r));
  const starts = [];
  const ends = [];
  const steps = [];
  for (const a of axes) {
    const dmin = Math.min(...shapes.map((s) => s[a]));
    const step = rng.weighted([[6, 1], [2, 2], [1, 3], [2, -1], [1, -2]]);
    let start;
    let end;
    if (step > 0) {
      start = rng.weighted([[3, 0], [2, rng.int(0, Math.max(dmin - 1, 0))], [1, -rng.int(1, Math.max(dmin, 1))], [1, -1000]]);
      end = rng.weighted([[2, INT64_MAX], [2, rng.int(1, dmin + 2)], [1, -rng.int(0, dmin)], [1, 1000]]);
    } else {
      start = rng.weighted([[2, -1], [2, rng.int(0, dmin + 2)], [1, INT64_MAX]]);
      end = rng.weighted([[2, INT64_MIN], [2, rng.int(-dmin - 2, dmin - 1)], [1, -1000]]);
    }
    starts.push(start);
    ends.push(end);
    steps.push(step);
  }
  const num = (v) => (typeof v === 'string' ? (v.startsWith('-') ? -1e18 : 1e18) : v);
  const out = (k) => {
    const s = [...shapes[k]];
    axes.forEach((a, i) => { s[a] = sliceLen(s[a], num(starts[i]), num(ends[i]), steps[i]); });
    return s;
  };
  if (g.configs.some((_, k) => out(k).some((d) => d === 0))) return null;
  const implicitAxes = axes.every((a, i) => a === i) && rng.chance(0.4);
  const unitSteps = steps.every((s) => s === 1) && rng.chance(0.5);
  const ins = [x, g.constI([axes.length], starts), g.constI([axes.length], ends)];
  if (!implicitAxes || !unitSteps) {
    ins.push(g.constI([axes.length], axes.map((a) => (rng.chance(0.3) ? a - r : a))));
    if (!unitSteps) ins.push(g.constI([axes.length], steps));
  }
  return g.node1('Slice', ins, null, g.dtype(x), out);
}

function gather(g, rng, x) {
  const r = g.rank(x);
  if (r < 1) return null;
  const shapes = g.shapes(x);
  const axis = rng.int(0, r - 1);
  const dmin = Math.min(...shapes.map((s) => s[axis]));
  const irank = rng.weighted([[1, 0], [3, 1], [1, 2]]);
  const idims = irank === 0 ? [] : irank === 1 ? [rng.int(1, 6)] : [rng.int(1, 3), rng.int(1, 3)];
  const idx = range(prod(idims)).map(() => rng.int(-dmin, dmin - 1));
  const ind = g.constI(idims, idx);
  const out = (k) => [...shapes[k].slice(0, axis), ...idims, ...shapes[k].slice(axis + 1)];
  if (g.configs.some((_, k) => prod(out(k)) > MAX_ELEMENTS)) return null;
  const attrs = axis === 0 && rng.chance(0.3) ? null : {axis: I(rng.chance(0.3) ? axis - r : axis)};
  return g.node1('Gather', [x, ind], attrs, g.dtype(x), out);
}

function gatherElements(g, rng, x) {
  if (!g.isStatic(x) || g.rank(x) < 1 || g.opset < 11) return null;
  const s = g.shape0(x);
  const r = s.length;
  const axis = rng.int(0, r - 1);
  const idims = s.map((d, i) => (i === axis ? rng.int(1, d + 2) : rng.int(1, d)));
  const ind = g.constI(idims, range(prod(idims)).map(() => rng.int(-s[axis], s[axis] - 1)));
  return g.node1('GatherElements', [x, ind], {axis: I(rng.chance(0.3) ? axis - r : axis)},
                 g.dtype(x), () => idims);
}

function split(g, rng, x) {
  const sd = g.sdims(x);
  const r = sd.length;
  const axes = range(r).filter((i) => sd[i] !== null && sd[i] >= 2);
  if (!axes.length) return null;
  const axis = rng.pick(axes);
  const d = sd[axis];
  const attrs = {axis: I(rng.chance(0.3) ? axis - r : axis)};
  const ins = [x];
  let parts;
  const form = rng.weighted([[3, 'sizes'], [1, 'equal']]);
  if (form === 'equal') {
    // Without sizes: equal parts (opset 18+: num_outputs, last one smaller).
    const n = rng.int(2, Math.min(d, 4));
    if (g.opset >= 18) {
      attrs.num_outputs = I(n);
      const chunk = Math.ceil(d / n);
      parts = range(n).map((i) => Math.min(chunk, d - i * chunk)).filter((p) => p > 0);
      if (parts.length !== n) return null;
    } else {
      if (d % n) return null;
      parts = range(n).map(() => d / n);
    }
  } else {
    const n = rng.int(2, Math.min(d, 3));
    const cuts = rng.shuffle(range(d - 1).map((i) => i + 1)).slice(0, n - 1).sort((a, b) => a - b);
    parts = [...cuts, d].map((c, i) => c - (i ? cuts[i - 1] : 0));
    if (g.opset >= 13) ins.push(g.constI([parts.length], parts));
    else attrs.split = IS(parts);
  }
  const outs = g.addNode('Split', ins, attrs, parts.map((p) => ({
    dtype: g.dtype(x),
    shapes: g.configs.map((_, k) => g.shapes(x)[k].map((v, i) => (i === axis ? p : v))),
  })));
  const pick = rng.int(0, outs.length - 1);
  for (const o of outs) {
    if (o !== outs[pick] && rng.chance(0.3)) g.outputs.push(o);
  }
  return outs[pick];
}

function expand(g, rng, x) {
  if (g.opset < 8) return null;
  const sd = g.sdims(x);
  const r = sd.length;
  const target = sd.map((d) => (d === 1 && rng.chance(0.6) ? rng.int(2, 4) : 1));
  if (r < 4 && rng.chance(0.4)) target.unshift(rng.int(1, 3));
  const out = (k) => broadcast(g.shapes(x)[k], target);
  if (g.configs.some((_, k) => !out(k) || prod(out(k)) > MAX_ELEMENTS)) return null;
  return g.node1('Expand', [x, g.constI([target.length], target)], null, g.dtype(x), out);
}

function tile(g, rng, x) {
  const r = g.rank(x);
  if (r < 1) return null;
  const reps = range(r).map(() => rng.weighted([[3, 1], [2, 2], [1, 3]]));
  const out = (k) => g.shapes(x)[k].map((d, i) => d * reps[i]);
  if (g.configs.some((_, k) => prod(out(k)) > MAX_ELEMENTS)) return null;
  return g.node1('Tile', [x, g.constI([r], reps)], null, g.dtype(x), out);
}

function pad(g, rng, x) {
  if (!isFloat(g, x) || g.opset < 11 || g.rank(x) < 1) return null;
  const shapes = g.shapes(x);
  const r = g.rank(x);
  const mode = rng.weighted([[3, 'constant'], [1, 'reflect'], [1, 'edge']]);
  const dmin = range(r).map((i) => Math.min(...shapes.map((s) => s[i])));
  const p = [];
  for (let h = 0; h < 2; ++h) {
    for (let i = 0; i < r; ++i) {
      const limit = mode === 'reflect' ? dmin[i] - 1 : 2;
      p.push(rng.chance(0.5) ? rng.int(0, Math.min(limit, 2)) : 0);
    }
  }
  const out = (k) => shapes[k].map((d, i) => d + p[i] + p[i + r]);
  if (g.configs.some((_, k) => prod(out(k)) > MAX_ELEMENTS)) return null;
  const ins = [x, g.constI([2 * r], p)];
  if (mode === 'constant' && rng.chance(0.5)) ins.push(g.addConst('float', [], [rng.uniform(-1, 1)]));
  const attrs = mode === 'constant' && rng.chance(0.5) ? null : {mode: S(mode)};
  return g.node1('Pad', ins, attrs, 'float', out);
}

function cumsum(g, rng, x) {
  if (!isFloat(g, x) || g.opset < 11 || g.rank(x) < 1) return null;
  const r = g.rank(x);
  const axis = rng.int(-r, r - 1);
  const attrs = {};
  if (rng.chance(0.3)) attrs.exclusive = I(1);
  if (rng.chance(0.3)) attrs.reverse = I(1);
  const a = g.addConst('int64', rng.chance(0.5) ? [] : [1], [axis]);
  return g.node1('CumSum', [x, a], attrs, 'float', sameShape(g, x));
}

function trilu(g, rng, x) {
  if (g.opset < 14 || g.rank(x) < 2) return null;
  const ins = [x];
  if (rng.chance(0.5)) ins.push(g.addConst('int64', [], [rng.int(-2, 2)]));
  const attrs = rng.chance(0.5) ? {upper: I(rng.int(0, 1))} : null;
  return g.node1('Trilu', ins, attrs, g.dtype(x), sameShape(g, x));
}

function topk(g, rng, x0) {
  let x = x0;
  if (!isFloat(g, x) || g.opset < 11 || g.rank(x) < 1) return null;
  const sd = g.sdims(x);
  const r = sd.length;
  const axes = range(r).filter((i) => sd[i] !== null);
  if (!axes.length) return null;
  const axis = rng.pick(axes);
  const K = rng.int(1, sd[axis]);
  const exposeIndices = rng.chance(0.4);
  if (exposeIndices) x = tieBreak(g, rng, x);
  const attrs = {};
  if (axis !== r - 1 || rng.chance(0.3)) attrs.axis = I(rng.chance(0.3) ? axis - r : axis);
  if (rng.chance(0.4)) attrs.largest = I(rng.int(0, 1));
  const outShapes = g.configs.map((_, k) => g.shapes(x)[k].map((d, i) => (i === axis ? K : d)));
  const [v, ix] = g.addNode('TopK', [x, g.constI([1], [K])], attrs,
                            [{dtype: 'float', shapes: outShapes}, {dtype: 'int64', shapes: outShapes}]);
  if (exposeIndices) g.outputs.push(ix);
  return v;
}

/** Gather with computed indices: x's own ArgMax along the gathered axis. */
function gatherArgmax(g, rng, x) {
  if (!isFloat(g, x) || g.rank(x) < 1 || g.rank(x) > 3) return null;
  const r = g.rank(x);
  const axes = range(r).filter((i) => g.sdims(x)[i] !== null);
  if (!axes.length) return null;
  const axis = rng.pick(axes);
  const drop = (s) => s.filter((_, i) => i !== axis);
  const idx = g.node1('ArgMax', [tieBreak(g, rng, x)], {axis: I(axis), keepdims: I(0)}, 'int64',
                      (k) => drop(g.shapes(x)[k]));
  const out = (k) => {
    const s = g.shapes(x)[k];
    return [...s.slice(0, axis), ...drop(s), ...s.slice(axis + 1)];
  };
  if (g.configs.some((_, k) => prod(out(k)) > MAX_ELEMENTS || out(k).length > 6)) return null;
  return g.node1('Gather', [x, idx], {axis: I(axis)}, 'float', out);
}

/** Ops that make a tensor from a shape or a constant, added to x. */
function generated(g, rng, x) {
  if (!isFloat(g, x) || g.rank(x) < 1) return null;
  const sd = g.sdims(x);
  const r = sd.length;
  const last = sd[r - 1];
  const kind = rng.pick(['Range', 'OneHot', 'EyeLike', 'Size']);
  let t;
  if (kind === 'Range') {
    if (last === null || g.opset < 11) return null;
    const start = rng.pick([0, -1, 0.5]);
    const delta = rng.pick([0.25, 0.5, -0.5]);
    // Float Range: the length is ceil((limit - start) / delta), so pick a
    // limit half a step past the last value to keep it exact.
    const limit = start + delta * (last - 0.5);
    t = g.node1('Range', [g.addConst('float', [], [start]), g.addConst('float', [], [limit]),
                          g.addConst('float', [], [delta])], null, 'float', () => [last]);
  } else if (kind === 'OneHot') {
    if (last === null || r < 2 || sd[r - 2] === null || g.opset < 11) return null;
    const a = sd[r - 2];
    const ind = g.constI([a], range(a).map(() => rng.int(-last, last - 1)));
    t = g.node1('OneHot', [ind, g.addConst('int64', [], [last]), g.constF([2], -1, 1, rng)],
                rng.chance(0.3) ? {axis: I(-1)} : null, 'float', () => [a, last]);
  } else if (kind === 'EyeLike') {
    if (r !== 2 || g.opset < 9) return null;
    const attrs = rng.chance(0.5) ? {k: I(rng.int(-2, 2))} : null;
    t = g.node1('EyeLike', [x], attrs, 'float', sameShape(g, x));
  } else {
    const n = g.node1('Size', [x], null, 'int64', () => []);
    t = g.node1('Cast', [n], {to: I(1)}, 'float', () => []);
    return g.node1('Div', [x, t], null, 'float', sameShape(g, x));
  }
  return g.node1(rng.pick(['Add', 'Mul']), [x, t], null, 'float',
                 (k) => broadcast(g.shapes(x)[k], g.shapes(t)[k]));
}

/** Where(IsNaN(x) or IsInf(x), c, x): the identity on finite inputs. */
function nanGuard(g, rng, x) {
  if (!isFloat(g, x) || g.opset < 10) return null;
  const c = g.node1(rng.pick(['IsNaN', 'IsInf']), [x], null, 'bool', sameShape(g, x));
  return g.node1('Where', [c, g.addConst('float', [], [0]), x], null, 'float', sameShape(g, x));
}

/** QuantizeLinear -> DequantizeLinear: rounding, so raw inputs only. */
function quantRoundTrip(g, rng, x) {
  if (!isFloat(g, x) || !g.info.get(x).raw || g.opset < 10) return null;
  const signed = rng.chance(0.5);
  const scale = g.addConst('float', [], [rng.pick([1 / 64, 1 / 32, 1 / 128])]);
  const zp = g.addConst(signed ? 'int8' : 'uint8', [], [signed ? rng.int(-10, 10) : rng.int(100, 150)]);
  const q = g.node1('QuantizeLinear', [x, scale, zp], null, signed ? 'int8' : 'uint8', sameShape(g, x));
  return g.node1('DequantizeLinear', [q, scale, zp], null, 'float', sameShape(g, x));
}

/** Integer compare: Equal on x truncated to integers picks x or -x. */
function equalInt(g, rng, x) {
  if (!isFloat(g, x) || !g.info.get(x).raw) return null;
  const m = g.node1('Mul', [x, g.addConst('float', [], [2])], null, 'float', sameShape(g, x));
  const i = g.node1('Cast', [m], {to: I(7)}, 'int64', sameShape(g, x));
  const e = g.node1('Equal', [i, g.addConst('int64', [], [rng.int(-1, 1)])], null, 'bool', sameShape(g, x));
  const n = g.node1('Neg', [x], null, 'float', sameShape(g, x));
  return g.node1('Where', [e, x, n], null, 'float', sameShape(g, x));
}

/** Float -> int -> float truncation: only on a graph input's exact values. */
function castToInt(g, rng, x) {
  if (!isFloat(g, x) || !g.info.get(x).raw) return null;
  const to = rng.pick([6, 7]);  // int32, int64
  const m = g.node1('Mul', [x, g.addConst('float', [], [4])], null, 'float', sameShape(g, x));
  g.info.get(m).raw = true;  // times 4 is exact
  const i = g.node1('Cast', [m], {to: I(to)}, to === 6 ? 'int32' : 'int64', sameShape(g, x));
  return g.node1('Cast', [i], {to: I(1)}, 'float', sameShape(g, x));
}

function castRoundTrip(g, rng, x) {
  if (!isFloat(g, x)) return null;
  const d = g.node1('Cast', [x], {to: I(11)}, 'double', sameShape(g, x));
  if (g.opset >= 15 && rng.chance(0.5)) return g.node1('CastLike', [d, x], null, 'float', sameShape(g, x));
  return g.node1('Cast', [d], {to: I(1)}, 'float', sameShape(g, x));
}

function mod(g, rng, x) {
  if (!isFloat(g, x) || !g.info.get(x).raw || g.opset < 10) return null;
  const c = g.addConst('float', [], [rng.pick([1, -1]) * rng.uniform(0.3, 0.9)]);
  return g.node1('Mod', [x, c], {fmod: I(1)}, 'float', sameShape(g, x));
}

/** Squeeze-and-excite: the block of issue 11's miscompile. */
function squeezeExcite(g, rng, x) {
  if (!isFloat(g, x) || g.rank(x) !== 4) return null;
  const sd = g.sdims(x);
  if (sd.slice(1).some((d) => d === null) || sd[1] < 2) return null;
  const C = sd[1];
  const p = globalAvgPool(g, rng, x);
  const mid = rng.int(1, Math.max(1, Math.floor(C / 2)));
  const c1 = conv(g, rng, p, {group: 'one', M: mid, kernel: [1, 1], bias: rng.chance(0.8)});
  if (!c1) return null;
  const a = g.node1('Relu', [c1], null, 'float', sameShape(g, c1));
  const c2 = conv(g, rng, a, {group: 'one', M: C, kernel: [1, 1], bias: rng.chance(0.8)});
  if (!c2) return null;
  const gate = g.node1(rng.pick(['Sigmoid', 'HardSigmoid']), [c2], null, 'float', sameShape(g, c2));
  return g.node1('Mul', [x, gate], null, 'float', sameShape(g, x));
}

/** MatMul or Conv, then a bias Add, then an activation: the fusion path. */
function linearBlock(g, rng, x) {
  const isConv = g.rank(x) === 4 && rng.chance(0.6);
  const y = isConv ? conv(g, rng, x, rng.chance(0.5) ? {kernel: [1, 1], group: 'one'} : {})
                   : matmul(g, rng, x);
  if (!y) return null;
  const sd = g.sdims(y);
  let z = y;
  if (rng.chance(0.8)) {
    const bshape = isConv ? [sd[1], 1, 1] : [sd[sd.length - 1]];
    if (bshape.some((d) => d === null)) return null;
    const b = g.constF(bshape, -1, 1, rng);
    z = g.node1('Add', rng.chance(0.8) ? [y, b] : [b, y], null, 'float', sameShape(g, y));
  }
  const act = rng.pick(['Relu', 'Sigmoid', 'Tanh', 'Gelu', 'LeakyRelu', 'HardSwish', 'Erf']);
  if (act === 'Gelu' && g.opset < 20) return z;
  if (act === 'HardSwish' && g.opset < 14) return z;
  return g.node1(act, [z], null, 'float', sameShape(g, z));
}

function resize(g, rng, x) {
  if (!isFloat(g, x) || g.opset < 13) return null;
  const sd = g.sdims(x);
  const r = sd.length;
  if (r !== 4 && r !== 3) return null;
  if (sd.slice(2).some((d) => d === null)) return null;
  // ORT's cubic takes 2-D and 4-D inputs only.
  const mode = rng.weighted([[3, 'linear'], [2, 'nearest'], [r === 4 ? 0.3 : 0, 'cubic']]);
  // Nearest picks a source index by rounding: only integer scales, whose
  // source coordinates never fall on a tie.
  const scales = sd.slice(2).map(() => (mode === 'nearest' ? rng.pick([1, 2, 3]) : rng.pick([0.5, 1, 1.5, 2, 3])));
  const out = sd.slice(2).map((d, i) => Math.floor(d * scales[i]));
  if (out.some((d) => d < 1)) return null;
  const attrs = {mode: S(mode)};
  let ctm = rng.pick(['half_pixel', 'asymmetric', 'align_corners', 'pytorch_half_pixel']);
  // align_corners divides by the resized length less one: ONNX's reference
  // (and its backend test resize_downsample_scales_linear_align_corners,
  // which qopt passes) takes the unrounded input x scale, ORT the output
  // length (onnx/onnx#2462). They agree when the product is whole.
  if (ctm === 'align_corners' && sd.slice(2).some((d, i) => d * scales[i] !== out[i])) ctm = 'asymmetric';
  if (mode !== 'nearest' || ctm === 'asymmetric' || ctm === 'half_pixel') attrs.coordinate_transformation_mode = S(ctm);
  if (mode === 'nearest' && ctm === 'asymmetric') attrs.nearest_mode = S('floor');
  const bySizes = rng.chance(0.3) && g.isStatic(x);
  const ins = [x, '', bySizes ? '' : g.addConst('float', [r], [1, 1, ...scales])];
  if (bySizes) ins.push(g.constI([r], [...g.shape0(x).slice(0, 2), ...out]));
  const shape = (k) => [...g.shapes(x)[k].slice(0, 2), ...out];
  if (g.configs.some((_, k) => prod(shape(k)) > MAX_ELEMENTS)) return null;
  return g.node1('Resize', ins, attrs, 'float', shape);
}

function gatherND(g, rng, x) {
  if (!g.isStatic(x) || g.rank(x) < 1 || g.opset < 11) return null;
  const s = g.shape0(x);
  const q = rng.int(1, Math.min(s.length, 3));
  const n = rng.int(1, 4);
  const vals = [];
  for (let i = 0; i < n; ++i) for (let j = 0; j < q; ++j) vals.push(rng.int(-s[j], s[j] - 1));
  const ind = g.constI([n, q], vals);
  return g.node1('GatherND', [x, ind], null, g.dtype(x), () => [n, ...s.slice(q)]);
}

/** Shape-driven ops: a constant the size of x (ConstantOfShape(Shape(x))). */
function shapeOf(g, rng, x) {
  if (!isFloat(g, x) || g.opset < 9 || g.rank(x) < 1) return null;
  const r = g.rank(x);
  const sh = g.node1('Shape', [x], null, 'int64', () => [r]);
  const v = rng.uniform(-1, 1);
  const c = g.node1('ConstantOfShape', [sh], {value: {t: 'tensor', v: `float[1] {${fmtFloat(v)}}`}},
                    'float', sameShape(g, x));
  return g.node1(rng.pick(['Add', 'Mul', 'Max']), [x, c], null, 'float', sameShape(g, x));
}

/**
 * Softmax spelled out as exported models do (max, subtract, exp, sum,
 * divide) - what qopt-raise-softmax pattern-matches - and near misses that
 * must not be raised: a different axis for the max and the sum, no max.
 */
function manualSoftmax(g, rng, x) {
  if (!isFloat(g, x) || g.rank(x) < 1) return null;
  const r = g.rank(x);
  const axis = rng.chance(0.6) ? r - 1 : rng.int(0, r - 1);
  const axis2 = rng.chance(0.85) ? axis : rng.int(0, r - 1);
  const red = (op, y, ax) => {
    const ins = [y];
    const attrs = {};
    if (op === 'ReduceSum' ? g.opset >= 13 : g.opset >= 18) ins.push(g.constI([1], [ax]));
    else attrs.axes = IS([ax]);
    return g.node1(op, ins, attrs, 'float', (k) => g.shapes(y)[k].map((d, i) => (i === ax ? 1 : d)));
  };
  let y = x;
  if (rng.chance(0.85)) {
    const m = red('ReduceMax', x, axis);
    y = g.node1('Sub', [x, m], null, 'float', sameShape(g, x));
  }
  const e = g.node1('Exp', [y], null, 'float', sameShape(g, x));
  const sum = red('ReduceSum', e, axis2);
  if (rng.chance(0.8)) return g.node1('Div', [e, sum], null, 'float', sameShape(g, x));
  const inv = g.node1('Reciprocal', [sum], null, 'float', sameShape(g, sum));
  return g.node1('Mul', [e, inv], null, 'float', sameShape(g, x));
}

/** LayerNormalization spelled out (mean, center, variance, rsqrt, affine). */
function manualLayerNorm(g, rng, x0) {
  if (!isFloat(g, x0) || g.rank(x0) < 1) return null;
  const x = spreadRows(g, rng, x0);
  const sd = g.sdims(x);
  const r = sd.length;
  if (sd[r - 1] === null) return null;
  const mean = (y) => {
    const ins = [y];
    const attrs = {};
    if (g.opset >= 18) ins.push(g.constI([1], [-1]));
    else attrs.axes = IS([-1]);
    return g.node1('ReduceMean', ins, attrs, 'float', (k) => g.shapes(y)[k].map((d, i) => (i === r - 1 ? 1 : d)));
  };
  const mu = mean(x);
  const c = g.node1('Sub', [x, mu], null, 'float', sameShape(g, x));
  const sq = rng.chance(0.5) ? g.node1('Mul', [c, c], null, 'float', sameShape(g, x))
                             : g.node1('Pow', [c, g.addConst('float', [], [2])], null, 'float', sameShape(g, x));
  const v = mean(sq);
  const ve = g.node1('Add', [v, g.addConst('float', [], [1e-5])], null, 'float', sameShape(g, v));
  const sdv = g.node1('Sqrt', [ve], null, 'float', sameShape(g, v));
  const n = g.node1('Div', [c, sdv], null, 'float', sameShape(g, x));
  const w = g.node1('Mul', [n, g.constF([sd[r - 1]], 0.5, 1.5, rng)], null, 'float', sameShape(g, x));
  return g.node1('Add', [w, g.constF([sd[r - 1]], -1, 1, rng)], null, 'float', sameShape(g, x));
}

/**
 * Attention on [..., S, D]: softmax(Q K^T * scale) V with Q, K, V linear
 * in x: matmuls of two activations, a transposed operand, batch dims.
 */
function attention(g, rng, x) {
  if (!isFloat(g, x) || g.rank(x) < 2 || g.rank(x) > 4 || g.opset < 13) return null;
  const sd = g.sdims(x);
  const r = sd.length;
  const D = sd[r - 1];
  if (D === null) return null;
  const H = rng.int(1, 16);
  const proj = () => {
    const w = g.constF([D, H], -1, 1, rng);
    scaleWeights(g, w, D);
    return g.node1('MatMul', [x, w], null, 'float', (k) => [...g.shapes(x)[k].slice(0, -1), H]);
  };
  const q = proj();
  const kk = proj();
  const v = rng.chance(0.3) ? q : proj();
  const perm = [...range(r - 2), r - 1, r - 2];
  const kt = g.node1('Transpose', [kk], {perm: IS(perm)}, 'float', (k) => perm.map((p) => g.shapes(kk)[k][p]));
  const sShape = (k) => {
    const s = g.shapes(x)[k];
    return [...s.slice(0, -1), s[r - 2]];
  };
  if (g.configs.some((_, k) => prod(sShape(k)) > MAX_ELEMENTS)) return null;
  let sc = g.node1('MatMul', [q, kt], null, 'float', sShape);
  sc = g.node1(rng.pick(['Mul', 'Div']), [sc, g.addConst('float', [], [Math.sqrt(H)])], null, 'float', sShape);
  const p = rng.chance(0.7) ? g.node1('Softmax', [sc], {axis: I(-1)}, 'float', sShape) : manualSoftmax(g, rng, sc);
  if (!p) return null;
  return g.node1('MatMul', [p, v], null, 'float', (k) => [...g.shapes(x)[k].slice(0, -1), H]);
}

const UNARY = [
  [4, unary('Relu')], [2, unary('Sigmoid')], [2, unary('Tanh')],
  [1, unary('Abs')], [1, unary('Neg')], [1, unary('Exp')], [1, unary('Erf')],
  [1, unary('LeakyRelu', (r) => (r.chance(0.5) ? {alpha: F(r.uniform(0.01, 0.3))} : null))],
  [1, unary('Elu', (r) => (r.chance(0.5) ? {alpha: F(r.uniform(0.5, 1.5))} : null))],
  [0.5, unary('Selu', (r) => (r.chance(0.5) ? {alpha: F(r.uniform(1, 2)), gamma: F(r.uniform(1, 1.2))} : null))],
  [0.5, unary('Celu', (r) => (r.chance(0.5) ? {alpha: F(r.uniform(0.5, 2))} : null), 12)],
  [1, unary('HardSigmoid', (r) => (r.chance(0.5) ? {alpha: F(r.uniform(0.1, 0.5)), beta: F(r.uniform(0.3, 0.7))} : null))],
  [1, unary('HardSwish', () => null, 14)],
  [2, unary('Gelu', (r) => (r.chance(0.4) ? {approximate: S(r.pick(['none', 'tanh']))} : null), 20)],
  [0.5, unary('Softplus')], [0.5, unary('Softsign')],
  [0.5, unary('Shrink', (r) => (r.chance(0.7) ? {lambd: F(r.uniform(0.1, 0.6)), bias: F(r.uniform(0, 0.5))} : null), 9)],
  [0.5, unary('ThresholdedRelu', (r) => (r.chance(0.5) ? {alpha: F(r.uniform(0.1, 0.8))} : null), 10)],
  [0.5, unary('Sin')], [0.5, unary('Cos')], [0.3, unary('Atan')], [0.3, unary('Asinh')],
  [0.3, unary('Sinh')], [0.3, unary('Cosh')], [0.3, unary('Identity')],
  [0.3, unary('Dropout')],
  [1, guardedUnary('Log', 'positive')], [1, guardedUnary('Sqrt', 'positive')],
  [0.5, guardedUnary('Reciprocal', 'positive')], [0.3, guardedUnary('Asin', 'unit')],
  [0.3, guardedUnary('Acos', 'unit')], [0.3, guardedUnary('Atanh', 'unit')],
  [0.3, guardedUnary('Acosh', 'ge1')], [0.3, guardedUnary('Tan', 'unit')],
  [0.3, rawUnary('Floor')], [0.3, rawUnary('Ceil')], [0.3, rawUnary('Round')], [0.3, rawUnary('Sign')],
  [1, clip],
];

const MENU = [
  ...UNARY.map(([w, f]) => [w * 0.5, f]),
  [3, binary('Add')], [2, binary('Mul')], [1.5, binary('Sub')], [1, divide],
  [0.7, binary('Max')], [0.7, binary('Min')], [0.5, power],
  [0.5, variadic('Sum')], [0.3, variadic('Mean')], [0.3, variadic('Max')], [0.3, variadic('Min')],
  [1, where],
  [4, matmul], [2, gemm], [5, conv], [4, linearBlock], [1.5, squeezeExcite],
  [1.5, pool('MaxPool')], [1.5, pool('AveragePool')], [1, globalAvgPool],
  [0.5, globalMaxPool],
  [1.5, batchNorm], [2, layerNorm], [2, softmax('Softmax')], [1, softmax('LogSoftmax')],
  ...REDUCES.map((op) => [op === 'ReduceSum' || op === 'ReduceMean' ? 1.2 : 0.5, reduce(op)]),
  [3, reshape], [2.5, transpose], [1, flatten], [1.5, squeeze], [1.5, unsqueeze],
  [2, concat], [2, slice], [2, gather], [0.7, gatherElements], [1, split],
  [1, expand], [0.7, tile], [1, pad], [0.7, cumsum], [0.5, trilu], [0.7, topk],
  [0.3, castRoundTrip], [0.3, mod],
  [1.5, manualSoftmax], [1, manualLayerNorm], [1.5, attention],
  [1, resize], [0.5, gatherND], [0.5, shapeOf], [0.2, rawUnary('Hardmax', () => null, 13)],
  [0.5, gatherArgmax], [0.3, castToInt], [0.8, generated], [0.3, nanGuard],
  [0.3, quantRoundTrip], [0.3, equalInt],
];

const FINAL = [[1, argReduce('ArgMax')], [1, argReduce('ArgMin')]];

// ---------------------------------------------------------------- graphs

function inputShape(rng) {
  const rank = rng.weighted([[1, 1], [3, 2], [2, 3], [4, 4]]);
  const dim = () => rng.weighted([[2, 1], [10, rng.int(2, 8)], [3, rng.int(9, 17)], [1, rng.int(18, 40)]]);
  let dims;
  if (rank === 4) {
    dims = [rng.weighted([[3, 1], [2, rng.int(2, 3)]]), rng.weighted([[1, rng.int(1, 4)], [2, rng.int(4, 16)], [0.5, rng.int(17, 32)]]),
            rng.int(1, 12), rng.int(1, 12)];
  } else {
    dims = range(rank).map(dim);
  }
  while (prod(dims) > 1024) {
    const i = dims.indexOf(Math.max(...dims));
    dims[i] = Math.max(1, Math.floor(dims[i] / 2));
  }
  return dims;
}

/**
 * The graph of a seed: a chain of 2..maxOps picks from MENU (a pick may
 * add guard or block nodes) and sometimes a final ArgMax/ArgMin.
 */
export function generate(seed, {maxOps = 6} = {}) {
  const rng = new Rng(seed);
  const opset = rng.pick([11, 13, 13, 14, 15, 16, 17, 17, 18, 18, 19, 20, 20, 21]);
  const dims = inputShape(rng);
  // Symbolic dims: the first (batch) and sometimes one more; the graph runs
  // at two concrete values of each.
  const decl = [...dims];
  const configs = [{}];
  if (rng.chance(0.35)) {
    const syms = [0];
    if (dims.length > 1 && rng.chance(0.3)) syms.push(rng.int(1, dims.length - 1));
    configs.push({});
    syms.forEach((i, j) => {
      const name = ['N', 'S'][j];
      decl[i] = name;
      const a = rng.int(1, 4);
      let b = rng.int(1, 5);
      if (b === a) b = a + 1;
      configs[0][name] = a;
      configs[1][name] = b;
    });
  }
  const g = new Graph(opset, configs);
  let cur = g.addInput('float', decl);
  const nOps = rng.int(2, maxOps);
  let picked = 0;
  g.genErrors = [];
  for (let tries = 0; picked < nOps && tries < 200; ++tries) {
    const f = rng.weighted(MENU);
    const save = snapshot(g);
    let y = null;
    try {
      y = f(g, rng, cur);
    } catch (e) {
      // A generator bug: drop the op, but keep it visible (--verbose).
      g.genErrors.push(String(e && e.stack || e));
      y = null;
    }
    if (!y || g.elements(y) > MAX_ELEMENTS || g.configs.some((_, k) => g.shapes(y)[k].length > 6)) {
      restore(g, save);
      continue;
    }
    ++picked;
    cur = y;
  }
  if (rng.chance(0.08)) {
    const save = snapshot(g);
    const y = rng.weighted(FINAL)(g, rng, cur);
    if (y) cur = y; else restore(g, save);
  }
  g.outputs.push(cur);
  // Sometimes an intermediate result is an output too: a second use.
  const mids = g.nodes.slice(0, -1).flatMap((n) => n.outputs)
      .filter((t) => !g.outputs.includes(t) && g.dtype(t) !== 'bool');
  if (mids.length && rng.chance(0.25)) g.outputs.push(rng.pick(mids));
  g.outputs = [...new Set(g.outputs)];
  return g;
}

function snapshot(g) {
  return {inputs: g.inputs.length, inits: g.inits.length, nodes: g.nodes.length,
          outputs: g.outputs.length, info: new Map(g.info), counter: g.counter,
          values: g.inits.map((c) => c.values)};
}
function restore(g, s) {
  g.inputs.length = s.inputs;
  g.inits.length = s.inits;
  g.inits.forEach((c, i) => { c.values = s.values[i]; });
  g.nodes.length = s.nodes;
  g.outputs.length = s.outputs;
  g.info = s.info;
  g.counter = s.counter;
}

/** Random values for each graph input in config k (deterministic). */
export function makeInputs(g, seed, k) {
  const rng = new Rng((seed * 7919 + 104729 * (k + 1)) >>> 0);
  const out = {};
  for (const inp of g.inputs) {
    const shape = g.shapes(inp.name)[k];
    const n = prod(shape);
    if (inp.dtype === 'float') {
      const scale = rng.chance(0.2) ? 3 : 1;
      const data = new Float32Array(n);
      for (let i = 0; i < n; ++i) data[i] = rng.uniform(-scale, scale);
      out[inp.name] = {dtype: 'float32', shape, data};
    } else if (inp.dtype === 'double') {
      const data = new Float64Array(n);
      for (let i = 0; i < n; ++i) data[i] = rng.uniform(-1, 1);
      out[inp.name] = {dtype: 'float64', shape, data};
    } else if (inp.dtype === 'bool') {
      const data = new Uint8Array(n);
      for (let i = 0; i < n; ++i) data[i] = rng.chance(0.5) ? 1 : 0;
      out[inp.name] = {dtype: 'bool', shape, data};
    } else if (inp.dtype === 'int64') {
      const data = new BigInt64Array(n);
      for (let i = 0; i < n; ++i) data[i] = BigInt(rng.int(-3, 3));
      out[inp.name] = {dtype: 'int64', shape, data};
    } else {
      throw new Error(`no input generator for ${inp.dtype}`);
    }
  }
  return out;
}
