#!/usr/bin/env node
// difftest.mjs - differential testing of qopt against ONNX Runtime on random
// small ONNX graphs (gen.mjs).
//
//   node utils/difftest/difftest.mjs [--seeds A:B | --seed-base S --count N]
//        [--time SECONDS] [--bin DIR | --compile P --qrun P --text2pb P]
//        [--variants random|all|default] [--findings DIR] [--minimize]
//        [--xfail SEED,...] [--verbose] [--stats]
//   node utils/difftest/difftest.mjs --print SEED
//
// For each seed: generate a graph, write it as ONNX text, turn it into a
// model (onnx-text2pb), run ONNX Runtime (onnxruntime-node, CPU, 1 thread,
// in process) and qopt (qopt-compile, then qrun run --threads 1) on the same
// random inputs at every config (two concrete shapes when the graph has
// symbolic dims), and compare every output. qopt runs under the variants
// asked for: `default`, and with --variants=random one more drawn from
// -O0, --ukernels=false, --vectorize=false and, for graphs with symbolic
// dims, static shapes (--input-shape); --variants=all runs them all.
//
// Tolerance: ONNX's backend-test one (rtol 1e-3, atol 1e-7, as in
// bench/onnx_conformance.sh and qrun conformance), with atol raised to
// 1e-5 x max|ORT output|: the graphs are chains of reductions whose
// summation order differs between the two (an element that cancels to
// near 0 carries an absolute error of the size of its terms).
// Integer outputs must be equal, NaN must meet NaN, infinities must match.
//
// What a seed can end as:
//   pass       every output agrees under every variant
//   MISMATCH   a value, shape or dtype differs          -> a finding
//   CRASH      qopt-compile or qrun died on a signal    -> a finding
//   RUNERROR   qrun failed where ORT ran                -> a finding
//   reject     qopt-compile refused the graph with a diagnostic (exit 1),
//              or qrun refused the inputs' shapes at run time as "not
//              supported" or, in a graph where a symbolic dim broadcasts
//              from 1, as not what the compiled code assumed: counted and
//              listed by reason, not a finding
//   GENERR     onnx-text2pb or ORT refused the graph, or ORT's output shape
//              is not the generator's: a bug in gen.mjs, fails the run
// A finding is saved to the findings dir (graph text, model, inputs, both
// outputs, a README with the commands that reproduce it) and printed as
// one line. --minimize shrinks it to the smallest window of consecutive
// nodes that still fails (the tensors it reads become graph inputs). Seeds
// given with --xfail are known findings: they print XFAIL and do not fail
// the run; one that passes prints XPASS and does.
//
// Exit status: 0 if nothing but pass/reject/XFAIL, 1 otherwise.

import {spawnSync} from 'node:child_process';
import fs from 'node:fs';
import {createRequire} from 'node:module';
import os from 'node:os';
import path from 'node:path';
import {fileURLToPath} from 'node:url';

import {readNpy, writeNpy} from '../ort/npy.mjs';
import {generate, makeInputs, Rng} from './gen.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');

const USAGE = `usage: node utils/difftest/difftest.mjs [--seeds A:B | --seed-base S --count N]
       [--time SECONDS] [--bin DIR | --compile P --qrun P --text2pb P]
       [--variants random|all|default] [--findings DIR] [--minimize]
       [--xfail SEED,...] [--verbose] [--stats]
   or: node utils/difftest/difftest.mjs --print SEED`;

