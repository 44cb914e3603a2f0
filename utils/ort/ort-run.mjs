#!/usr/bin/env node
// ort-run.mjs - runs an ONNX model with ONNX Runtime (onnxruntime-node, CPU),
// the reference and baseline for qopt's tests and benchmarks.
//
//   node utils/ort/ort-run.mjs MODEL.onnx --input NAME=FILE.npy [...]
//        [--output-dir DIR] [--threads N]
//        [--bench [--warmup W] [--repeat R]]
//
// Run mode (default): runs the model once on the given inputs, writes every
// output as DIR/<output name>.npy when --output-dir is given (characters
// other than letters, digits, '.', '_' and '-' in the name become '_'), and
// prints a one-line JSON summary:
//   {"mode":"run","model":...,"threads":N,"load_ms":...,"run_ms":...,
//    "inputs":{name:{"dtype","shape"}},
//    "outputs":{name:{"dtype","shape","file"?,"min","max","mean",
//                     "nonfinite"}}}
// Bench mode (--bench): W untimed runs, then R timed runs; prints one line of
// JSON with "load_ms" (session creation), "median_ms", "min_ms", "mean_ms",
// "max_ms" and "times_ms". Outputs are written too if --output-dir is given.
//
// Session: CPU execution provider, intra-op threads N (default: number of
// cores), inter-op threads 1, sequential execution, all graph optimizations.
// Every input of the model must be given; dtypes, ranks and static
// dimensions are checked against the model. Errors: a message on stderr and
// exit status 1.
//
// Needs onnxruntime-node, installed by `ensure_ort` (scripts/lib.sh) into
// utils/ort/node_modules.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';

import {NpyError, readNpy, writeNpy} from './npy.mjs';

const USAGE = `usage: node utils/ort/ort-run.mjs MODEL.onnx --input NAME=FILE.npy [...]
         [--output-dir DIR] [--threads N] [--bench [--warmup W] [--repeat R]]`;

class UsageError extends Error {}

function parseCount(flag, text, min) {
  if (!/^\d+$/.test(text ?? '') || Number(text) < min) {
    throw new UsageError(`${flag} needs an integer >= ${min}, got '${
        text ?? ''}'`);
  }
  return Number(text);
}

function parseArgs(argv) {
  const args = {
    model: null,
    inputs: [],
    outputDir: null,
    threads: os.availableParallelism ? os.availableParallelism() :
                                       os.cpus().length,
    bench: false,
    warmup: 3,
    repeat: 10,
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
      if (i + 1 >= argv.length) throw new UsageError(`${arg} needs a value`);
      return argv[++i];
    };
    switch (arg) {
      case '-h':
      case '--help':
        process.stdout.write(USAGE + '\n');
        process.exit(0);
        break;
      case '--input': {
        const spec = next();
        const at = spec.indexOf('=');
        if (at <= 0 || at === spec.length - 1) {
          throw new UsageError(`--input needs NAME=FILE.npy, got '${spec}'`);
        }
        args.inputs.push({name: spec.slice(0, at), file: spec.slice(at + 1)});
        break;
      }
      case '--output-dir':
        args.outputDir = next();
        break;
      case '--threads':
        args.threads = parseCount('--threads', next(), 1);
        break;
      case '--bench':
        args.bench = true;
        break;
      case '--warmup':
        args.warmup = parseCount('--warmup', next(), 0);
        break;
      case '--repeat':
        args.repeat = parseCount('--repeat', next(), 1);
        break;
      default:
        if (arg.startsWith('-')) throw new UsageError(`unknown option '${arg}'`);
        if (args.model) {
          throw new UsageError(`unexpected argument '${arg}' (model is '${
              args.model}')`);
        }
        args.model = arg;
    }
  }
  if (!args.model) throw new UsageError('no model given');
  return args;
}

async function loadOrt() {
  try {
    return (await import('onnxruntime-node')).default;
  } catch (e) {
    throw new Error(
        `cannot load onnxruntime-node (${e.message.split('\n')[0]}); ` +
        `install it with: source scripts/lib.sh && ensure_ort`);
  }
}

function checkInputs(session, feeds) {
  const meta = new Map(
      (session.inputMetadata ?? []).map((m) => [m.name, m]));
  const expected = session.inputNames;
  for (const name of Object.keys(feeds)) {
    if (!expected.includes(name)) {
      throw new Error(`model has no input '${name}' (inputs: ${
          expected.join(', ')})`);
    }
  }
  const missing = expected.filter((n) => !(n in feeds));
  if (missing.length) {
    throw new Error(`missing input${missing.length > 1 ? 's' : ''}: ${
        missing.join(', ')} (give each as --input NAME=FILE.npy)`);
  }
  for (const [name, {dtype, shape}] of Object.entries(feeds)) {
    const m = meta.get(name);
    if (!m || !m.isTensor) continue;
    if (m.type !== dtype) {
      throw new Error(
          `input '${name}': model expects ${m.type}, the file holds ${dtype}`);
    }
    const want = m.shape;
    const fmt = (s) => `[${s.join(', ')}]`;
    if (want.length !== shape.length) {
      throw new Error(`input '${name}': model expects rank ${
          want.length} ${fmt(want)}, the file has shape ${fmt(shape)}`);
    }
    want.forEach((d, i) => {
      if (typeof d === 'number' && d !== shape[i]) {
        throw new Error(`input '${name}': dimension ${i} must be ${
            d} (model shape ${fmt(want)}), the file has shape ${fmt(shape)}`);
      }
    });
  }
}

