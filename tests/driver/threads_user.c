/* Thread counts belong to each instance: a program creates an instance with
 * every core and one with a single thread, in that order (so the second
 * create() cannot quietly shrink the first), and watches from /proc which
 * threads do the work. Built by tests/driver/c_api_test.cpp with
 * -DPREFIX=<the model's prefix>; Linux only. Prints one line per phase and
 * exits 0 when every instance kept its own count. */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
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
  return failed ? 7 : 0;
}
