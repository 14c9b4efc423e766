/* executor.h: the plan that a generated artifact hands to the generic
 * executor (modelc_executor.c). Internal to artifacts; users see modelc.h.
 *
 * targets/ writes the plan of a model as constant C tables: one entry per
 * tensor (where it lives: arena offset, weight offset, model input or output),
 * one entry per step (a kernel and the tensors it takes: its inputs, then
 * the one or more tensors it writes, arena slots or model outputs). The
 * executor builds one halide_buffer_t per tensor when the model is created,
 * then each run only patches the input/output pointers and calls the kernels
 * in order. C99; no allocation during a run.
 */
#ifndef MODELC_EXECUTOR_H_
#define MODELC_EXECUTOR_H_

#include "modelc.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MC_MAX_RANK 8

enum mc_storage { MC_ARENA = 0, MC_WEIGHTS = 1, MC_INPUT = 2, MC_OUTPUT = 3 };

typedef struct mc_tensor {
  int32_t storage;   /* enum mc_storage */
  uint64_t offset;   /* bytes into arena/weights, or the input/output index */
  int32_t dtype;     /* modelc_dtype */
  int32_t rank;
  int64_t shape[MC_MAX_RANK];
} mc_tensor;

/* Halide's argv entry point: args[i] is a struct halide_buffer_t*. */
typedef int (*mc_kernel_fn)(void** args);

typedef struct mc_step {
  mc_kernel_fn kernel;
  int32_t num_args;  /* inputs, then the outputs (a kernel may have several) */
  int32_t first_arg; /* index into mc_plan.step_args */
} mc_step;

typedef struct mc_copy {
  int32_t output;    /* model output index */
  int32_t tensor;    /* tensor to copy from */
} mc_copy;

typedef struct mc_plan {
  const modelc_model_api* api; /* name, inputs and outputs info */
  int32_t num_tensors;
  const mc_tensor* tensors;
  int32_t num_steps;
  const mc_step* steps;
  const int32_t* step_args;
  int32_t num_copies; /* outputs that are not written by a kernel */
  const mc_copy* copies;
  const unsigned char* weights;
} mc_plan;

modelc_model* mc_create(const mc_plan* plan, int32_t num_threads);
modelc_status mc_run(modelc_model* model, const modelc_buffer* inputs, int32_t num_inputs,
                     const modelc_buffer* outputs, int32_t num_outputs);
/* mc_run with an observer called around each step (modelc.h); NULL: none.
 * flags: MODELC_OBSERVE_* (modelc.h). */
modelc_status mc_run_observed(modelc_model* model, const modelc_buffer* inputs, int32_t num_inputs,
                              const modelc_buffer* outputs, int32_t num_outputs, modelc_step_observer observer,
                              void* user, uint32_t flags);
void mc_destroy(modelc_model* model);
const char* mc_last_error(const modelc_model* model);

#ifdef __cplusplus
}
#endif

#endif /* MODELC_EXECUTOR_H_ */