function parseArgs(argv) {
  const a = {
    seeds: null, seedBase: 0, count: null, time: null, bin: path.join(root, 'build', 'bin'),
    compile: null, qrun: null, text2pb: null, variants: 'random',
    findings: path.join(os.tmpdir(), 'qopt-difftest-findings'), minimize: false,
    xfail: new Set(), verbose: false, stats: false, print: null, keep: false,
    rtol: 1e-3, atol: 1e-7, scaleAtol: 1e-5, timeout: 120,
  };
  for (let i = 0; i < argv.length; ++i) {
    let arg = argv[i];
    let value;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    if (eq > 0) {
      value = arg.slice(eq + 1);
      arg = arg.slice(0, eq);
    }
    const next = () => {
      if (value !== undefined) return value;
      if (i + 1 >= argv.length) usage(`${arg} needs a value`);
      return argv[++i];
    };
    const int = () => {
      const v = next();
      if (!/^-?\d+$/.test(v)) usage(`${arg} needs an integer, got '${v}'`);
      return Number(v);
    };
    switch (arg) {
      case '--seeds': {
        const m = /^(\d+):(\d+)$/.exec(next());
        if (!m) usage('--seeds needs A:B (A inclusive, B exclusive)');
        a.seeds = [Number(m[1]), Number(m[2])];
        break;
      }
      case '--seed-base': a.seedBase = int(); break;
      case '--count': a.count = int(); break;
      case '--time': a.time = Number(next()); break;
      case '--bin': a.bin = next(); break;
      case '--compile': a.compile = next(); break;
      case '--qrun': a.qrun = next(); break;
      case '--text2pb': a.text2pb = next(); break;
      case '--variants': a.variants = next(); break;
      case '--findings': a.findings = next(); break;
      case '--minimize': a.minimize = true; break;
      case '--keep': a.keep = true; break;
      case '--xfail':
        for (const s of next().split(',').filter(Boolean)) a.xfail.add(Number(s));
        break;
      case '--verbose': case '-v': a.verbose = a.stats = true; break;
      case '--stats': a.stats = true; break;
      case '--print': a.print = int(); break;
      case '--rtol': a.rtol = Number(next()); break;
      case '--atol': a.atol = Number(next()); break;
      case '--scale-atol': a.scaleAtol = Number(next()); break;
      case '-h': case '--help':
        process.stdout.write(USAGE + '\n');
        process.exit(0);
        break;
      default: usage(`unknown argument '${arg}'`);
    }
  }
  if (!['random', 'all', 'default'].includes(a.variants)) usage('--variants: random, all or default');
  a.compile ??= path.join(a.bin, 'qopt-compile');
  a.qrun ??= path.join(a.bin, 'qrun');
  a.text2pb ??= path.join(a.bin, 'onnx-text2pb');
  if (a.seeds === null) {
    const count = a.count ?? (a.time ? Infinity : 100);
    a.seeds = [a.seedBase, a.seedBase + (Number.isFinite(count) ? count : 2 ** 31)];
  }
  return a;
}

function usage(msg) {
  process.stderr.write(`difftest: error: ${msg}\n${USAGE}\n`);
  process.exit(2);
}

// ---------------------------------------------------------------- tools

function run(cmd, args, timeout) {
  const r = spawnSync(cmd, args, {encoding: 'utf8', timeout: timeout * 1000,
                                  maxBuffer: 64 << 20});
  // A tool that vanished (a rebuild, a deleted snapshot) would make every
  // later graph look like a finding: stop instead.
  if (r.error && r.error.code === 'ENOENT') throw new Error(`cannot run '${cmd}': no such file`);
  return {status: r.status, signal: r.signal || (r.error && r.error.code === 'ETIMEDOUT' ? 'TIMEOUT' : null),
          out: (r.stdout || '') + (r.stderr || ''), error: r.error};
}

const VARIANTS = {
  'default': [],
  'O0': ['-O0'],
  'no-ukernels': ['--ukernels=false'],
  'no-vectorize': ['--vectorize=false'],
  'static': null,  // --input-shape per config, one artifact per config
};

function variantsFor(a, seed, g) {
  const dynamic = g.nc > 1;
  const extra = ['O0', 'no-ukernels', 'no-vectorize', ...(dynamic ? ['static'] : [])];
  if (a.variants === 'default') return ['default'];
  if (a.variants === 'all') return ['default', ...extra];
  return ['default', new Rng(seed ^ 0x5bd1e995).pick(extra)];
}

// ---------------------------------------------------------------- compare

const FLOATS = new Set(['float32', 'float64', 'float16']);

