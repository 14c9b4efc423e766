#!/usr/bin/env node
// ONNX Runtime (CPU, via onnxruntime-node) as a baseline for modelc reports:
// a small server that holds one InferenceSession and runs it on request, so
// that reports/onnxruntime_session.cpp can interleave its timed runs with
// modelc's (reports/rounds.h) instead of timing it alone in one process call.
//
//   node ort_bench.js --model M.onnx --input X.npy [--threads 1] [--modules DIR/node_modules]
//   node ort_bench.js --one-op [--threads 1] [--modules DIR/node_modules]
//   node ort_bench.js --model M.onnx --input X.npy --profile PREFIX ...
//
// --one-op builds, in memory, a model of one Add of a 1-element float32
// tensor to itself (the ONNX bytes are written below, field by field): timing
// it gives the fixed cost of one call through this binding, which a small
// model's figure must be read against.
//
// It prints one JSON line when the session is ready, then answers each
// command read from stdin with one JSON line:
//   (start)        {"status":"ready","version":"1.30.0","input_name":..,"output_name":..}
//                  {"status":"unavailable","note":..}   onnxruntime-node cannot be loaded (then exits)
//                  {"status":"failed","note":..}        the model or the input was refused (then exits)
//   run N          {"status":"ok","samples_ms":[..N run times..]}   each run timed with process.hrtime
//   output PATH    {"status":"ok","output_name":..}      the first output of the last run, as float32 .npy
//   profile        {"status":"ok","file":..}   with --profile: ends ONNX Runtime's own profiler (every
//                  run so far, a "Node" event per node and run) and names the JSON file it wrote
//   quit (or EOF)  exits
// A command that fails answers {"status":"failed","note":..} and the server
// keeps going. --modules names the node_modules folder holding
// onnxruntime-node (default: $MODELC_CACHE/node_modules, else
// ~/.cache/modelc/node_modules, else Node's own module resolution).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const readline = require('readline');

const INSTALL_HINT = 'install it with scripts/install-onnxruntime.sh';

function emit(object) {
  process.stdout.write(JSON.stringify(object) + '\n');
}

function parseArguments(argv) {
  const options = {model: null, input: null, threads: 1, modules: null, oneOp: false, profile: null};
  for (let i = 0; i < argv.length; ++i) {
    const flag = argv[i];
    if (flag === '--one-op') {
      options.oneOp = true;
      continue;
    }
    const value = argv[++i];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag === '--model') options.model = value;
    else if (flag === '--input') options.input = value;
    else if (flag === '--modules') options.modules = value;
    else if (flag === '--profile') options.profile = value;
    else if (flag === '--threads') {
      const number = Number(value);
      if (!Number.isInteger(number) || number < 1) throw new Error(`--threads expects an integer >= 1, got '${value}'`);
      options.threads = number;
    } else {
      throw new Error(`unknown argument '${flag}'`);
    }
  }
  if (!options.oneOp && (!options.model || !options.input)) throw new Error('--model and --input are required');
  return options;
}

// ---- .npy (float32, little-endian, C order) ---------------------------------

function readNpyFloat32(file) {
  const bytes = fs.readFileSync(file);
  if (bytes.length < 10 || bytes.readUInt8(0) !== 0x93 || bytes.toString('latin1', 1, 6) !== 'NUMPY') {
    throw new Error(`${file}: not a .npy file (bad magic)`);
  }
  const major = bytes.readUInt8(6);
  const headerLength = major === 1 ? bytes.readUInt16LE(8) : bytes.readUInt32LE(8);
  const headerStart = major === 1 ? 10 : 12;
  const header = bytes.toString('latin1', headerStart, headerStart + headerLength);
  const descr = /'descr'\s*:\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order'\s*:\s*(True|False)/.exec(header);
  const shape = /'shape'\s*:\s*\(([^)]*)\)/.exec(header);
  if (!descr || !fortran || !shape) throw new Error(`${file}: malformed .npy header`);
  if (descr[1] !== '<f4') throw new Error(`${file}: expected float32 ('<f4') data, found '${descr[1]}'`);
  if (fortran[1] === 'True') throw new Error(`${file}: Fortran-ordered arrays are not supported`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const count = dims.reduce((a, b) => a * b, 1);
  const dataStart = headerStart + headerLength;
  if (bytes.length - dataStart !== count * 4) {
    throw new Error(`${file}: shape (${dims.join(', ')}) needs ${count * 4} bytes, found ${bytes.length - dataStart}`);
  }
  // Copy into a fresh, aligned buffer.
  const data = new Float32Array(count);
  Buffer.from(data.buffer).set(bytes.subarray(dataStart));
  return {dims, data};
}

function writeNpyFloat32(file, dims, data) {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const prefix = Buffer.alloc(10);
  prefix.writeUInt8(0x93, 0);
  prefix.write('NUMPY', 1, 'latin1');
  prefix.writeUInt8(1, 6);
  prefix.writeUInt8(0, 7);
  prefix.writeUInt16LE(header.length, 8);
  const payload = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  fs.writeFileSync(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), payload]));
}

// ---- the one-op model, in protobuf wire format (onnx/onnx.proto) ------------

