/* The runner of a modelc artifact: a small program built for the artifact's
 * target (linked with its static library and the target's C library), so
 * that an artifact runs wherever its target runs: natively, under qemu-user,
 * under node's WASI, or on a GPU. modelc starts it as a child process.
 *
 *   runner [--threads N] [--warmup W] [--repeats R] [--min-ms T]
 *          --outputs DIR INPUT.npy...
 *
 * Reads one .npy per model input (in the model's input order; dtype and shape
 * must match), runs the model once and writes DIR/output_<i>.npy per output.
 * Then, with --repeats R > 0, runs W untimed and at least R timed runs (and
 * for at least T milliseconds, at most 100000 runs), and prints the timings as one
 * JSON line on stdout: {"threads": N, "samples_ms": [...]}. Errors go to
 * stderr with exit code 1 (2 for a wrong command line).
 *
 * The artifact's API table comes from MODELC_API, defined on the compiler's
 * command line as <prefix>_api. C99 with POSIX clocks. */
#define _POSIX_C_SOURCE 200809L

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "modelc.h"

#ifndef MODELC_API
#error "compile with -DMODELC_API=<prefix>_api"
#endif
extern const modelc_model_api* MODELC_API(void);

#define MAX_RUNS 100000

static void fail(const char* what, const char* detail) {
  fprintf(stderr, "runner: %s%s%s\n", what, detail ? ": " : "", detail ? detail : "");
  exit(1);
}

static const char* npy_descr(modelc_dtype dtype) {
  switch (dtype) {
    case MODELC_FLOAT32: return "<f4";
    case MODELC_FLOAT16: return "<f2";
    case MODELC_INT8: return "|i1";
    case MODELC_UINT8: return "|u1";
    case MODELC_INT32: return "<i4";
    case MODELC_INT64: return "<i8";
    case MODELC_BOOL: return "|b1";
    case MODELC_INT16: return "<i2";
    case MODELC_UINT16: return "<u2";
    case MODELC_UINT32: return "<u4";
    case MODELC_UINT64: return "<u8";
    case MODELC_BFLOAT16: break;
  }
  return NULL; /* bfloat16 has no .npy type */
}

static void* read_file(const char* path, size_t* size) {
  FILE* f = fopen(path, "rb");
  char* data = NULL;
  size_t capacity = 0, used = 0, n;
  if (!f) fail("cannot open", path);
  for (;;) {
    if (used == capacity) {
      capacity = capacity ? capacity * 2 : 1 << 16;
      data = (char*)realloc(data, capacity);
      if (!data) fail("out of memory reading", path);
    }
    n = fread(data + used, 1, capacity - used, f);
    used += n;
    if (n == 0) break;
  }
  fclose(f);
  *size = used;
  return data;
}

/* The value after 'key': in a .npy header dictionary, or NULL. */
static const char* header_value(const char* header, size_t length, const char* key) {
  const size_t k = strlen(key);
  size_t i;
  for (i = 0; i + k + 2 < length; ++i)
    if (header[i] == '\'' && strncmp(header + i + 1, key, k) == 0 && header[i + 1 + k] == '\'') {
      const char* p = header + i + k + 2;
      while (*p == ' ' || *p == ':') ++p;
      return p;
    }
  return NULL;
}

/* Checks the .npy file against the model's input and returns its data. */
static const void* npy_data(const char* path, const char* file, size_t size, const modelc_tensor_info* info) {
  size_t header_length, offset, d;
  const char *header, *descr, *order, *shape;
  char message[512];
  const char* want = npy_descr(info->dtype);
  if (size < 10 || memcmp(file, "\x93NUMPY", 6) != 0) fail("not a .npy file", path);
  if (file[6] == 1) {
    header_length = (size_t)(unsigned char)file[8] | (size_t)(unsigned char)file[9] << 8;
    offset = 10;
  } else {
    if (size < 12) fail("truncated .npy header", path);
    header_length = (size_t)(unsigned char)file[8] | (size_t)(unsigned char)file[9] << 8 |
                    (size_t)(unsigned char)file[10] << 16 | (size_t)(unsigned char)file[11] << 24;
    offset = 12;
  }
  if (offset + header_length > size) fail("truncated .npy header", path);
  header = file + offset;
  descr = header_value(header, header_length, "descr");
  order = header_value(header, header_length, "fortran_order");
  shape = header_value(header, header_length, "shape");
  if (!descr || !order || !shape) fail("a .npy header without descr, fortran_order or shape", path);
  if (!want || strncmp(descr + 1, want, 3) != 0 || descr[4] != '\'') {
    snprintf(message, sizeof message, "%s: input '%s' is %s, the file holds %.6s", path, info->name,
             want ? want : "bfloat16", descr);
    fail("wrong dtype", message);
  }
  if (strncmp(order, "False", 5) != 0) fail("Fortran-order arrays are not supported", path);
  if (*shape++ != '(') fail("bad shape in the .npy header", path);
  for (d = 0; d < (size_t)info->rank; ++d) {
    char* end;
    long long extent;
    while (*shape == ' ') ++shape;
    extent = strtoll(shape, &end, 10);
    if (end == shape || extent != info->shape[d]) {
      snprintf(message, sizeof message, "%s: dimension %d of input '%s' must be %lld", path, (int)d, info->name,
               (long long)info->shape[d]);
      fail("wrong shape", message);
    }
    shape = end;
    while (*shape == ' ' || *shape == ',') ++shape;
  }
  if (*shape != ')') {
    snprintf(message, sizeof message, "%s: input '%s' has rank %d", path, info->name, (int)info->rank);
    fail("wrong shape", message);
  }
  if (size - offset - header_length != info->bytes) fail("the data size differs from the shape's", path);
  return file + offset + header_length;
}