/** Compares qopt's output `got` with ORT's `want` ({dtype, shape, data}). */
function compare(got, want, a) {
  const fmt = (s) => `[${s.join(',')}]`;
  if (got.dtype !== want.dtype) return {ok: false, what: `dtype ${got.dtype}, ORT ${want.dtype}`};
  if (got.shape.length !== want.shape.length || got.shape.some((d, i) => d !== want.shape[i])) {
    return {ok: false, what: `shape ${fmt(got.shape)}, ORT ${fmt(want.shape)}`};
  }
  const isFloat = FLOATS.has(want.dtype);
  let scale = 0;
  for (let i = 0; i < want.data.length; ++i) {
    const b = Number(want.data[i]);
    if (Number.isFinite(b)) scale = Math.max(scale, Math.abs(b));
  }
  const atol = a.atol + a.scaleAtol * scale;
  let maxAbs = 0;
  let used = 0;  // the largest error as a fraction of its tolerance
  let bad = -1;
  let badCount = 0;
  for (let i = 0; i < want.data.length; ++i) {
    const x = Number(got.data[i]);
    const y = Number(want.data[i]);
    let ok;
    if (!isFloat) ok = got.data[i] === want.data[i];
    else if (Number.isNaN(y) || Number.isNaN(x)) ok = Number.isNaN(x) && Number.isNaN(y);
    else if (!Number.isFinite(y) || !Number.isFinite(x)) ok = x === y;
    else {
      const err = Math.abs(x - y);
      maxAbs = Math.max(maxAbs, err);
      const tol = atol + a.rtol * Math.abs(y);
      used = Math.max(used, tol ? err / tol : err ? Infinity : 0);
      ok = err <= tol;
    }
    if (!ok) {
      ++badCount;
      if (bad < 0) bad = i;
    }
  }
  const rel = scale ? maxAbs / scale : maxAbs;
  if (bad < 0) return {ok: true, maxAbs, rel, used};
  return {ok: false, maxAbs, rel,
          what: `${badCount} of ${want.data.length} elements differ (first: [${bad}] = ${
              Number(got.data[bad])}, ORT ${Number(want.data[bad])}); max abs err ${
              maxAbs.toPrecision(3)}, rel err ${rel.toPrecision(3)}`};
}

// ---------------------------------------------------------------- a case

/**
 * Runs graph `g` (generated from `seed`) in `dir`. Returns
 * {status: 'pass'|'reject'|'GENERR'|'MISMATCH'|'CRASH'|'RUNERROR', detail,
 *  variant, runs}.
 */