function varint(n) {
  const bytes = [];
  while (n > 0x7f) {
    bytes.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  bytes.push(n);
  return Buffer.from(bytes);
}
const intField = (field, n) => Buffer.concat([varint(field << 3), varint(n)]);
const bytesField = (field, bytes) => Buffer.concat([varint((field << 3) | 2), varint(bytes.length), bytes]);
const stringField = (field, text) => bytesField(field, Buffer.from(text, 'utf8'));

// ValueInfoProto{name, type: TypeProto{tensor_type: {elem_type: FLOAT, shape: [1]}}}
function floatVectorOfOne(name) {
  const dimension = intField(1, 1);                        // Dimension.dim_value = 1
  const shape = bytesField(1, dimension);                  // TensorShapeProto.dim
  const tensor = Buffer.concat([intField(1, 1), bytesField(2, shape)]);  // elem_type FLOAT (1), shape
  const type = bytesField(1, tensor);                      // TypeProto.tensor_type
  return Buffer.concat([stringField(1, name), bytesField(2, type)]);
}

function oneOpModel() {
  const node = Buffer.concat([stringField(1, 'x'), stringField(1, 'x'), stringField(2, 'y'), stringField(3, 'add'),
                              stringField(4, 'Add')]);
  const graph = Buffer.concat([bytesField(1, node), stringField(2, 'one_op'), bytesField(11, floatVectorOfOne('x')),
                               bytesField(12, floatVectorOfOne('y'))]);
  const opset = Buffer.concat([stringField(1, ''), intField(2, 13)]);
  const model = Buffer.concat([intField(1, 8), stringField(2, 'modelc ort_bench.js'), bytesField(7, graph),
                               bytesField(8, opset)]);
  return new Uint8Array(model.buffer, model.byteOffset, model.byteLength);
}

// ---- the server ------------------------------------------------------------

function loadOnnxRuntime(modules) {
  const candidates = [];
  if (modules) candidates.push(path.join(modules, 'onnxruntime-node'));
  const cache = process.env.MODELC_CACHE || path.join(os.homedir(), '.cache', 'modelc');
  candidates.push(path.join(cache, 'node_modules', 'onnxruntime-node'));
  candidates.push('onnxruntime-node');
  const failures = [];
  for (const candidate of candidates) {
    try {
      return require(candidate);
    } catch (error) {
      failures.push(`${candidate}: ${error.message.split('\n')[0]}`);
    }
  }
  return {failures};
}

function firstLine(error) {
  return String(error && error.message ? error.message : error).split('\n')[0];
}

async function serve(session, feeds, options, commands) {
  let outputs = null;
  for await (const line of commands) {
    const words = line.trim().split(/\s+/);
    try {
      if (words[0] === 'run') {
        const count = Number(words[1]);
        if (!Number.isInteger(count) || count < 0) throw new Error(`'run' expects a count, got '${words[1]}'`);
        const samples = new Array(count);
        for (let i = 0; i < count; ++i) {
          const before = process.hrtime.bigint();
          outputs = await session.run(feeds);
          samples[i] = Number(process.hrtime.bigint() - before) / 1e6;
        }
        emit({status: 'ok', samples_ms: samples});
      } else if (words[0] === 'output') {
        const file = line.trim().slice('output'.length).trim();
        if (!file) throw new Error("'output' expects a file name");
        if (!outputs) outputs = await session.run(feeds);
        const name = session.outputNames[0];
        const first = outputs[name];
        if (first.type !== 'float32') throw new Error(`output '${name}' is ${first.type}, not float32`);
        writeNpyFloat32(file, first.dims, first.data);
        emit({status: 'ok', output_name: name});
      } else if (words[0] === 'profile') {
        if (typeof session.endProfiling !== 'function') throw new Error('this onnxruntime-node cannot end its profiler');
        session.endProfiling();
        // The binding returns nothing: the file is PREFIX_<date>_<time>.json, the newest such.
        const dir = path.dirname(options.profile), stem = path.basename(options.profile) + '_';
        const written = fs.readdirSync(dir).filter((f) => f.startsWith(stem) && f.endsWith('.json'))
                            .map((f) => path.join(dir, f))
                            .sort((x, y) => fs.statSync(y).mtimeMs - fs.statSync(x).mtimeMs);
        if (written.length === 0) throw new Error(`no profile written under ${options.profile}_*.json`);
        emit({status: 'ok', file: written[0]});
      } else if (words[0] === 'quit') {
        return;
      } else if (words[0] !== '') {
        throw new Error(`unknown command '${words[0]}' (expected run, output, profile or quit)`);
      }
    } catch (error) {
      emit({status: 'failed', note: `onnxruntime: ${firstLine(error)}`});
    }
  }
}

async function main() {
  let options;
  try {
    options = parseArguments(process.argv.slice(2));
  } catch (error) {
    emit({status: 'failed', note: `ort_bench.js: ${error.message}`});
    return 2;
  }

  const ort = loadOnnxRuntime(options.modules);
  if (ort.failures) {
    emit({status: 'unavailable', note: `onnxruntime-node not found (${ort.failures.join('; ')}); ${INSTALL_HINT}`});
    return 0;
  }

  let session, feeds;
  try {
    const sessionOptions = {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
    };
    if (options.profile) Object.assign(sessionOptions, {enableProfiling: true, profileFilePrefix: options.profile});
    session = await ort.InferenceSession.create(options.oneOp ? oneOpModel() : options.model, sessionOptions);
    if (session.inputNames.length !== 1) {
      throw new Error(`the model has ${session.inputNames.length} inputs; ort_bench.js feeds exactly one`);
    }
    const input = options.oneOp ? {dims: [1], data: new Float32Array([1])} : readNpyFloat32(options.input);
    feeds = {[session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims)};
  } catch (error) {
    emit({status: 'failed', note: `onnxruntime: ${firstLine(error)}`});
    return 1;
  }

  emit({
    status: 'ready',
    version: ort.env.versions.node || ort.env.versions.common || '',
    threads: options.threads,
    input_name: session.inputNames[0],
    output_name: session.outputNames[0],
  });
  await serve(session, feeds, options, readline.createInterface({input: process.stdin, terminal: false}));
  return 0;
}

main().then((code) => { process.exitCode = code; });