static void write_npy(const char* path, const modelc_tensor_info* info, const void* data) {
  char header[1024];
  int n, d;
  FILE* f;
  const char* descr = npy_descr(info->dtype);
  if (!descr) fail("bfloat16 outputs cannot be written as .npy", info->name);
  n = snprintf(header, sizeof header, "{'descr': '%s', 'fortran_order': False, 'shape': (", descr);
  for (d = 0; d < info->rank; ++d)
    n += snprintf(header + n, sizeof header - (size_t)n, "%lld%s", (long long)info->shape[d],
                  info->rank == 1 ? "," : d + 1 < info->rank ? ", " : "");
  n += snprintf(header + n, sizeof header - (size_t)n, "), }");
  /* Pad with spaces so that the data starts 64-byte aligned, then a newline. */
  while ((10 + n + 1) % 64 != 0) header[n++] = ' ';
  header[n++] = '\n';
  f = fopen(path, "wb");
  if (!f) fail("cannot write", path);
  fwrite("\x93NUMPY\x01\x00", 1, 8, f);
  fputc(n & 0xff, f);
  fputc((n >> 8) & 0xff, f);
  fwrite(header, 1, (size_t)n, f);
  if (fwrite(data, 1, info->bytes, f) != info->bytes || fclose(f) != 0) fail("cannot write", path);
}

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1e3 + (double)t.tv_nsec / 1e6;
}

static void run(const modelc_model_api* api, modelc_model* m, const modelc_buffer* in, const modelc_buffer* out) {
  if (api->run(m, in, api->num_inputs, out, api->num_outputs) != MODELC_OK) fail("the model failed", api->last_error(m));
}

static long number(const char* flag, const char* text) {
  char* end;
  long v = strtol(text ? text : "", &end, 10);
  if (!text || end == text || *end || v < 0) {
    fprintf(stderr, "runner: %s needs a number >= 0\n", flag);
    exit(2);
  }
  return v;
}

int main(int argc, char** argv) {
  const modelc_model_api* api = MODELC_API();
  const char* out_dir = NULL;
  const char* inputs[64];
  modelc_buffer in[64], out[64];
  long threads = 0, warmup = 0, repeats = 0;
  double min_seconds = 0;
  int num_inputs = 0, i;
  modelc_model* m;
  for (i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--threads") == 0) threads = number("--threads", argv[++i]);
    else if (strcmp(argv[i], "--warmup") == 0) warmup = number("--warmup", argv[++i]);
    else if (strcmp(argv[i], "--repeats") == 0) repeats = number("--repeats", argv[++i]);
    else if (strcmp(argv[i], "--min-ms") == 0) min_seconds = (double)number("--min-ms", argv[++i]) / 1e3;
    else if (strcmp(argv[i], "--outputs") == 0 && i + 1 < argc) out_dir = argv[++i];
    else if (argv[i][0] == '-' && argv[i][1] == '-') {
      fprintf(stderr, "runner: unknown option %s\n", argv[i]);
      return 2;
    } else if (num_inputs < 64) inputs[num_inputs++] = argv[i];
  }
  if (!out_dir || num_inputs != api->num_inputs || api->num_outputs > 64) {
    fprintf(stderr, "usage: %s [--threads N] [--warmup W] [--repeats R] [--min-ms T] --outputs DIR INPUT.npy x %d\n",
            argv[0], (int)api->num_inputs);
    return 2;
  }
  for (i = 0; i < api->num_inputs; ++i) {
    size_t size;
    const char* file = (const char*)read_file(inputs[i], &size);
    in[i].name = api->inputs[i].name;
    in[i].data = (void*)npy_data(inputs[i], file, size, &api->inputs[i]);
    in[i].bytes = api->inputs[i].bytes;
  }
  for (i = 0; i < api->num_outputs; ++i) {
    out[i].name = api->outputs[i].name;
    out[i].bytes = api->outputs[i].bytes;
    out[i].data = calloc(1, out[i].bytes ? out[i].bytes : 1);
    if (!out[i].data) fail("out of memory", api->outputs[i].name);
  }
  m = api->create((int32_t)threads);
  if (!m) fail("creating the model failed", "out of memory");
  run(api, m, in, out);
  for (i = 0; i < api->num_outputs; ++i) {
    char path[4096];
    snprintf(path, sizeof path, "%s/output_%d.npy", out_dir, i);
    write_npy(path, &api->outputs[i], out[i].data);
  }
  printf("{\"threads\": %ld, \"samples_ms\": [", threads);
  if (repeats > 0) {
    double start, elapsed_ms = 0;
    long done = 0;
    for (i = 0; i < warmup; ++i) run(api, m, in, out);
    while ((done < repeats || elapsed_ms < min_seconds * 1e3) && done < MAX_RUNS) {
      start = now_ms();
      run(api, m, in, out);
      const double ms = now_ms() - start;
      printf("%s%.6f", done ? ", " : "", ms);
      elapsed_ms += ms;
      ++done;
    }
  }
  printf("]}\n");
  api->destroy(m);
  return 0;
}
