#!/usr/bin/env node
// ort-eval.mjs - `qrun eval`'s suite scoring done by ONNX Runtime
// (onnxruntime-node, CPU): the side-by-side baseline of bench/eval_speed.sh.
//
//   node utils/ort/ort-eval.mjs --baseline MODEL.onnx --candidate MODEL.onnx
//        --suites DIR [--limit N] [--threads N] [--batch B] [--workers W]
//        [--scores OUT]
//
// Does the work of `qrun eval --suites DIR` without the statistics: reads
// every DIR/*.jsonl in name order (the first N cases of each with --limit;
// "prompt"/"answer" strings as UTF-8 bytes, or "prompt_ids"/"answer_ids"),
// sorts each suite's cases by length (prompt + answer - 1 tokens, ties in
// file order), runs them in batches exactly as qrun eval forms them (at most
// B rows, and beyond one row at most 1024 padded tokens; rows right-padded
// with token 0), runs the baseline and the candidate model on every batch and
// scores every case from the logits at its answer positions: answer tokens
// that are their position's argmax (both models), positions where the two
// argmaxes agree, and the sum of KL(baseline || candidate) of the next-token
// distributions (log-softmax in double with the maximum subtracted).
//
// Prints one line of JSON: {"threads", "batch", "cases", "tokens" (fed per
// model), "load_ms" (both sessions), "read_ms", "score_ms" (running and
// scoring), "suites": {name: {"n", "exact": [b, c], "answer_tokens",
// "correct": [b, c], "agreed", "kld"}}}. --scores OUT writes one line per
// case, {"suite", "line", "tokens", "correct": [b, c], "agreed", "kld"},
// in suite and file order.
//
// Session options as ort-run.mjs: CPU, intra-op threads N (default: number
// of cores), inter-op threads 1, sequential execution, all optimizations.
// --workers W (default 1) runs W batches at once instead, each in its own
// worker thread with its own two sessions of N / W intra-op threads (as
// `qrun eval --workers`; onnxruntime-node's run() blocks its thread, so
// concurrency needs threads), longest batches first.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {performance} from 'node:perf_hooks';
import {isMainThread, parentPort, Worker, workerData} from 'node:worker_threads';

const USAGE = `usage: node utils/ort/ort-eval.mjs --baseline MODEL.onnx --candidate MODEL.onnx
         --suites DIR [--limit N] [--threads N] [--batch B] [--workers W]
         [--scores OUT]`;
// qrun eval's kMaxBatchTokens (include/qopt/Runner/Eval.h).
const MAX_BATCH_TOKENS = 1024;

class UsageError extends Error {}

function parseArgs(argv) {
  const args = {
    baseline: null,
    candidate: null,
    suites: null,
    limit: 0,
    threads: os.availableParallelism ? os.availableParallelism() :
                                       os.cpus().length,
    batch: 8,
    workers: 1,
    scores: null,
  };
  const count = (flag, text, min) => {
    if (!/^\d+$/.test(text ?? '') || Number(text) < min) {
      throw new UsageError(`${flag} needs an integer >= ${min}, got '${
          text ?? ''}'`);
    }
    return Number(text);
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
      case '--baseline': args.baseline = next(); break;
      case '--candidate': args.candidate = next(); break;
      case '--suites': args.suites = next(); break;
      case '--scores': args.scores = next(); break;
      case '--limit': args.limit = count('--limit', next(), 1); break;
      case '--threads': args.threads = count('--threads', next(), 1); break;
      case '--batch': args.batch = count('--batch', next(), 1); break;
      case '--workers': args.workers = count('--workers', next(), 1); break;
      default:
        throw new UsageError(`unknown argument '${arg}'`);
    }
  }
  for (const flag of ['baseline', 'candidate', 'suites'])
    if (!args[flag]) throw new UsageError(`--${flag} is required`);
  return args;
}

function readSuites(dir, limit) {
  const names = fs.readdirSync(dir).filter((n) => n.endsWith('.jsonl')).sort();
  if (!names.length) throw new Error(`no suites (*.jsonl) in '${dir}'`);
  const encoder = new TextEncoder();
  return names.map((name) => {
    const cases = [];
    const lines = fs.readFileSync(path.join(dir, name), 'utf8').split('\n');
    lines.forEach((line, index) => {
      if (!line.trim() || (limit && cases.length >= limit)) return;
      const c = JSON.parse(line);
      const ids = (text, list) =>
          list !== undefined ? list.map(Number) : Array.from(encoder.encode(text));
      cases.push({
        line: index + 1,
        prompt: ids(c.prompt, c.prompt_ids),
        answer: ids(c.answer, c.answer_ids),
      });
    });
    return {name: name.slice(0, -'.jsonl'.length), cases};
  });
}

