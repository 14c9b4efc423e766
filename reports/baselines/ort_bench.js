#!/usr/bin/env node
// ONNX Runtime (CPU, via onnxruntime-node) as a baseline for modelc reports.
//
// Runs one .onnx model on one float32 .npy input the way reports/benchmark.cpp
// measures modelc artifacts: `warmup` untimed runs, then timed runs until both
// `repeats` runs and `min_seconds` have passed. Prints exactly one JSON line on
// stdout, so a caller (reports/onnxruntime_baseline.cpp) can parse it:
//   {"status":"ok","median_ms":..,"p90_ms":..,..,"samples_ms":[..],"output":"<npy>"}
//   {"status":"unavailable","note":"..."}   onnxruntime-node cannot be loaded
//   {"status":"failed","note":"..."}        the model or the input was refused
//
// Usage:
//   node ort_bench.js --model M.onnx --input X.npy [--output Y.npy] [--threads 1]
//       [--warmup 10] [--repeats 50] [--min-seconds 0.5] [--modules DIR/node_modules]
// --modules names the node_modules folder holding onnxruntime-node (default:
// $MODELC_CACHE/node_modules, else ~/.cache/modelc/node_modules, else Node's
// own module resolution).
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');

const INSTALL_HINT = 'install it with scripts/install-onnxruntime.sh';
const MAX_TIMED_RUNS = 100000;  // same cap as reports/benchmark.cpp

function emit(object) {
  process.stdout.write(JSON.stringify(object) + '\n');
}

function parseArguments(argv) {
  const options = {
    model: null, input: null, output: null, threads: 1, warmup: 10, repeats: 50,
    minSeconds: 0.5, modules: null,
  };
  const numeric = {'--threads': 'threads', '--warmup': 'warmup', '--repeats': 'repeats',
                   '--min-seconds': 'minSeconds'};
  const textual = {'--model': 'model', '--input': 'input', '--output': 'output',
                   '--modules': 'modules'};
  for (let i = 0; i < argv.length; i += 2) {
    const flag = argv[i];
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`${flag} needs a value`);
    if (flag in textual) {
      options[textual[flag]] = value;
    } else if (flag in numeric) {
      const number = Number(value);
      if (!Number.isFinite(number) || number < 0) throw new Error(`${flag} expects a number >= 0, got '${value}'`);
      options[numeric[flag]] = number;
    } else {
      throw new Error(`unknown argument '${flag}'`);
    }
  }
  if (!options.model || !options.input) throw new Error('--model and --input are required');
  if (!options.output) options.output = path.join(os.tmpdir(), `modelc-ort-output-${process.pid}.npy`);
  options.threads = Math.max(1, Math.floor(options.threads));
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

// ---- statistics (same definitions as reports/benchmark.cpp) -----------------

function percentile(sorted, p) {
  const rank = (p / 100) * (sorted.length - 1);
  const lower = Math.floor(rank);
  const upper = Math.min(lower + 1, sorted.length - 1);
  return sorted[lower] + (sorted[upper] - sorted[lower]) * (rank - lower);
}

function summarize(samples) {
  const sorted = [...samples].sort((a, b) => a - b);
  const mean = samples.reduce((a, b) => a + b, 0) / samples.length;
  const variance = samples.length > 1
    ? samples.reduce((a, b) => a + (b - mean) * (b - mean), 0) / (samples.length - 1) : 0;
  return {
    median_ms: percentile(sorted, 50), p90_ms: percentile(sorted, 90), p99_ms: percentile(sorted, 99),
    min_ms: sorted[0], max_ms: sorted[sorted.length - 1], mean_ms: mean, stddev_ms: Math.sqrt(variance),
    throughput_per_s: 1000 / mean,
  };
}

// ---- main --------------------------------------------------------------------

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

  try {
    const input = readNpyFloat32(options.input);
    const session = await ort.InferenceSession.create(options.model, {
      executionProviders: ['cpu'],
      intraOpNumThreads: options.threads,
      interOpNumThreads: 1,
      graphOptimizationLevel: 'all',
      executionMode: 'sequential',
    });
    if (session.inputNames.length !== 1) {
      throw new Error(`the model has ${session.inputNames.length} inputs; ort_bench.js feeds exactly one`);
    }
    const feeds = {[session.inputNames[0]]: new ort.Tensor('float32', input.data, input.dims)};

    let outputs;
    for (let i = 0; i < options.warmup; ++i) outputs = await session.run(feeds);

    const samples = [];
    const start = process.hrtime.bigint();
    const minNanoseconds = BigInt(Math.round(options.minSeconds * 1e9));
    const maxRuns = Math.max(options.repeats, MAX_TIMED_RUNS);
    while (samples.length < maxRuns) {
      const before = process.hrtime.bigint();
      outputs = await session.run(feeds);
      const after = process.hrtime.bigint();
      samples.push(Number(after - before) / 1e6);
      if (samples.length >= Math.max(options.repeats, 1) && after - start >= minNanoseconds) break;
    }

    const first = outputs[session.outputNames[0]];
    if (first.type !== 'float32') throw new Error(`output '${session.outputNames[0]}' is ${first.type}, not float32`);
    writeNpyFloat32(options.output, first.dims, first.data);

    emit({
      status: 'ok',
      ...summarize(samples),
      warmup: options.warmup,
      repeats: samples.length,
      threads: options.threads,
      version: ort.env.versions.node || ort.env.versions.common || '',
      input_name: session.inputNames[0],
      output_name: session.outputNames[0],
      output: options.output,
      samples_ms: samples,
    });
    return 0;
  } catch (error) {
    emit({status: 'failed', note: `onnxruntime: ${error.message.split('\n')[0]}`});
    return 1;
  }
}

main().then((code) => { process.exitCode = code; });