async function runCase(ort, a, g, seed, dir, variants) {
  fs.mkdirSync(dir, {recursive: true});
  const text = g.toText();
  fs.writeFileSync(path.join(dir, 'model.onnxtxt'), text);
  const model = path.join(dir, 'model.onnx');
  const t2p = run(a.text2pb, [path.join(dir, 'model.onnxtxt'), model], a.timeout);
  if (t2p.status !== 0) return {status: 'GENERR', detail: `onnx-text2pb: ${firstLine(t2p.out)}`};

  // ORT first: a graph it refuses is the generator's fault.
  const inputs = [];
  const want = [];
  let session;
  try {
    session = await ort.InferenceSession.create(model, {
      executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1,
      executionMode: 'sequential', graphOptimizationLevel: 'all'});
  } catch (e) {
    return {status: 'GENERR', detail: `ORT session: ${firstLine(e.message)}`};
  }
  try {
    for (let k = 0; k < g.nc; ++k) {
      const ins = makeInputs(g, seed, k);
      inputs.push(ins);
      fs.mkdirSync(path.join(dir, `in${k}`), {recursive: true});
      fs.mkdirSync(path.join(dir, `ort${k}`), {recursive: true});
      const feeds = {};
      for (const [name, t] of Object.entries(ins)) {
        feeds[name] = new ort.Tensor(t.dtype, t.data, t.shape);
        writeNpy(path.join(dir, `in${k}`, `${name}.npy`), t);
      }
      let res;
      try {
        res = await session.run(feeds);
      } catch (e) {
        return {status: 'GENERR', detail: `ORT run (config ${k}): ${firstLine(e.message)}`};
      }
      const outs = {};
      for (const name of g.outputs) {
        const t = res[name];
        const shape = Array.from(t.dims);
        const expect = g.shapes(name)[k];
        if (shape.length !== expect.length || shape.some((d, i) => d !== expect[i])) {
          return {status: 'GENERR', detail: `output ${name} (config ${k}): ORT shape [${shape}], generator [${expect}]`};
        }
        outs[name] = {dtype: t.type, shape, data: t.data};
        writeNpy(path.join(dir, `ort${k}`, `${name}.npy`), outs[name]);
      }
      want.push(outs);
    }
  } finally {
    await session.release();
  }

  let runs = 0;
  let rejected = null;
  let used = 0;
  for (const v of variants) {
    const artifacts = [];
    if (v === 'static') {
      for (let k = 0; k < g.nc; ++k) {
        const flags = g.inputs.map((i) => `--input-shape=${i.name}=${shapeArg(g.shapes(i.name)[k])}`);
        artifacts.push({flags, so: path.join(dir, `${v}${k}.so`), configs: [k]});
      }
    } else {
      artifacts.push({flags: VARIANTS[v], so: path.join(dir, `${v}.so`), configs: [...Array(g.nc).keys()]});
    }
    for (const art of artifacts) {
      const c = run(a.compile, [model, '-o', art.so, ...art.flags], a.timeout);
      const compileCmd = ['qopt-compile', 'model.onnx', '-o', path.basename(art.so), ...art.flags].join(' ');
      if (c.signal || (c.status !== 0 && c.status !== 1)) {
        return {status: 'CRASH', variant: v, detail: `${compileCmd}: ${c.signal || 'exit ' + c.status}: ${firstLine(c.out)}`, runs};
      }
      if (c.status === 1) {
        rejected ??= {status: 'reject', variant: v, detail: reason(c.out)};
        continue;
      }
      // One thread, and for the default variant two as well: the parallel
      // loops split their ranges differently.
      const threads = v === 'default' ? [1, 2] : [1];
      for (const k of art.configs) for (const th of threads) {
        const outDir = path.join(dir, `${v}-t${th}-out${k}`);
        const r = run(a.qrun, ['run', art.so, '--threads', String(th), '--output-dir', outDir,
                               ...g.inputs.map((i) => `--input=${i.name}=${path.join(dir, `in${k}`, `${i.name}.npy`)}`)],
                      a.timeout);
        ++runs;
        if (r.signal || (r.status !== 0 && r.status !== 1)) {
          return {status: 'CRASH', variant: v, config: k, detail: `qrun run --threads ${th} (${compileCmd}, config ${k}): ${r.signal || 'exit ' + r.status}: ${firstLine(r.out)}`, runs};
        }
        if (r.status !== 0 && (/not supported/.test(r.out) ||
                               (g.dynamicBroadcast && /assumed/.test(r.out)))) {
          // A symbolic dim broadcast from 1, refused at run time with a
          // message: a limitation, like a compile-time refusal, not a
          // wrong answer.
          rejected ??= {status: 'reject', variant: v, detail: `at run time: ${reason(r.out)}`};
          continue;
        }
        if (r.status !== 0) {
          return {status: 'RUNERROR', variant: v, config: k, detail: `qrun run --threads ${th} (${compileCmd}, config ${k}): ${firstLine(r.out)}`, runs};
        }
        for (const name of g.outputs) {
          let got;
          try {
            got = readNpy(path.join(outDir, `${name}.npy`));
          } catch (e) {
            return {status: 'RUNERROR', variant: v, config: k, detail: `no output ${name}: ${e.message}`, runs};
          }
          const cmp = compare(got, want[k][name], a);
          if (!cmp.ok) {
            return {status: 'MISMATCH', variant: v, config: k, output: name, rel: cmp.rel,
                    detail: `${name} (${v}, --threads ${th}, config ${k}): ${cmp.what}`, runs};
          }
          used = Math.max(used, cmp.used);
        }
      }
    }
  }
  return rejected ? {...rejected, runs, used} : {status: 'pass', runs, used};
}

const shapeArg = (s) => (s.length ? s.join('x') : 'scalar');
const firstLine = (s) => (s || '').trim().split('\n').find((l) => /error|Error|fail|abort|Assert/.test(l)) ||
                         (s || '').trim().split('\n')[0] || '';
/** A diagnostic without its location and numbers, for grouping. */
function reason(out) {
  const line = (out || '').split('\n').find((l) => /error:/.test(l)) || firstLine(out);
  return line.replace(/^.*?error:\s*/, '').trim();
}

