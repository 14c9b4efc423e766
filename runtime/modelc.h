/* modelc.h: the C ABI that every modelc artifact exports.
 *
 * An artifact for model <prefix> exports <prefix>_create/_run/_destroy and
 * <prefix>_api(), which returns a table describing the model's inputs and
 * outputs together with those functions (handy for dlopen). The generated
 * model.h of an artifact includes this file. C99, no C++ runtime needed.
 *
 * Threads and concurrency
 *   - create(num_threads): the instance's kernels run on at most num_threads
 *     threads at once (num_threads <= 0: one per core, counted at create);
 *     with 1, every kernel runs on the thread that called run. The count
 *     belongs to the instance: creating or running other instances does not
 *     change it.
 *   - Distinct instances may run at the same time on distinct threads, of the
 *     same artifact or of different ones. Instances of one artifact share its
 *     thread pool (sized for the largest count asked for), so concurrent runs
 *     share the cores; each still keeps its own limit.
 *   - One instance must not be run from two threads at the same time: a run
 *     writes the instance's arena (the intermediate tensors) and its table of
 *     input/output pointers, so two runs would overwrite each other's data.
 *     Give each thread its own instance, or hold a lock around run. The same
 *     holds for last_error, which reports the instance's last run.
 *   - create and destroy may be called from any thread; destroy an instance
 *     only when no run of it is in progress. _api() is a constant table.
 *   - run with NULL arguments (model, buffer arrays with non-zero counts,
 *     names, data) returns MODELC_ERROR_ARGUMENT; destroy(NULL) does nothing;
 *     last_error(NULL) returns a message, never NULL.
 */
#ifndef MODELC_H_
#define MODELC_H_

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MODELC_ABI_VERSION 3

typedef enum modelc_dtype {
  MODELC_FLOAT32 = 0,
  MODELC_FLOAT16 = 1,
  MODELC_BFLOAT16 = 2,
  MODELC_INT8 = 3,
  MODELC_UINT8 = 4,
  MODELC_INT32 = 5,
  MODELC_INT64 = 6,
  MODELC_BOOL = 7,
  MODELC_INT16 = 8,
  MODELC_UINT16 = 9,
  MODELC_UINT32 = 10,
  MODELC_UINT64 = 11
} modelc_dtype;

typedef struct modelc_tensor_info {
  const char* name;
  modelc_dtype dtype;
  int32_t rank;
  const int64_t* shape; /* rank entries, row-major (C order) */
  size_t bytes;         /* size of a dense buffer for this tensor */
} modelc_tensor_info;

/* A caller's buffer, matched to a model input or output by name. */
typedef struct modelc_buffer {
  const char* name;
  void* data;
  size_t bytes;
} modelc_buffer;

typedef enum modelc_status {
  MODELC_OK = 0,
  MODELC_ERROR_ARGUMENT = 1, /* unknown name, wrong size, missing buffer */
  MODELC_ERROR_MEMORY = 2,
  MODELC_ERROR_KERNEL = 3    /* a kernel returned an error */
} modelc_status;

typedef struct modelc_model modelc_model;

/* Called by run_observed around each step of a run: finished 0 just before
 * the step's kernel starts, 1 just after it returns. step counts from 0 in
 * the order the kernels run (manifest.json's step_kernels names each one's
 * kernel). It runs on the thread that called run_observed; it must not run
 * the model. */
typedef void (*modelc_step_observer)(void* user, int32_t step, int32_t finished);

/* Flags of run_observed. MODELC_OBSERVE_IN_PLACE: each step's kernel runs
 * once more just before the call the observer brackets (a kernel never
 * writes what it reads, so the second call computes the same outputs). The
 * bracketed call then finds its inputs where its own parallel loop left
 * them, in the caches of the cores that read them, where in a plain run
 * they are where the previous kernel's loop wrote them: the difference is
 * what moving data between cores costs each kernel. The run's time is not
 * an inference's. */
#define MODELC_OBSERVE_IN_PLACE 1u

typedef struct modelc_model_api {
  uint32_t abi_version; /* MODELC_ABI_VERSION */
  const char* name;
  int32_t num_inputs;
  const modelc_tensor_info* inputs;
  int32_t num_outputs;
  const modelc_tensor_info* outputs;
  size_t arena_bytes;
  size_t weight_bytes;
  /* num_threads <= 0: all cores; the count is this instance's (see above). NULL when out of memory. */
  modelc_model* (*create)(int32_t num_threads);
  /* Every input and output must be given exactly once, by name. */
  modelc_status (*run)(modelc_model* model, const modelc_buffer* inputs, int32_t num_inputs,
                       const modelc_buffer* outputs, int32_t num_outputs);
  void (*destroy)(modelc_model* model);
  /* Message of the last failed run, "" when none. */
  const char* (*last_error)(const modelc_model* model);
  /* Kernel calls one run makes. */
  int32_t num_steps;
  /* run, telling `observer` (not NULL) when each step starts and ends: how a
   * profiler times the kernels one by one. The calls cost a few nanoseconds
   * each; use run for timing whole inferences. flags: MODELC_OBSERVE_*, 0 for none. */
  modelc_status (*run_observed)(modelc_model* model, const modelc_buffer* inputs, int32_t num_inputs,
                                const modelc_buffer* outputs, int32_t num_outputs, modelc_step_observer observer,
                                void* user, uint32_t flags);
} modelc_model_api;

#ifdef __cplusplus
}
#endif

#endif /* MODELC_H_ */
