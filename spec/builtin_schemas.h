// The schemas modelc carries in its binary (schemas/*.schema.json, embedded at
// build time), ready to validate with. They refer to each other by relative
// file name ("graph.schema.json"), exactly as the files on disk do, so editors
// that read the files and modelc agree.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "spec/document.h"
#include "spec/json_schema.h"
#include "support/diagnostic.h"

namespace modelc::spec {

// "recipe", "graph", "target", "results".
std::vector<std::string> builtin_schema_names();

// A validator for the named builtin schema with every other builtin schema
// registered. Throws modelc::Error for an unknown name.
const SchemaValidator& builtin_validator(std::string_view name);

// Schema errors as Diagnostics located in the YAML (file:line:column of the
// offending value, or of the key for an unknown property), in document order.
std::vector<Diagnostic> schema_diagnostics(const SchemaValidator& validator, const Document& document);

// Applies the builtin schema's defaults to `document` and validates it; throws
// modelc::Error with every problem. For YAML files other than recipes, e.g.
// device profiles: validate_document("target", doc).
void validate_document(std::string_view builtin_name, Document& document);

}  // namespace modelc::spec
