// Runs the wasm runner of a modelc artifact (runner.wasm, see
// modelc_runner.c) under node's WASI:
//
//   node modelc_wasi_runner.mjs runner.wasm [runner arguments...]
//
// The runner reads and writes files by absolute path, so the file system's
// root is opened to it. Its exit code is this process's.
import { readFile } from 'node:fs/promises';
import { WASI } from 'node:wasi';
import process from 'node:process';

// node prints an ExperimentalWarning for WASI on stderr; the runner's own
// messages are what a user needs there.
process.removeAllListeners('warning');
process.on('warning', (w) => { if (w.name !== 'ExperimentalWarning') console.warn(w); });

const [module, ...args] = process.argv.slice(2);
const wasi = new WASI({ version: 'preview1', args: [module, ...args], env: {}, preopens: { '/': '/' }, returnOnExit: true });
const wasm = await WebAssembly.compile(await readFile(module));
const instance = await WebAssembly.instantiate(wasm, wasi.getImportObject());
process.exitCode = wasi.start(instance);
