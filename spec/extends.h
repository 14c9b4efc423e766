// `extends`: a recipe built on other recipe files.
//
// Each file named by `extends` (one path or a list, relative to the file that
// names it) is loaded and resolved recursively; the bases merge in order, then
// the extending file on top: mappings merge key by key, lists and scalars
// replace, and null deletes a key. The marks of every value keep pointing at
// the file and line where it was written, so an error in an inherited value
// names the base file.
#pragma once

#include <filesystem>

#include "spec/document.h"

namespace modelc::spec {

// Loads `path` and everything it extends. The `extends` key is removed from the
// result. Missing files and cycles are modelc::Error at the `extends` entry
// that names them, with the chain of files that led there.
Document load_extended_document(const std::filesystem::path& path);

// `over` merged onto `base` (the rules above), marks included.
Document merge_documents(const Document& base, const Document& over);

}  // namespace modelc::spec