// log(sum(exp(x))) over `vocab` floats at `at`, in double, maximum first.
function logSumExp(data, at, vocab) {
  let max = -Infinity;
  for (let k = 0; k < vocab; ++k) max = Math.max(max, data[at + k]);
  if (!Number.isFinite(max)) return NaN;
  let sum = 0;
  for (let k = 0; k < vocab; ++k) sum += Math.exp(data[at + k] - max);
  return max + Math.log(sum);
}

function argmax(data, at, vocab) {
  let best = 0;
  let bestValue = -Infinity;
  for (let k = 0; k < vocab; ++k) {
    if (data[at + k] > bestValue) {
      bestValue = data[at + k];
      best = k;
    }
  }
  return best;
}

function klDivergence(p, pAt, q, qAt, vocab) {
  const normP = logSumExp(p, pAt, vocab);
  const normQ = logSumExp(q, qAt, vocab);
  if (Number.isNaN(normP) || Number.isNaN(normQ)) return NaN;
  let sum = 0;
  for (let k = 0; k < vocab; ++k) {
    const logP = p[pAt + k] - normP;
    const prob = Math.exp(logP);
    if (prob === 0) continue;
    sum += prob * (logP - (q[qAt + k] - normQ));
  }
  return sum;
}

async function loadOrt() {
  try {
    return (await import('onnxruntime-node')).default;
  } catch (e) {
    throw new Error(`cannot load onnxruntime-node (${
        e.message.split('\n')[0]}); install it with: source scripts/lib.sh && ensure_ort`);
  }
}

