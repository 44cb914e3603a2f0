// npy.mjs - a small reader/writer for NumPy .npy files (format 1.0, 2.0, 3.0).
//
// Little-endian C-order arrays only. dtypes: <f4 <f8 <f2 <i8 <i4 <i2 |i1
// <u8 <u4 <u2 |u1 |b1 (for one-byte types any byte-order mark is accepted).
// An array is {dtype, shape, data}: dtype is the ONNX Runtime type name
// ('float32', 'int64', 'bool', ...), shape an array of numbers, data a typed
// array (BigInt64Array/BigUint64Array for 64-bit integers, Uint16Array
// holding the bits for float16, Uint8Array for bool).
//
// Errors are thrown as NpyError with a message that names the file.

import fs from 'node:fs';

export class NpyError extends Error {}

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]); // \x93NUMPY

// descr kind+size -> [dtype name, typed array constructor]
const KINDS = {
  f4: ['float32', Float32Array],
  f8: ['float64', Float64Array],
  f2: ['float16', Uint16Array],
  i8: ['int64', BigInt64Array],
  i4: ['int32', Int32Array],
  i2: ['int16', Int16Array],
  i1: ['int8', Int8Array],
  u8: ['uint64', BigUint64Array],
  u4: ['uint32', Uint32Array],
  u2: ['uint16', Uint16Array],
  u1: ['uint8', Uint8Array],
  b1: ['bool', Uint8Array],
};

const DESCR = {};  // dtype name -> descr string written
for (const [code, [name]] of Object.entries(KINDS)) {
  DESCR[name] = (code.endsWith('1') ? '|' : '<') + code;
}

export const SUPPORTED_DTYPES = Object.keys(DESCR);

/** Typed array constructor for a dtype name. */
export function arrayType(dtype) {
  for (const [name, ctor] of Object.values(KINDS)) {
    if (name === dtype) return ctor;
  }
  throw new NpyError(`unsupported dtype '${dtype}'`);
}

