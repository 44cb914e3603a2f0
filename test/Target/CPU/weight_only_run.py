#!/usr/bin/env python3
"""Compiles each case of weight_only_ref.py with and without ukernels, runs
it with qrun and compares with the expected output. Exits 1 on a mismatch.

usage: weight_only_run.py QOPT_COMPILE QRUN DIR CASE...
"""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
compare = os.path.join(here, '..', '..', '..', 'utils', 'compare-npy.py')
compiler, qrun, out_dir = sys.argv[1:4]
status = 0
for case in sys.argv[4:]:
    for flag in ('--ukernels=true', '--ukernels=false'):
        base = os.path.join(out_dir, case + flag.split('=')[1])
        subprocess.run([compiler, os.path.join(out_dir, case + '.mlir'),
                        flag, '-o', base + '.so'], check=True)
        subprocess.run([qrun, 'run', base + '.so', '--input',
                        'input_0=' + os.path.join(out_dir, 'x.npy'),
                        '--output-dir', base], check=True,
                       stdout=subprocess.DEVNULL)
        result = subprocess.run(
            [sys.executable, compare, os.path.join(base, 'output_0.npy'),
             os.path.join(out_dir, case + '.expected.npy'),
             '--max-rel-err', '1e-5'], capture_output=True, text=True)
        print(f'{case} {flag}: {result.stdout.strip()}')
        status |= result.returncode
sys.exit(status)
