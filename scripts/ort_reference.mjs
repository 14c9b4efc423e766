// node scripts/ort_reference.mjs MODULES MODEL.onnx INPUT.npy OUTPUT.npy
// Writes a seeded uniform [-1, 1) input for the model's one input and ONNX
// Runtime's output for it: the reference outputs of the generated models of
// scripts/bench-families.sh.
import { createRequire } from 'module';
import fs from 'fs';
import path from 'path';

const [modules, model, inputPath, outputPath] = process.argv.slice(2);
const ort = createRequire(path.join(modules, 'noop.js'))('onnxruntime-node');

function writeNpy(file, shape, data) {
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape.join(', ')}${shape.length === 1 ? ',' : ''}), }`;
  header += ' '.repeat((64 - ((10 + header.length + 1) % 64)) % 64) + '\n';
  const magic = Buffer.alloc(10);
  magic.write('\x93NUMPY', 0, 'latin1');
  magic[6] = 1;
  magic.writeUInt16LE(header.length, 8);
  fs.writeFileSync(file, Buffer.concat([magic, Buffer.from(header, 'latin1'), Buffer.from(data.buffer, data.byteOffset, data.byteLength)]));
}

const session = await ort.InferenceSession.create(model);
// A 224x224 RGB image, unless the model's shape is written beside it (MODEL.shape).
const shapeFile = model.replace(/\.onnx$/, '.shape');
const shape = fs.existsSync(shapeFile) ? fs.readFileSync(shapeFile, 'utf8').trim().split(/\s+/).map(Number) : [1, 3, 224, 224];
let seed = 12345;
const x = new Float32Array(shape.reduce((a, b) => a * b));
for (let i = 0; i < x.length; ++i) {
  seed = (seed * 1103515245 + 12345) % 2147483648;
  x[i] = (seed / 2147483648) * 2 - 1;
}
writeNpy(inputPath, shape, x);
const out = (await session.run({ [session.inputNames[0]]: new ort.Tensor('float32', x, shape) }))[session.outputNames[0]];
writeNpy(outputPath, out.dims, out.data);