function parseHeader(text, where) {
  // The header is a Python dict literal, e.g.
  // {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
  const descr = /['"]descr['"]\s*:\s*['"]([^'"]*)['"]/.exec(text);
  const fortran = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(text);
  const shape = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(text);
  if (!descr) {
    if (/['"]descr['"]\s*:\s*\[/.test(text)) {
      throw new NpyError(`${where}: structured dtypes are not supported`);
    }
    throw new NpyError(`${where}: header has no 'descr': ${text.trim()}`);
  }
  if (!fortran || !shape) {
    throw new NpyError(`${where}: malformed header: ${text.trim()}`);
  }
  if (fortran[1] === 'True') {
    throw new NpyError(
        `${where}: Fortran-order arrays are not supported; save a C-order ` +
        `array (numpy.ascontiguousarray)`);
  }
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s);
  const parsed = dims.map((d) => {
    const v = d.replace(/L$/, '');
    if (!/^\d+$/.test(v)) {
      throw new NpyError(`${where}: bad dimension '${d}' in shape`);
    }
    return Number(v);
  });
  return {descr: descr[1], shape: parsed};
}

function decodeDescr(descr, where) {
  const m = /^([<>|=]?)([fiub])(\d+)$/.exec(descr);
  const kind = m && KINDS[m[2] + m[3]];
  if (!kind) {
    throw new NpyError(
        `${where}: unsupported dtype '${descr}' (supported: ` +
        `${Object.values(DESCR).join(' ')})`);
  }
  const size = Number(m[3]);
  if (size > 1 && m[1] === '>') {
    throw new NpyError(`${where}: big-endian dtype '${descr}' is not ` +
                       `supported; save a little-endian array`);
  }
  return kind;
}

/** Parses .npy bytes (a Buffer or Uint8Array). */
export function parseNpy(bytes, where = '<buffer>') {
  const buf = Buffer.isBuffer(bytes) ?
      bytes :
      Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) {
    throw new NpyError(`${where}: not a .npy file (bad magic)`);
  }
  const major = buf[6];
  let headerLen;
  let start;
  if (major === 1) {
    headerLen = buf.readUInt16LE(8);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new NpyError(`${where}: truncated header`);
    headerLen = buf.readUInt32LE(8);
    start = 12;
  } else {
    throw new NpyError(`${where}: unsupported .npy version ${major}.${buf[7]}`);
  }
  if (start + headerLen > buf.length) {
    throw new NpyError(`${where}: truncated header`);
  }
  const text = buf.toString(major === 3 ? 'utf8' : 'latin1', start,
                            start + headerLen);
  const {descr, shape} = parseHeader(text, where);
  const [dtype, Ctor] = decodeDescr(descr, where);
  const count = shape.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  const nbytes = count * Ctor.BYTES_PER_ELEMENT;
  if (buf.length - offset < nbytes) {
    throw new NpyError(
        `${where}: truncated data: shape [${shape}] of ${dtype} needs ` +
        `${nbytes} bytes, the file has ${buf.length - offset}`);
  }
  if (buf.length - offset > nbytes) {
    throw new NpyError(`${where}: ${buf.length - offset - nbytes} unexpected ` +
                       `bytes after the data`);
  }
  // Copy into a fresh, aligned ArrayBuffer.
  const ab = new ArrayBuffer(nbytes);
  new Uint8Array(ab).set(buf.subarray(offset, offset + nbytes));
  const data = new Ctor(ab);
  if (dtype === 'bool') {
    for (let i = 0; i < data.length; ++i) {
      if (data[i] > 1) {
        throw new NpyError(`${where}: bool array holds value ${data[i]}`);
      }
    }
  }
  return {dtype, shape, data};
}

/** Reads a .npy file. */
export function readNpy(path) {
  let bytes;
  try {
    bytes = fs.readFileSync(path);
  } catch (e) {
    throw new NpyError(`cannot read '${path}': ${e.message}`);
  }
  return parseNpy(bytes, path);
}

/** Serializes {dtype, shape, data} as .npy bytes (version 1.0, or 2.0 if the
 * header needs it). `data` may be any typed array of the right byte size. */
export function formatNpy({dtype, shape, data}) {
  const descr = DESCR[dtype];
  if (!descr) throw new NpyError(`cannot write dtype '${dtype}' to .npy`);
  const Ctor = arrayType(dtype);
  const count = shape.reduce((a, b) => a * b, 1);
  if (data.byteLength !== count * Ctor.BYTES_PER_ELEMENT) {
    throw new NpyError(`data has ${data.byteLength} bytes, shape [${shape}] ` +
                       `of ${dtype} needs ${count * Ctor.BYTES_PER_ELEMENT}`);
  }
  const shapeText = shape.length === 1 ? `(${shape[0]},)` :
                                         `(${shape.join(', ')})`;
  let header =
      `{'descr': '${descr}', 'fortran_order': False, 'shape': ${shapeText}, }`;
  let version = 1;
  let prefix = 10;
  // Pad with spaces + '\n' so that the data starts at a multiple of 64.
  let total = prefix + header.length + 1;
  if (total + ((64 - (total % 64)) % 64) - prefix > 0xffff) {
    version = 2;
    prefix = 12;
    total = prefix + header.length + 1;
  }
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const head = Buffer.alloc(prefix);
  MAGIC.copy(head, 0);
  head[6] = version;
  head[7] = 0;
  if (version === 1) {
    head.writeUInt16LE(header.length, 8);
  } else {
    head.writeUInt32LE(header.length, 8);
  }
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  return Buffer.concat([head, Buffer.from(header, 'latin1'), body]);
}

/** Writes a .npy file. */
export function writeNpy(path, array) {
  try {
    fs.writeFileSync(path, formatNpy(array));
  } catch (e) {
    if (e instanceof NpyError) throw new NpyError(`${path}: ${e.message}`);
    throw new NpyError(`cannot write '${path}': ${e.message}`);
  }
}