const FINDING = new Set(['MISMATCH', 'CRASH', 'RUNERROR']);

/** Smallest window of consecutive nodes of `g` that still fails like `res`. */
async function minimize(ort, a, g, seed, dir, res) {
  const n = g.nodes.length;
  for (let len = 1; len <= n; ++len) {
    for (let from = 0; from + len <= n; ++from) {
      const to = from + len - 1;
      if (from === 0 && to === n - 1) return null;
      const sub = g.window(from, to);
      if (sub.outputs.some((o) => sub.dtype(o) === 'bool')) continue;
      // ONNX text cannot declare a rank-0 input.
      if (sub.inputs.some((i) => !i.dims.length)) continue;
      const d = path.join(dir, `min-${from}-${to}`);
      const r = await runCase(ort, a, sub, seed, d, [res.variant]);
      if (r.status === res.status) return {g: sub, res: r, dir: d};
      fs.rmSync(d, {recursive: true, force: true});
    }
  }
  return null;
}

function writeReadme(dir, seed, res, g) {
  const v = res.variant;
  const k = res.config ?? 0;
  const ins = g.inputs.map((i) => `--input ${i.name}=in${k}/${i.name}.npy`).join(' ');
  const flags = v === 'static'
      ? g.inputs.map((i) => `--input-shape=${i.name}=${shapeArg(g.shapes(i.name)[k])}`).join(' ')
      : (VARIANTS[v] || []).join(' ');
  const lines = [
    `seed ${seed}: ${res.status}: ${res.detail}`,
    `ops: ${g.nodes.map((x) => x.op).join(' ')}`,
    '',
    'reproduce (from this directory, build/bin and utils/ort on PATH):',
    `  onnx-text2pb model.onnxtxt model.onnx`,
    `  qopt-compile model.onnx -o m.so ${flags}`,
    `  qrun run m.so ${ins} --output-dir q`,
    `  node utils/ort/ort-run.mjs model.onnx ${ins} --output-dir o --threads 1`,
    `  python3 utils/compare-npy.py q/<output>.npy o/<output>.npy`,
    '',
    `in<k>/: inputs of config k; ort<k>/: ORT's outputs; <variant>-t<threads>-out<k>/: qopt's.`,
  ];
  fs.writeFileSync(path.join(dir, 'README'), lines.join('\n') + '\n');
}

// ---------------------------------------------------------------- main

async function loadOrt() {
  const require = createRequire(path.join(root, 'utils', 'ort', 'package.json'));
  try {
    return require('onnxruntime-node');
  } catch (e) {
    throw new Error(`cannot load onnxruntime-node (${e.message.split('\n')[0]}); ` +
                    'install it with: source scripts/lib.sh && ensure_ort');
  }
}

