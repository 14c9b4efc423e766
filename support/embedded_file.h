// Files compiled into the modelc binary by support/embed_files.py.
#pragma once

#include <cstddef>
#include <string_view>

namespace modelc {

struct EmbeddedFile {
  const char* name;
  const char* text;
};

// The runtime/ sources that every artifact compiles (modelc.h, executor.h, modelc_executor.c).
extern const EmbeddedFile runtime_sources[];
extern const size_t runtime_sources_count;

}  // namespace modelc