function sessionOptions(threads) {
  return {
    executionProviders: ['cpu'],
    intraOpNumThreads: threads,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
}

// Runs one batch through both sessions and scores its rows. `rows`: per row
// {promptLength, answer}; `ids`: the padded token ids [rows.length, cols].
async function runBatch(ort, sessions, ids, cols, rows) {
  const logits = [];
  for (const session of sessions) {
    const feeds = {
      [session.inputNames[0]]: new ort.Tensor('int64', ids, [rows.length, cols]),
    };
    const out = await session.run(feeds);
    logits.push(out[session.outputNames[0]]);
  }
  const vocab = Number(logits[0].dims[2]);
  const [p, q] = logits.map((t) => t.data);
  return rows.map((c, r) => {
    const score = {tokens: c.answer.length, correct: [0, 0], agreed: 0, kld: 0};
    let position = c.promptLength - 1;
    for (let i = 0; i < c.answer.length; ++i, ++position) {
      const at = (r * cols + position) * vocab;
      const b = argmax(p, at, vocab);
      const k = argmax(q, at, vocab);
      score.correct[0] += b === c.answer[i];
      score.correct[1] += k === c.answer[i];
      score.agreed += b === k;
      score.kld += klDivergence(p, at, q, at, vocab);
    }
    return score;
  });
}

// A worker thread: its own sessions; scores the batches it is sent.
async function workerMain() {
  const ort = await loadOrt();
  const {baseline, candidate, threads} = workerData;
  const sessions = [
    await ort.InferenceSession.create(baseline, sessionOptions(threads)),
    await ort.InferenceSession.create(candidate, sessionOptions(threads)),
  ];
  parentPort.on('message', async (job) => {
    if (job.stop) {
      for (const session of sessions) await session.release();
      parentPort.close();
      return;
    }
    const scores = await runBatch(ort, sessions, job.ids, job.cols, job.rows);
    parentPort.postMessage({id: job.id, scores});
  });
  parentPort.postMessage({ready: true});
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const ort = await loadOrt();
  const t0 = performance.now();
  const suites = readSuites(args.suites, args.limit);
  const readMs = performance.now() - t0;

  // Every batch of every suite, formed as qrun eval forms them.
  const batches = [];
  for (const [index, suite] of suites.entries()) {
    const n = suite.cases.length;
    const length = (c) => c.prompt.length + c.answer.length - 1;
    const order = [...Array(n).keys()].sort((a, b) =>
        length(suite.cases[a]) - length(suite.cases[b]) || a - b);
    suite.scores = new Array(n);
    for (let first = 0; first < n;) {
      let last = first + 1;
      while (last < n && last - first < args.batch &&
             (last - first + 1) * length(suite.cases[order[last]]) <=
                 MAX_BATCH_TOKENS)
        ++last;
      const members = order.slice(first, last);
      const cols = length(suite.cases[order[last - 1]]);
      const ids = new BigInt64Array(members.length * cols);
      members.forEach((i, r) => {
        const c = suite.cases[i];
        const seq = c.prompt.concat(c.answer.slice(0, -1));
        for (let t = 0; t < seq.length; ++t) ids[r * cols + t] = BigInt(seq[t]);
      });
      batches.push({
        suite: index, members, cols, ids,
        rows: members.map((i) => ({
          promptLength: suite.cases[i].prompt.length,
          answer: suite.cases[i].answer,
        })),
      });
      first = last;
    }
  }
  const fed = batches.reduce((sum, b) => sum + b.members.length * b.cols, 0);
  const store = (batch, scores) => {
    batch.members.forEach((i, r) => { suites[batch.suite].scores[i] = scores[r]; });
  };

  let loadMs, scoreMs;
  if (args.workers === 1) {
    const t1 = performance.now();
    const sessions = [
      await ort.InferenceSession.create(args.baseline, sessionOptions(args.threads)),
      await ort.InferenceSession.create(args.candidate, sessionOptions(args.threads)),
    ];
    loadMs = performance.now() - t1;
    const t2 = performance.now();
    for (const batch of batches)
      store(batch, await runBatch(ort, sessions, batch.ids, batch.cols, batch.rows));
    scoreMs = performance.now() - t2;
    for (const session of sessions) await session.release();
  } else {
    const t1 = performance.now();
    const threads = Math.max(1, Math.floor(args.threads / args.workers));
    const workers = await Promise.all([...Array(args.workers)].map(() =>
        new Promise((resolve, reject) => {
          const worker = new Worker(new URL(import.meta.url), {
            workerData: {baseline: args.baseline, candidate: args.candidate, threads},
          });
          worker.once('message', () => resolve(worker));
          worker.once('error', reject);
        })));
    loadMs = performance.now() - t1;
    const t2 = performance.now();
    const queue = [...batches.keys()].sort((a, b) =>
        batches[b].cols - batches[a].cols || a - b);
    await Promise.all(workers.map((worker) => new Promise((resolve, reject) => {
      const next = () => {
        if (!queue.length) {
          worker.postMessage({stop: true});
          resolve();
          return;
        }
        const id = queue.shift();
        const {ids, cols, rows} = batches[id];
        worker.postMessage({id, ids, cols, rows});
      };
      worker.on('message', (reply) => {
        store(batches[reply.id], reply.scores);
        next();
      });
      worker.once('error', reject);
      next();
    })));
    scoreMs = performance.now() - t2;
  }

  let cases = 0;
  const summary = {};
  const scoreLines = [];
  for (const suite of suites) {
    const s = {n: suite.cases.length, exact: [0, 0], answer_tokens: 0,
               correct: [0, 0], agreed: 0, kld: 0};
    suite.cases.forEach((c, i) => {
      const score = suite.scores[i];
      for (const side of [0, 1]) {
        s.exact[side] += score.correct[side] === score.tokens;
        s.correct[side] += score.correct[side];
      }
      s.answer_tokens += score.tokens;
      s.agreed += score.agreed;
      s.kld += score.kld;
      if (args.scores)
        scoreLines.push(JSON.stringify({suite: suite.name, line: c.line, ...score}));
    });
    summary[suite.name] = s;
    cases += s.n;
  }
  if (args.scores) fs.writeFileSync(args.scores, scoreLines.join('\n') + '\n');
  const round = (x) => Math.round(x * 1000) / 1000;
  process.stdout.write(JSON.stringify({
    threads: args.threads, batch: args.batch, workers: args.workers, cases,
    tokens: fed, load_ms: round(loadMs), read_ms: round(readMs),
    score_ms: round(scoreMs), suites: summary,
  }) + '\n');
}

(isMainThread ? main() : workerMain()).catch((e) => {
  const msg = (e && e.message ? e.message : String(e)).trim();
  process.stderr.write(`ort-eval: error: ${msg}\n`);
  if (e instanceof UsageError) process.stderr.write(USAGE + '\n');
  process.exitCode = 1;
});