async function main() {
  const a = parseArgs(process.argv.slice(2));
  if (a.print !== null) {
    const g = generate(a.print);
    process.stdout.write(g.toText());
    for (const e of g.genErrors) process.stderr.write(`generator error: ${e}\n`);
    return 0;
  }
  for (const tool of [a.compile, a.qrun, a.text2pb]) {
    if (!fs.existsSync(tool)) usage(`no such tool '${tool}' (build it, or pass --bin)`);
  }
  const ort = await loadOrt();
  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'qopt-difftest-'));
  const t0 = Date.now();
  const counts = {pass: 0, reject: 0, GENERR: 0, MISMATCH: 0, CRASH: 0, RUNERROR: 0, XFAIL: 0, XPASS: 0};
  const rejects = new Map();
  const opsSeen = new Map();
  let graphs = 0;
  let runs = 0;
  let nodes = 0;
  let symbolic = 0;
  let genErrors = 0;
  let closest = {used: 0, seed: null};
  const [first, last] = a.seeds;
  for (let seed = first; seed < last; ++seed) {
    if (a.time && (Date.now() - t0) / 1000 >= a.time) break;
    const g = generate(seed);
    genErrors += g.genErrors.length;
    if (a.verbose) for (const e of g.genErrors) console.log(`seed ${seed}: generator exception: ${e.split('\n')[0]}`);
    ++graphs;
    nodes += g.nodes.length;
    if (g.nc > 1) ++symbolic;
    for (const n of g.nodes) opsSeen.set(n.op, (opsSeen.get(n.op) || 0) + 1);
    for (const c of g.inits) if (c.asNode) opsSeen.set('Constant', (opsSeen.get('Constant') || 0) + 1);
    const dir = path.join(work, `seed-${seed}`);
    const variants = variantsFor(a, seed, g);
    const res = await runCase(ort, a, g, seed, dir, variants);
    runs += res.runs || 0;
    if ((res.used || 0) > closest.used) closest = {used: res.used, seed};
    const ops = g.nodes.map((x) => x.op).join(',');
    let status = res.status;
    if (a.xfail.has(seed)) status = FINDING.has(status) ? 'XFAIL' : 'XPASS';
    ++counts[status];
    if (status === 'reject') {
      const key = res.detail.replace(/'[^']*'/g, "'…'").replace(/\d+/g, '#');
      if (!rejects.has(key)) rejects.set(key, []);
      rejects.get(key).push(seed);
    }
    if (FINDING.has(res.status) || status === 'GENERR') {
      const dest = path.join(a.findings, `seed-${seed}`);
      fs.rmSync(dest, {recursive: true, force: true});
      fs.mkdirSync(a.findings, {recursive: true});
      fs.cpSync(dir, dest, {recursive: true});
      writeReadme(dest, seed, res, g);
      let line = `${status} seed=${seed} ${res.detail} ops=${ops} -> ${dest}`;
      if (a.minimize && FINDING.has(res.status)) {
        const m = await minimize(ort, a, g, seed, dir, res);
        if (m) {
          const mdest = path.join(dest, 'min');
          fs.cpSync(m.dir, mdest, {recursive: true});
          writeReadme(mdest, seed, m.res, m.g);
          line += ` (minimized: ${m.g.nodes.map((x) => x.op).join(',')} -> ${mdest})`;
        }
      }
      console.log(line);
    } else if (a.verbose || status === 'XPASS') {
      console.log(`${status} seed=${seed} opset=${g.opset} configs=${g.nc} variants=${variants.join('+')} ops=${ops}` +
                  (res.detail ? ` (${res.detail})` : ''));
    }
    if (!a.keep) fs.rmSync(dir, {recursive: true, force: true});
  }
  if (!a.keep) fs.rmSync(work, {recursive: true, force: true});
  const secs = ((Date.now() - t0) / 1000).toFixed(1);
  const findings = counts.MISMATCH + counts.CRASH + counts.RUNERROR;
  console.log(`difftest: ${graphs} graphs (seeds ${first}..${first + graphs - 1}, ${nodes} nodes, ` +
              `${symbolic} with symbolic dims), ${runs} qopt runs, ${secs} s`);
  console.log(`difftest: ${counts.pass} pass, ${findings} findings (${counts.MISMATCH} mismatch, ` +
              `${counts.CRASH} crash, ${counts.RUNERROR} run error), ${counts.XFAIL} xfail, ` +
              `${counts.XPASS} xpass, ${counts.reject} rejected by qopt-compile, ${counts.GENERR} generator errors`);
  for (const [key, seeds] of rejects) {
    console.log(`  rejected (${seeds.length}): ${key} [seeds ${seeds.slice(0, 5).join(' ')}${seeds.length > 5 ? ' ...' : ''}]`);
  }
  if (a.stats) {
    console.log(`difftest: the closest agreement used ${closest.used.toPrecision(2)} of the tolerance (seed ${closest.seed})`);
    const ops = [...opsSeen.entries()].sort((x, y) => y[1] - x[1]);
    console.log(`difftest: ${ops.length} op types: ${ops.map(([o, c]) => `${o} ${c}`).join(', ')}`);
    if (genErrors) console.log(`difftest: ${genErrors} generator exceptions (ops dropped)`);
  }
  if (findings || counts.GENERR) console.log(`difftest: findings in ${a.findings}`);
  return findings + counts.GENERR + counts.XPASS ? 1 : 0;
}

main().then((code) => { process.exitCode = code; }, (e) => {
  process.stderr.write(`difftest: error: ${e && e.stack || e}\n`);
  process.exitCode = 2;
});
