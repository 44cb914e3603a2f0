// Tests of npy.mjs: node --test utils/ort/npy.test.mjs (no onnxruntime needed).

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import test from 'node:test';
import {fileURLToPath} from 'node:url';

import {formatNpy, NpyError, parseNpy, SUPPORTED_DTYPES} from './npy.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const models = path.join(here, '..', '..', 'test', 'Import', 'Inputs', 'models');

function header(text, version = 1) {
  const prefix = version === 1 ? 10 : 12;
  const pad = (64 - ((prefix + text.length + 1) % 64)) % 64;
  const h = text + ' '.repeat(pad) + '\n';
  const head = Buffer.alloc(prefix);
  Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]).copy(head);
  head[6] = version;
  if (version === 1) head.writeUInt16LE(h.length, 8);
  else head.writeUInt32LE(h.length, 8);
  return Buffer.concat([head, Buffer.from(h, 'latin1')]);
}

test('numpy-written files round-trip byte for byte', () => {
  const files = fs.readdirSync(models).filter((f) => f.endsWith('.npy'));
  assert.ok(files.length > 0);
  for (const f of files) {
    const bytes = fs.readFileSync(path.join(models, f));
    const a = parseNpy(bytes, f);
    assert.ok(['int64', 'float32'].includes(a.dtype), f);
    assert.ok(formatNpy(a).equals(bytes), f);
  }
});

test('every dtype round-trips, including 0-d and 1-d shapes', () => {
  for (const dtype of SUPPORTED_DTYPES) {
    for (const shape of [[], [3], [2, 3], [0, 4]]) {
      const count = shape.reduce((a, b) => a * b, 1);
      const bytes = new Uint8Array(count * (dtype.match(/\d+/) ?
                                                Number(dtype.match(/\d+/)) / 8 :
                                                1));
      for (let i = 0; i < bytes.length; ++i) bytes[i] = dtype === 'bool' ? 1 : i;
      const {data} = parseNpy(
          formatNpy({dtype, shape, data: bytes}), 'x');  // via raw bytes
      const again = parseNpy(formatNpy({dtype, shape, data}), 'y');
      assert.equal(again.dtype, dtype);
      assert.deepEqual(again.shape, shape);
      assert.deepEqual(new Uint8Array(again.data.buffer), bytes);
    }
  }
});

test('header text of 1-d and 0-d arrays matches numpy', () => {
  const one = formatNpy({dtype: 'float32', shape: [5], data: new Float32Array(5)});
  assert.match(one.toString('latin1', 10, 80),
               /^\{'descr': '<f4', 'fortran_order': False, 'shape': \(5,\), \}/);
  const zero = formatNpy({dtype: 'int64', shape: [], data: new BigInt64Array(1)});
  assert.match(zero.toString('latin1', 10, 80), /'shape': \(\), \}/);
  assert.equal((one.length - 20) % 64, 0);  // data aligned to 64
});

test('version 2.0 headers are read', () => {
  const data = Buffer.from(new Float32Array([1, 2]).buffer);
  const bytes = Buffer.concat([
    header("{'descr': '<f4', 'fortran_order': False, 'shape': (2,), }", 2), data]);
  const a = parseNpy(bytes, 'v2');
  assert.deepEqual(Array.from(a.data), [1, 2]);
});

test('clear errors', () => {
  const f4 = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
  const bad = [
    [Buffer.from('hello world!'), /bad magic/],
    [Buffer.concat([header("{'descr': '<f4', 'fortran_order': True, 'shape': (2, 2), }"), f4]),
     /Fortran-order arrays are not supported/],
    [Buffer.concat([header("{'descr': '>f4', 'fortran_order': False, 'shape': (4,), }"), f4]),
     /big-endian/],
    [Buffer.concat([header("{'descr': '<c8', 'fortran_order': False, 'shape': (2,), }"), f4]),
     /unsupported dtype '<c8'/],
    [Buffer.concat([header("{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (4,), }"), f4]),
     /structured/],
    [Buffer.concat([header("{'descr': '<f4', 'fortran_order': False, 'shape': (5,), }"), f4]),
     /truncated data/],
    [Buffer.concat([header("{'descr': '<f4', 'fortran_order': False, 'shape': (3,), }"), f4]),
     /unexpected bytes/],
  ];
  for (const [bytes, re] of bad) {
    assert.throws(() => parseNpy(bytes, 'f.npy'),
                  (e) => e instanceof NpyError && re.test(e.message) &&
                      e.message.startsWith('f.npy: '));
  }
});