// IEEE half-precision bits -> number.
function halfToNumber(h) {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 31) return mant ? NaN : sign * Infinity;
  return sign * (1024 + mant) * 2 ** (exp - 25);
}

function summarize(tensor) {
  const {type, dims, data} = tensor;
  const out = {dtype: type, shape: Array.from(dims)};
  if (type === 'string' || !data || data.length === 0) return out;
  const isFloat = ['float32', 'float64', 'float16'].includes(type);
  const f16Bits = type === 'float16' &&
      !(typeof globalThis.Float16Array === 'function' &&
        data instanceof globalThis.Float16Array);
  const value = f16Bits ? (i) => halfToNumber(data[i]) : (i) => Number(data[i]);
  let min = Infinity;
  let max = -Infinity;
  let sum = 0;
  let finite = 0;
  let nonfinite = 0;
  for (let i = 0; i < data.length; ++i) {
    const v = value(i);
    if (isFloat && !Number.isFinite(v)) {
      ++nonfinite;
      continue;
    }
    if (v < min) min = v;
    if (v > max) max = v;
    sum += v;
    ++finite;
  }
  if (finite) {
    out.min = min;
    out.max = max;
    out.mean = sum / finite;
  }
  if (isFloat) out.nonfinite = nonfinite;
  return out;
}

function safeName(name) {
  return name.replace(/[^A-Za-z0-9._-]/g, '_') || '_';
}

function writeOutputs(results, dir) {
  fs.mkdirSync(dir, {recursive: true});
  const files = {};
  for (const [name, t] of Object.entries(results)) {
    if (t.type === 'string') {
      throw new Error(`output '${name}' is a string tensor; cannot write .npy`);
    }
    const file = path.join(dir, safeName(name) + '.npy');
    writeNpy(file, {dtype: t.type, shape: Array.from(t.dims), data: t.data});
    files[name] = file;
  }
  return files;
}

const round = (x) => Math.round(x * 1000) / 1000;

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!fs.existsSync(args.model)) {
    throw new Error(`model file '${args.model}' does not exist`);
  }
  const ort = await loadOrt();

  // Inputs first: a bad input file fails before the (slow) session creation.
  const arrays = {};
  for (const {name, file} of args.inputs) {
    if (name in arrays) throw new UsageError(`input '${name}' given twice`);
    arrays[name] = readNpy(file);
  }

  const options = {
    executionProviders: ['cpu'],
    intraOpNumThreads: args.threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  const t0 = performance.now();
  const session = await ort.InferenceSession.create(args.model, options);
  const loadMs = performance.now() - t0;

  checkInputs(session, arrays);
  const feeds = {};
  for (const [name, a] of Object.entries(arrays)) {
    feeds[name] = new ort.Tensor(a.dtype, a.data, a.shape);
  }
  const inputs = Object.fromEntries(Object.entries(arrays).map(
      ([n, a]) => [n, {dtype: a.dtype, shape: a.shape}]));
  const summary = {
    mode: args.bench ? 'bench' : 'run',
    model: args.model,
    threads: args.threads,
    load_ms: round(loadMs),
    inputs,
  };

  let results;
  if (args.bench) {
    for (let i = 0; i < args.warmup; ++i) results = await session.run(feeds);
    const times = [];
    for (let i = 0; i < args.repeat; ++i) {
      const t = performance.now();
      results = await session.run(feeds);
      times.push(performance.now() - t);
    }
    const sorted = [...times].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = sorted.length % 2 ? sorted[mid] :
                                       (sorted[mid - 1] + sorted[mid]) / 2;
    Object.assign(summary, {
      warmup: args.warmup,
      repeat: args.repeat,
      median_ms: round(median),
      min_ms: round(sorted[0]),
      mean_ms: round(times.reduce((a, b) => a + b, 0) / times.length),
      max_ms: round(sorted[sorted.length - 1]),
      times_ms: times.map(round),
    });
  } else {
    const t = performance.now();
    results = await session.run(feeds);
    summary.run_ms = round(performance.now() - t);
  }

  const files = args.outputDir ? writeOutputs(results, args.outputDir) : {};
  summary.outputs = {};
  for (const name of session.outputNames) {
    const s = summarize(results[name]);
    if (files[name]) s.file = files[name];
    summary.outputs[name] = s;
  }
  await session.release();
  process.stdout.write(JSON.stringify(summary) + '\n');
}

main().catch((e) => {
  const msg = (e && e.message ? e.message : String(e)).trim();
  process.stderr.write(`ort-run: error: ${msg}\n`);
  if (e instanceof UsageError) process.stderr.write(USAGE + '\n');
  process.exitCode = 1;
});
