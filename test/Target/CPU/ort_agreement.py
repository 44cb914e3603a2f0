#!/usr/bin/env python3
"""Compiles the test models with qopt-compile, runs them with qrun and with
ONNX Runtime (utils/ort/ort-run.mjs) on the same ids, and compares.

Prints '<model> <shape>: match|MISMATCH ...' per case and 'N of M agree';
exits 1 if any case disagrees.
"""
import argparse
import os
import shlex
import subprocess
import sys

MODELS = ['llama', 'qwen2', 'gpt2']


def run(cmd):
    out = subprocess.run(cmd, capture_output=True, text=True)
    if out.returncode:
        sys.exit(f'{" ".join(cmd)} failed:\n{out.stdout}{out.stderr}')
    return out.stdout


def main():
    p = argparse.ArgumentParser()
    for flag in ('--compile', '--qrun', '--ort', '--compare', '--dir',
                 '--models', '--shapes'):
        p.add_argument(flag, required=True)
    a = p.parse_args()
    shapes = a.shapes.split(',')
    agree = total = 0
    for model in MODELS:
        # One artifact with symbolic batch and sequence serves every shape.
        onnx = os.path.join(a.models, model + '.onnx')
        art = os.path.join(a.dir, model + '.so')
        run([a.compile, onnx, '-o', art])
        for shape in shapes:
            ids = os.path.join(a.dir, f'ids_{shape}.npy')
            ours = os.path.join(a.dir, f'{model}_{shape}_qopt')
            ref = os.path.join(a.dir, f'{model}_{shape}_ort')
            run([a.qrun, 'run', art, '--input', f'input_ids={ids}',
                 '--output-dir', ours])
            run(shlex.split(a.ort) + [onnx, '--input', f'input_ids={ids}',
                                      '--output-dir', ref, '--threads', '1'])
            cmp = subprocess.run(
                shlex.split(a.compare) + [os.path.join(ours, 'logits.npy'),
                                          os.path.join(ref, 'logits.npy')],
                capture_output=True, text=True)
            total += 1
            agree += cmp.returncode == 0
            print(f'{model} {shape}: {cmp.stdout.strip()}')
    print(f'{agree} of {total} agree')
    return 0 if agree == total else 1


if __name__ == '__main__':
    sys.exit(main())
