/* A user's C program: includes the generated model.h, links the static
 * library, runs the model once and prints every output element. Built by
 * tests/driver/c_api_test.cpp with -DPREFIX=<the model's prefix>. */
#include <stdio.h>
#include <stdlib.h>

#include "model.h"

#define CAT2(a, b) a##b
#define CAT(a, b) CAT2(a, b)
#define FN(name) CAT(PREFIX, name)

int main(void) {
  const modelc_model_api* api = FN(_api)();
  modelc_buffer inputs[8], outputs[8];
  modelc_model* model;
  void* kept;
  int32_t i;
  size_t k;
  if (api->abi_version != MODELC_ABI_VERSION || api->num_inputs > 8 || api->num_outputs > 8) return 3;
  for (i = 0; i < api->num_inputs; ++i) {
    float* data = (float*)malloc(api->inputs[i].bytes);
    for (k = 0; k < api->inputs[i].bytes / sizeof(float); ++k) data[k] = (float)((k * 7919) % 1000) / 1000.0f - 0.5f;
    inputs[i].name = api->inputs[i].name;
    inputs[i].data = data;
    inputs[i].bytes = api->inputs[i].bytes;
  }
  for (i = 0; i < api->num_outputs; ++i) {
    outputs[i].name = api->outputs[i].name;
    outputs[i].data = malloc(api->outputs[i].bytes);
    outputs[i].bytes = api->outputs[i].bytes;
  }
  model = FN(_create)(1);
  if (!model) return 4;
  /* Misuse is an error code, never a crash. */
  FN(_destroy)(NULL);
  if (FN(_run)(NULL, inputs, api->num_inputs, outputs, api->num_outputs) != MODELC_ERROR_ARGUMENT) return 10;
  if (FN(_last_error)(NULL) == NULL) return 11;
  if (FN(_run)(model, NULL, api->num_inputs, outputs, api->num_outputs) != MODELC_ERROR_ARGUMENT) return 12;
  fprintf(stderr, "expected refusal: %s\n", FN(_last_error)(model));
  if (FN(_run)(model, inputs, api->num_inputs, NULL, api->num_outputs) != MODELC_ERROR_ARGUMENT) return 13;
  fprintf(stderr, "expected refusal: %s\n", FN(_last_error)(model));
  if (FN(_run)(model, inputs, -1, outputs, api->num_outputs) != MODELC_ERROR_ARGUMENT) return 14;
  inputs[0].name = NULL;
  if (FN(_run)(model, inputs, api->num_inputs, outputs, api->num_outputs) != MODELC_ERROR_ARGUMENT) return 15;
  fprintf(stderr, "expected refusal: %s\n", FN(_last_error)(model));
  inputs[0].name = api->inputs[0].name;
  kept = outputs[0].data;
  outputs[0].data = NULL;
  if (FN(_run)(model, inputs, api->num_inputs, outputs, api->num_outputs) != MODELC_ERROR_ARGUMENT) return 16;
  fprintf(stderr, "expected refusal: %s\n", FN(_last_error)(model));
  outputs[0].data = kept;
  /* A wrong size is refused with a message, not a crash. */
  inputs[0].bytes -= 1;
  if (FN(_run)(model, inputs, api->num_inputs, outputs, api->num_outputs) != MODELC_ERROR_ARGUMENT) return 5;
  fprintf(stderr, "expected refusal: %s\n", FN(_last_error)(model));
  inputs[0].bytes += 1;
  if (FN(_run)(model, inputs, api->num_inputs, outputs, api->num_outputs) != MODELC_OK) {
    fprintf(stderr, "run failed: %s\n", FN(_last_error)(model));
    return 6;
  }
  for (i = 0; i < api->num_outputs; ++i)
    for (k = 0; k < api->outputs[i].bytes / sizeof(float); ++k) printf("%.9g\n", ((const float*)outputs[i].data)[k]);
  FN(_destroy)(model);
  for (i = 0; i < api->num_inputs; ++i) free(inputs[i].data);
  for (i = 0; i < api->num_outputs; ++i) free(outputs[i].data);
  return 0;
}
