/* Thread counts belong to each instance: a program creates an instance with
 * every core and one with a single thread, in that order (so the second
 * create() cannot quietly shrink the first), and watches from /proc which
 * threads do the work. Built by tests/driver/c_api_test.cpp with
 * -DPREFIX=<the model's prefix>; Linux only. Then two 2-thread instances run
 * at once on two threads (one holds the executor's spinning workers, the
 * other falls back to Halide's pool) and every output must equal a lone
 * run's, and after the last destroy (which stops the workers) a new instance
 * starts them again. Prints one line per phase and exits 0 when all held. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(PREFIX, name)

/* CPU time (clock ticks) of the main thread and of all other threads. */
typedef struct cpu_ticks {
  long main_thread;
  long others;
  int threads;
} cpu_ticks;

static long thread_ticks(const char* tid) {
  char path[256], line[1024];
  const char* p;
  long utime = 0, stime = 0;
  int field;
  FILE* f;
  snprintf(path, sizeof path, "/proc/self/task/%s/stat", tid);
  f = fopen(path, "r");
  if (!f) return 0;
  if (!fgets(line, sizeof line, f)) line[0] = '\0';
  fclose(f);
  /* The name in parentheses may hold spaces; fields count from after it. */
  p = strrchr(line, ')');
  if (!p) return 0;
  for (field = 3; field < 14 && p; ++field) p = strchr(p + 1, ' ');
  if (!p || sscanf(p, " %ld %ld", &utime, &stime) != 2) return 0;
  return utime + stime;
}

static cpu_ticks measure(void) {
  cpu_ticks t = {0, 0, 0};
  char self[32];
  struct dirent* e;
  DIR* d = opendir("/proc/self/task");
  snprintf(self, sizeof self, "%ld", (long)getpid());
  if (!d) return t;
  while ((e = readdir(d)) != NULL) {
    if (e->d_name[0] == '.') continue;
    ++t.threads;
    if (strcmp(e->d_name, self) == 0) t.main_thread += thread_ticks(e->d_name);
    else t.others += thread_ticks(e->d_name);
  }
  closedir(d);
  return t;
}

static modelc_buffer inputs[8], outputs[8];

/* Runs `model` until the main thread has spent `main_ticks` more, or the
 * other threads `other_ticks` more (0: no such limit). Returns the change. */
static cpu_ticks run_for(modelc_model* model, const modelc_model_api* api, long main_ticks, long other_ticks) {
  const cpu_ticks start = measure();
  cpu_ticks now = start;
  int n;
  for (;;) {
    for (n = 0; n < 100; ++n)
      if (FN(_run)(model, inputs, api->num_inputs, outputs, api->num_outputs) != MODELC_OK) {
        fprintf(stderr, "run failed: %s\n", FN(_last_error)(model));
        exit(6);
      }
    now = measure();
    if (now.main_thread - start.main_thread >= main_ticks) break;
    if (other_ticks > 0 && now.others - start.others >= other_ticks) break;
  }
  now.main_thread -= start.main_thread;
  now.others -= start.others;
  return now;
}

typedef struct runner {
  modelc_model* model;
  const modelc_model_api* api;
  const unsigned char* expected; /* output 0 of a lone run */
  int mismatches;
} runner;

static void* run_many(void* arg) {
  runner* r = (runner*)arg;
  modelc_buffer out[8];
  int32_t i, n;
  for (i = 0; i < r->api->num_outputs; ++i) {
    out[i] = outputs[i];
    out[i].data = malloc(outputs[i].bytes);
  }
  for (n = 0; n < 200; ++n) {
    if (FN(_run)(r->model, inputs, r->api->num_inputs, out, r->api->num_outputs) != MODELC_OK) {
      fprintf(stderr, "run failed: %s\n", FN(_last_error)(r->model));
      exit(6);
    }
    if (memcmp(out[0].data, r->expected, out[0].bytes) != 0) ++r->mismatches;
  }
  for (i = 0; i < r->api->num_outputs; ++i) free(out[i].data);
  return NULL;
}

static int concurrent_runs(const modelc_model_api* api) {
  runner a, b;
  pthread_t ta, tb;
  unsigned char* expected;
  modelc_model* again;
  int32_t i;
  for (i = 0; i < api->inputs[0].bytes / 4; ++i) ((float*)inputs[0].data)[i] = (float)(i % 17) * 0.25f - 2.0f;
  a.model = FN(_create)(2);
  b.model = FN(_create)(2);
  if (!a.model || !b.model) return 4;
  if (FN(_run)(a.model, inputs, api->num_inputs, outputs, api->num_outputs) != MODELC_OK) return 6;
  expected = malloc(outputs[0].bytes);
  memcpy(expected, outputs[0].data, outputs[0].bytes);
  a.api = b.api = api;
  a.expected = b.expected = expected;
  a.mismatches = b.mismatches = 0;
  pthread_create(&ta, NULL, run_many, &a);
  pthread_create(&tb, NULL, run_many, &b);
  pthread_join(ta, NULL);
  pthread_join(tb, NULL);
  printf("two 2-thread instances at once: %d and %d of 200 runs differ from a lone run\n", a.mismatches, b.mismatches);
  FN(_destroy)(a.model);
  FN(_destroy)(b.model);
  /* The last destroy stopped the workers; a new instance starts them again. */
  again = FN(_create)(2);
  if (!again || FN(_run)(again, inputs, api->num_inputs, outputs, api->num_outputs) != MODELC_OK) return 6;
  i = memcmp(outputs[0].data, expected, outputs[0].bytes) != 0;
  printf("after the last destroy, a new instance's output %s\n", i ? "differs" : "agrees");
  FN(_destroy)(again);
  free(expected);
  return a.mismatches || b.mismatches || i ? 8 : 0;
}

int main(void) {
  const modelc_model_api* api = FN(_api)();
  modelc_model *all, *one;
  cpu_ticks t;
  int32_t i;
  int failed = 0;
  if (api->num_inputs > 8 || api->num_outputs > 8) return 3;
  for (i = 0; i < api->num_inputs; ++i) {
    inputs[i].name = api->inputs[i].name;
    inputs[i].data = calloc(1, api->inputs[i].bytes);
    inputs[i].bytes = api->inputs[i].bytes;
  }
  for (i = 0; i < api->num_outputs; ++i) {
    outputs[i].name = api->outputs[i].name;
    outputs[i].data = malloc(api->outputs[i].bytes);
    outputs[i].bytes = api->outputs[i].bytes;
  }
  all = FN(_create)(0);
  one = FN(_create)(1);
  if (!all || !one) return 4;

  /* A 1-thread instance runs every kernel on the caller's thread: no worker starts. */
  t = run_for(one, api, 30, 0);
  printf("one thread, first: %d threads in the process, others used %ld ticks while the caller used %ld\n", t.threads,
         t.others, t.main_thread);
  if (t.threads != 1) failed = 1;

  /* The instance with every core still has them after create(1). */
  t = run_for(all, api, 300, 3);
  printf("all cores: %d threads in the process, others used %ld ticks while the caller used %ld\n", t.threads,
         t.others, t.main_thread);
  if (t.threads < 2 || t.others < 3) failed = 1;

  /* And the 1-thread instance keeps one thread now that the pool has workers. */
  t = run_for(one, api, 30, 0);
  printf("one thread, again: others used %ld ticks while the caller used %ld\n", t.others, t.main_thread);
  if (t.others > 2) failed = 1;

  FN(_destroy)(one);
  FN(_destroy)(all);
  if (failed) return 7;
  return concurrent_runs(api);
}
