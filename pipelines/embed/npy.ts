// NumPy `.npy` files (format versions 1, 2 and 3): a magic string, a header that is a Python dict literal
// ({'descr': '<f4', 'fortran_order': False, 'shape': (rows, dim), }), then the raw array.
// Read here: 2-D float32/float64 arrays, either byte order, C or Fortran order.

export interface NpyMatrix {
  rows: number;
  dim: number;
  /** Row-major values as stored (float64 arrays stay float64 so the caller can check the range). */
  data: Float32Array | Float64Array;
  dtype: 'float32' | 'float64';
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // "\x93NUMPY"

/** Parses a `.npy` file's bytes; `source` names the file in errors. */
export function parseNpy(bytes: Uint8Array, source: string): NpyMatrix {
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) throw new Error(`${source}: not a .npy file (no "\\x93NUMPY" magic)`);
  const major = bytes[6];
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let headerLength: number;
  let headerStart: number;
  if (major === 1) {
    headerLength = view.getUint16(8, true);
    headerStart = 10;
  } else if (major === 2 || major === 3) {
    if (bytes.length < 12) throw new Error(`${source}: truncated .npy header`);
    headerLength = view.getUint32(8, true);
    headerStart = 12;
  } else {
    throw new Error(`${source}: .npy format version ${major}.${bytes[7]} is not supported (1, 2 or 3)`);
  }
  const dataStart = headerStart + headerLength;
  if (dataStart > bytes.length) throw new Error(`${source}: truncated .npy header`);
  const header = new TextDecoder(major === 3 ? 'utf-8' : 'latin1').decode(bytes.subarray(headerStart, dataStart));
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header)?.[1];
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape'\s*:\s*\(([^)]*)\)/.exec(header)?.[1];
  if (descr === undefined || fortran === undefined || shapeText === undefined) {
    throw new Error(`${source}: cannot read the .npy header ${JSON.stringify(header.trim())}`);
  }
  const shape = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  if (shape.length !== 2 || shape.some((s) => !Number.isInteger(s) || s < 0)) {
    throw new Error(`${source}: expected a 2-D array (items x dim), got shape (${shapeText.trim()})`);
  }
  const match = /^([<>|=])f([48])$/.exec(descr);
  if (!match) throw new Error(`${source}: dtype ${descr} is not supported (float32 "<f4" or float64 "<f8")`);
  const [rows, dim] = shape;
  const width = Number(match[2]);
  const little = match[1] !== '>';
  const count = rows * dim;
  if (bytes.length - dataStart < count * width) {
    throw new Error(`${source}: holds ${bytes.length - dataStart} data bytes, shape (${rows}, ${dim}) of ${descr} needs ${count * width}`);
  }
  const raw = width === 4 ? new Float32Array(count) : new Float64Array(count);
  for (let i = 0; i < count; i++) {
    raw[i] = width === 4 ? view.getFloat32(dataStart + 4 * i, little) : view.getFloat64(dataStart + 8 * i, little);
  }
  let data = raw;
  if (fortran === 'True') {
    data = width === 4 ? new Float32Array(count) : new Float64Array(count);
    for (let r = 0; r < rows; r++) for (let c = 0; c < dim; c++) data[r * dim + c] = raw[c * rows + r];
  }
  return { rows, dim, data, dtype: width === 4 ? 'float32' : 'float64' };
}

/** Serialises a row-major float32 matrix as a version 1.0 `.npy` (tests and exports). */
export function toNpy(data: Float32Array | Float64Array, rows: number, dim: number): Uint8Array {
  const descr = data instanceof Float32Array ? '<f4' : '<f8';
  let header = `{'descr': '${descr}', 'fortran_order': False, 'shape': (${rows}, ${dim}), }`;
  const total = 10 + header.length + 1;
  header += ' '.repeat((64 - (total % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), 10 + header.length);
  return out;
}
