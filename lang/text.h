// The text form of the IR, printed and parsed. parse(print(m)) prints exactly
// as m did (a tested property), so golden tests can pin any stage's output.
//
//   const @fc.bias : Tensor[(10), float32] = elided("3f1c0a2b9e4d5c6a")
//   def @main(%input: Tensor[(1, 784), float32]) -> Tensor[(1, 10), float32] {
//     %0 = nn.dense(%input, @fc.weight, units=10) : Tensor[(1, 10), float32];
//     %0
//   }
//
// Constants of up to kInlineConstantLimit elements print their values; larger
// ones print a digest, and parsing gives them a type but no data.
#pragma once

#include <string>
#include <string_view>

#include "lang/module.h"

namespace modelc::lang {

inline constexpr int64_t kInlineConstantLimit = 16;

std::string print_module(const Module& module);
std::string print_function(const Module& module, const Function& fn);

// Throws modelc::Error with source_name:line:column on any syntax or name error.
// Constants whose data was elided take their data from `data_source` when it
// has a constant of the same name and type.
Module parse_module(std::string_view text, const std::string& source_name, const Module* data_source = nullptr);

}  // namespace modelc::lang
