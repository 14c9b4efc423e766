#include "spec/extends.h"

#include <vector>

#include "support/diagnostic.h"

namespace modelc::spec {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Copies the marks of the subtree at `pointer` from one map to another.
void copy_marks(const SourceMap& from, const json& value, const std::string& pointer, SourceMap& to) {
  if (const SourceLocation* at = from.find(pointer)) to.add(pointer, *at);
  if (const SourceLocation* key = from.find_key(pointer)) to.add_key(pointer, *key);
  if (value.is_object()) {
    for (const auto& [k, v] : value.items()) copy_marks(from, v, pointer_append(pointer, k), to);
  } else if (value.is_array()) {
    for (size_t i = 0; i < value.size(); ++i) copy_marks(from, value[i], pointer_append(pointer, i), to);
  }
}

json merge_values(const json& base, const Document& base_doc, const json& over, const Document& over_doc,
                  const std::string& pointer, SourceMap& marks) {
  if (!base.is_object() || !over.is_object()) {
    copy_marks(over_doc.marks, over, pointer, marks);
    return over;
  }
  json out = json::object();
  for (const auto& [key, value] : base.items()) {
    if (over.contains(key)) continue;
    out[key] = value;
    copy_marks(base_doc.marks, value, pointer_append(pointer, key), marks);
  }
  for (const auto& [key, value] : over.items()) {
    if (value.is_null()) continue;  // null deletes the inherited key
    const std::string child = pointer_append(pointer, key);
    if (const auto inherited = base.find(key); inherited != base.end()) {
      // The key keeps the mark where it was first written, so inherited keys
      // keep their place in the written order.
      if (const SourceLocation* key_mark = base_doc.marks.find_key(child)) marks.add_key(child, *key_mark);
      if (const SourceLocation* at = over_doc.marks.find(child)) marks.add(child, *at);
      out[key] = merge_values(*inherited, base_doc, value, over_doc, child, marks);
    } else {
      out[key] = value;
      copy_marks(over_doc.marks, value, child, marks);
    }
  }
  return out;
}

std::string chain_text(const std::vector<std::string>& chain) {
  std::string out;
  for (const std::string& f : chain) out += (out.empty() ? "" : " -> ") + f;
  return out;
}

class ExtendsResolver {
 public:
  Document load(const fs::path& path) {
    std::error_code ec;
    const fs::path canonical = fs::weakly_canonical(fs::absolute(path), ec);
    chain_.push_back({canonical, path.lexically_normal().string()});
    Document doc = load_yaml_file(path.lexically_normal());
    const auto extends = doc.value.is_object() ? doc.value.find("extends") : doc.value.end();
    if (doc.value.is_object() && extends != doc.value.end()) {
      Document merged{json::object(), {}};
      for (const auto& [pointer, name] : entries(doc, *extends)) {
        const fs::path base_path = (path.parent_path() / name).lexically_normal();
        check_base(doc, pointer, name, base_path);
        merged = merge_documents(merged, load(base_path));
      }
      doc.value.erase("extends");
      doc = merge_documents(merged, doc);
    }
    chain_.pop_back();
    return doc;
  }

 private:
  struct Link {
    fs::path canonical;
    std::string shown;
  };

  std::vector<std::pair<std::string, std::string>> entries(const Document& doc, const json& extends) {
    std::vector<std::pair<std::string, std::string>> out;
    const auto bad = [&](const std::string& pointer, const json& v) {
      throw Error(Diagnostic{Severity::error, doc.marks.locate(pointer), pointer,
                             "expected a file name or a list of file names, found " +
                                 std::string(v.is_object() ? "a mapping" : v.is_array() ? "a list" : v.dump()),
                             "extends: ../base/recipe.yaml"});
    };
    if (extends.is_string()) {
      out.emplace_back("/extends", extends.get<std::string>());
    } else if (extends.is_array()) {
      for (size_t i = 0; i < extends.size(); ++i) {
        if (!extends[i].is_string()) bad(pointer_append("/extends", i), extends[i]);
        out.emplace_back(pointer_append("/extends", i), extends[i].get<std::string>());
      }
    } else {
      bad("/extends", extends);
    }
    return out;
  }

  void check_base(const Document& doc, const std::string& pointer, const std::string& name, const fs::path& base_path) {
    std::vector<std::string> shown;
    for (const Link& l : chain_) shown.push_back(l.shown);
    std::error_code ec;
    if (!fs::is_regular_file(base_path, ec)) {
      std::string hint = "paths in extends are relative to the file that names them";
      if (chain_.size() > 1) hint += "; extended through " + chain_text(shown);
      throw Error(Diagnostic{Severity::error, doc.marks.locate(pointer), pointer,
                             "extends names '" + name + "', but " + base_path.string() + " does not exist", hint});
    }
    const fs::path canonical = fs::weakly_canonical(fs::absolute(base_path), ec);
    for (const Link& l : chain_) {
      if (l.canonical != canonical) continue;
      shown.push_back(base_path.string());
      throw Error(Diagnostic{Severity::error, doc.marks.locate(pointer), pointer,
                             "extends cycle: " + chain_text(shown),
                             "a recipe cannot extend itself, directly or through other files"});
    }
  }

  std::vector<Link> chain_;
};

}  // namespace

Document merge_documents(const Document& base, const Document& over) {
  Document out;
  out.marks.note_files_of(base.marks);
  out.marks.note_files_of(over.marks);
  if (const SourceLocation* root = over.marks.find("")) out.marks.add("", *root);
  out.value = merge_values(base.value, base, over.value, over, "", out.marks);
  return out;
}

Document load_extended_document(const fs::path& path) { return ExtendsResolver().load(path); }

}  // namespace modelc::spec
