#!/usr/bin/env python3
"""Runs W8A8 artifacts of one model with qrun and compares their logits.

usage: w8a8_run.py QRUN DIR NAME INPUT.npy [--fp32-limit R]

DIR holds NAME.so (the int8 kernel path), NAME-ref.so (the same quantized
model with its int8 ops expanded to linalg before code generation: the
reference loops), NAME-loops.so (compiled with --ukernels=false: every
contraction as loops) and fp32.so. Prints one line per comparison and
exits 1 if one fails:

  * the kernel path against the reference, exactly (relative error 0),
    once per int8 implementation ($QRT_UK_S8_ISA) this machine can run;
    the others are reported as skipped;
  * the kernel path against the all-loops build: f32 contractions outside
    the int8 layers then sum in another order, and a last-bit difference
    can move an activation across a rounding boundary of the int8 grid,
    so within 1e-3 relative;
  * the kernel path against fp32: the quantization error, within
    --fp32-limit (default 0.1) relative to max |fp32 logit|.
"""
import argparse
import os
import re
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
compare = os.path.join(here, '..', '..', '..', 'utils', 'compare-npy.py')
ISAS = ['portable', 'avx2', 'avxvnni', 'avx512vnni', 'amx']

parser = argparse.ArgumentParser()
parser.add_argument('qrun')
parser.add_argument('dir')
parser.add_argument('name')
parser.add_argument('input')
parser.add_argument('--fp32-limit', type=float, default=0.1)
args = parser.parse_args()
tag = os.path.splitext(os.path.basename(args.input))[0]


def run(artifact, out, isa=None):
    """Runs an artifact; returns the logits path, or None when the machine
    cannot run the requested int8 implementation."""
    env = dict(os.environ)
    env.pop('QRT_UK_S8_ISA', None)
    if isa:
        env['QRT_UK_S8_ISA'] = isa
    out_dir = os.path.join(args.dir, out)
    result = subprocess.run(
        [args.qrun, 'run', os.path.join(args.dir, artifact), '--input',
         'input_ids=' + args.input, '--output-dir', out_dir],
        env=env, capture_output=True, text=True)
    if isa and result.returncode == 1 and 'cannot run' in result.stderr:
        return None
    if result.returncode != 0:
        sys.exit(f'{artifact} ({isa or "default"}) failed:\n{result.stderr}')
    return os.path.join(out_dir, 'logits.npy')


def check(label, actual, expected, limit):
    result = subprocess.run([sys.executable, compare, actual, expected,
                             '--max-rel-err', repr(limit)],
                            capture_output=True, text=True)
    line = result.stdout.strip()
    print(f'{args.name} {tag} {label}: {line}')
    return result.returncode


reference = run(args.name + '-ref.so', f'{args.name}-ref-{tag}')
status = 0
for isa in ISAS:
    logits = run(args.name + '.so', f'{args.name}-{isa}-{tag}', isa)
    if logits is None:
        print(f'{args.name} {tag} {isa}: skipped, this machine cannot run it')
        continue
    status |= check(f'{isa} vs reference', logits, reference, 0.0)
kernel = run(args.name + '.so', f'{args.name}-{tag}')
status |= check('vs all loops', kernel,
                run(args.name + '-loops.so', f'{args.name}-loops-{tag}'), 1e-3)
status |= check('vs fp32', kernel, run('fp32.so', f'fp32-{tag}'),
                args.fp32_limit)
sys.exit(status)
