/* A hand-written "artifact" for the LoadedArtifact tests: y = 2 * x + 1 over a
 * float32 [2, 3] tensor, behind the same C ABI the generated executors export.
 * FAKE_ABI_VERSION lets the build produce a library from a future ABI. A run
 * whose first input element is -1000 fails, to exercise last_error. */
#include <stdlib.h>
#include <string.h>

#include "modelc.h"

#ifndef FAKE_ABI_VERSION
#define FAKE_ABI_VERSION MODELC_ABI_VERSION
#endif

struct modelc_model {
  int threads;
  const char* error;
};

static const int64_t kShape[2] = {2, 3};
static const modelc_tensor_info kInputs[1] = {{"x", MODELC_FLOAT32, 2, kShape, 6 * sizeof(float)}};
static const modelc_tensor_info kOutputs[1] = {{"y", MODELC_FLOAT32, 2, kShape, 6 * sizeof(float)}};

static modelc_model* fake_create(int32_t num_threads) {
  modelc_model* model = (modelc_model*)calloc(1, sizeof(modelc_model));
  if (model == NULL) return NULL;
  model->threads = num_threads;
  model->error = "";
  return model;
}

static modelc_status fake_run(modelc_model* model, const modelc_buffer* inputs, int32_t num_inputs,
                              const modelc_buffer* outputs, int32_t num_outputs) {
  if (num_inputs != 1 || num_outputs != 1 || strcmp(inputs[0].name, "x") != 0 || strcmp(outputs[0].name, "y") != 0 ||
      inputs[0].bytes != kInputs[0].bytes || outputs[0].bytes != kOutputs[0].bytes) {
    model->error = "bad buffers";
    return MODELC_ERROR_ARGUMENT;
  }
  const float* x = (const float*)inputs[0].data;
  float* y = (float*)outputs[0].data;
  if (x[0] == -1000.0f) {
    model->error = "kernel fake_kernel0 refused its input";
    return MODELC_ERROR_KERNEL;
  }
  for (int i = 0; i < 6; ++i) y[i] = 2.0f * x[i] + 1.0f;
  model->error = "";
  return MODELC_OK;
}

static void fake_destroy(modelc_model* model) { free(model); }

static const char* fake_last_error(const modelc_model* model) { return model->error; }

static const modelc_model_api kApi = {
    FAKE_ABI_VERSION, "fake", 1, kInputs, 1, kOutputs, 0, 0, fake_create, fake_run, fake_destroy, fake_last_error};

const modelc_model_api* fake_api(void) { return &kApi; }
