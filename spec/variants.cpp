#include "spec/variants.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <set>

#include "spec/schema_messages.h"

namespace modelc::spec {
namespace {

using nlohmann::json;

// One point of the matrix: axis -> (value, pointer of the value in `variants`).
struct Combination {
  std::vector<std::string> axes;
  std::map<std::string, std::pair<json, std::string>> values;

  bool matches(const std::map<std::string, json>& filter) const {
    return std::all_of(filter.begin(), filter.end(), [&](const auto& entry) {
      const auto it = values.find(entry.first);
      return it != values.end() && it->second.first == entry.second;
    });
  }
  bool same_as(const Combination& other) const {
    if (axes != other.axes) return false;
    return std::all_of(axes.begin(), axes.end(),
                       [&](const std::string& a) { return values.at(a).first == other.values.at(a).first; });
  }
};

std::string axis_pointer(const std::string& axis) {
  std::string pointer;
  size_t start = 0;
  while (true) {
    const size_t dot = axis.find('.', start);
    pointer = pointer_append(pointer, axis.substr(start, dot == std::string::npos ? std::string::npos : dot - start));
    if (dot == std::string::npos) return pointer;
    start = dot + 1;
  }
}

std::string slug_of(const json& value) {
  std::string text = value.is_string() ? value.get<std::string>() : value.dump();
  std::string out;
  for (char c : text) {
    const unsigned char u = static_cast<unsigned char>(c);
    out += std::isalnum(u) ? static_cast<char>(std::tolower(u)) : (c == '.' ? 'p' : '-');
  }
  return out;
}

std::string leaf_of(const std::string& axis) {
  const size_t dot = axis.rfind('.');
  return dot == std::string::npos ? axis : axis.substr(dot + 1);
}

class VariantExpander {
 public:
  explicit VariantExpander(const Recipe& recipe) : recipe_(recipe), matrix_(recipe.resolved["variants"]) {}

  std::vector<Variant> expand() {
    axes_.clear();
    for (const std::string& key : keys_in_written_order(matrix_, "/variants", recipe_.marks))
      if (key != "exclude" && key != "include") axes_.push_back(key);
    std::vector<Combination> combinations = product();
    apply_excludes(combinations);
    apply_includes(combinations);
    if (!problems_.empty()) throw Error(std::move(problems_));
    if (combinations.empty()) {
      problem("/variants", "the variants matrix is empty: every combination is excluded", "remove an exclude entry");
      throw Error(std::move(problems_));
    }
    std::vector<Variant> variants;
    for (const Combination& c : combinations) variants.push_back(make_variant(c));
    name_variants(variants, combinations);
    if (!problems_.empty()) throw Error(std::move(problems_));
    return variants;
  }

 private:
  void problem(const std::string& pointer, std::string message, std::string hint = {}, bool at_key = false) {
    const SourceLocation where = at_key ? recipe_.marks.locate_key(pointer) : recipe_.marks.locate(pointer);
    problems_.push_back(Diagnostic{Severity::error, where, pointer, std::move(message), std::move(hint)});
  }

  std::vector<Combination> product() const {
    std::vector<Combination> out{Combination{axes_, {}}};
    for (const std::string& axis : axes_) {
      std::vector<Combination> next;
      for (const Combination& partial : out) {
        const json& values = matrix_[axis];
        for (size_t i = 0; i < values.size(); ++i) {
          Combination c = partial;
          c.values[axis] = {values[i], pointer_append(pointer_append("/variants", axis), i)};
          next.push_back(std::move(c));
        }
      }
      out = std::move(next);
    }
    return out;
  }

  // An exclude/include entry as axis -> value, reporting keys that name no axis.
  std::map<std::string, json> entry_settings(const std::string& pointer, const json& entry, bool must_be_axis) {
    std::map<std::string, json> out;
    for (const auto& [key, value] : entry.items()) {
      const bool is_axis = std::find(axes_.begin(), axes_.end(), key) != axes_.end();
      if (must_be_axis && !is_axis) {
        std::string hint = detail::did_you_mean(key, axes_);
        if (hint.empty()) hint = "the axes are " + detail::join_alternatives(axes_, ", ");
        problem(pointer_append(pointer, key), "'" + key + "' is not an axis of the variants matrix", hint, true);
      }
      out[key] = value;
    }
    return out;
  }

  void apply_excludes(std::vector<Combination>& combinations) {
    const json& excludes = matrix_.contains("exclude") ? matrix_["exclude"] : json::array();
    for (size_t i = 0; i < excludes.size(); ++i) {
      const std::string pointer = pointer_append("/variants/exclude", i);
      const auto filter = entry_settings(pointer, excludes[i], true);
      const auto removed = std::remove_if(combinations.begin(), combinations.end(),
                                          [&](const Combination& c) { return c.matches(filter); });
      if (removed == combinations.end() && problems_.empty())
        problem(pointer, "this exclude entry matches no combination of the matrix", "check its values against the axes");
      combinations.erase(removed, combinations.end());
    }
  }

  // An include entry gives values for some axes; the others keep the value the
  // recipe itself has (no setting).
  void apply_includes(std::vector<Combination>& combinations) {
    const json& includes = matrix_.contains("include") ? matrix_["include"] : json::array();
    for (size_t i = 0; i < includes.size(); ++i) {
      const std::string pointer = pointer_append("/variants/include", i);
      Combination c{{}, {}};
      for (const std::string& key : keys_in_written_order(includes[i], pointer, recipe_.marks)) {
        if (key != "target" && key.find('.') == std::string::npos) {
          problem(pointer_append(pointer, key), "'" + key + "' is not a dotted recipe path or 'target'",
                  "write the full path, e.g. quantization.mode", true);
          continue;
        }
        c.axes.push_back(key);
        c.values[key] = {includes[i][key], pointer_append(pointer, key)};
      }
      const bool duplicate = std::any_of(combinations.begin(), combinations.end(),
                                         [&](const Combination& other) { return other.same_as(c); });
      if (!duplicate) combinations.push_back(std::move(c));
    }
  }

  Variant make_variant(const Combination& c) {
    Document doc{recipe_.resolved, recipe_.marks};
    doc.value.erase("variants");
    const size_t problems_before = problems_.size();  // of earlier variants, which must not hide this one's
    Variant v;
    for (const std::string& axis : c.axes) {
      const auto& [value, value_pointer] = c.values.at(axis);
      v.settings.emplace_back(axis, value);
      v.description += std::string(v.description.empty() ? "" : ", ") + axis + "=" +
                       (value.is_string() ? value.get<std::string>() : value.dump());
      if (axis == "target") {
        select_target(doc, value, value_pointer);
      } else {
        set_value(doc, axis, value, value_pointer);
      }
    }
    if (problems_.size() != problems_before) return v;
    try {
      v.recipe = build_recipe(std::move(doc), recipe_.file);
    } catch (const Error& e) {
      for (Diagnostic d : e.diagnostics()) {
        d.message = "in variant " + v.description + ": " + d.message;
        problems_.push_back(std::move(d));
      }
    }
    return v;
  }

  void select_target(Document& doc, const json& value, const std::string& value_pointer) {
    const json& targets = doc.value["targets"];
    const std::string name = value.is_string() ? value.get<std::string>() : value.dump();
    if (!value.is_string() || !targets.contains(name)) {
      std::vector<std::string> names;
      for (const auto& [n, t] : targets.items()) names.push_back(n);
      std::string hint = detail::did_you_mean(name, names);
      if (hint.empty()) hint = "the targets are " + detail::join_alternatives(names, ", ");
      problem(value_pointer, "variants.target names '" + name + "', which is not a target of this recipe", hint);
      return;
    }
    json only = json::object();
    only[name] = targets[name];
    doc.value["targets"] = std::move(only);
  }

  void set_value(Document& doc, const std::string& axis, const json& value, const std::string& value_pointer) {
    const std::string pointer = axis_pointer(axis);
    json* node = &doc.value;
    std::string walked;
    for (const std::string& token : pointer_tokens(pointer)) {
      if (!node->is_object()) {
        problem(value_pointer, "axis " + axis + " goes through " + walked + ", which is not a mapping");
        return;
      }
      walked = pointer_append(walked, token);
      node = &(*node)[token];
    }
    *node = value;
    // Errors about the value point at the variants line that introduced it.
    const SourceLocation where = recipe_.marks.locate(value_pointer);
    doc.marks.add(pointer, where);
    doc.marks.add_key(pointer, where);
  }

  void name_variants(std::vector<Variant>& variants, const std::vector<Combination>& combinations) const {
    const auto names_with = [&](bool with_axes) {
      std::vector<std::string> names;
      for (size_t i = 0; i < variants.size(); ++i) {
        std::string name;
        for (const std::string& axis : combinations[i].axes) {
          if (!name.empty()) name += with_axes ? "_" : "-";
          if (with_axes) name += slug_of(leaf_of(axis)) + "-";
          name += slug_of(combinations[i].values.at(axis).first);
        }
        names.push_back(name.empty() ? "default" : name);
      }
      return names;
    };
    const auto unique = [](std::vector<std::string> names) {
      std::sort(names.begin(), names.end());
      return std::adjacent_find(names.begin(), names.end()) == names.end();
    };
    std::vector<std::string> names = names_with(false);
    if (!unique(names)) names = names_with(true);
    std::map<std::string, int> seen;
    for (size_t i = 0; i < variants.size(); ++i) {
      const int n = seen[names[i]]++;
      variants[i].name = n == 0 ? names[i] : names[i] + "-" + std::to_string(n + 1);
    }
  }

  const Recipe& recipe_;
  const json& matrix_;
  std::vector<std::string> axes_;
  std::vector<Diagnostic> problems_;
};

// report.compare_to names a row of the report: a variant that exists, a
// target that variant builds, an implementation that is measured. Checked on
// the whole recipe, since a `target` axis leaves each variant only some targets.
void check_compare_to(const Recipe& recipe, const std::vector<Variant>& variants) {
  const CompareToSpec& c = recipe.report.compare_to;
  std::vector<Diagnostic> problems;
  const auto problem = [&](const std::string& pointer, std::string message, std::string hint) {
    problems.push_back(Diagnostic{Severity::error, recipe.marks.locate(pointer), pointer, std::move(message), std::move(hint)});
  };
  // Names are few and short ("1", "host"): listing them helps more than a guess.
  const auto list = [](const std::vector<std::string>& names, const char* what) {
    return std::string(what) + " " + detail::join_alternatives(names, " and ");
  };

  const Variant* variant = &variants.front();
  if (!c.variant.empty()) {
    std::vector<std::string> names;
    for (const Variant& v : variants) names.push_back(v.name);
    const auto found = std::find(names.begin(), names.end(), c.variant);
    if (found == names.end()) {
      problem("/report/compare_to/variant", "report.compare_to.variant names '" + c.variant + "', which is not a variant of this recipe",
              list(names, "its variants (as `modelc plan` lists them) are"));
      variant = nullptr;
    } else {
      variant = &variants[static_cast<size_t>(found - names.begin())];
    }
  }
  if (!c.target.empty() && variant != nullptr) {
    std::vector<std::string> built;
    for (const TargetSpec& t : variant->recipe.targets) built.push_back(t.name);
    if (std::find(built.begin(), built.end(), c.target) == built.end()) {
      problem("/report/compare_to/target",
              "report.compare_to.target names '" + c.target + "', which variant " + variant->name + " does not build",
              list(built, "it builds"));
    }
  }
  const auto& baselines = recipe.report.baselines;
  if (c.implementation != "modelc" && std::find(baselines.begin(), baselines.end(), c.implementation) == baselines.end()) {
    problem("/report/compare_to/implementation",
            "report.compare_to.implementation is '" + c.implementation + "', which this report does not measure",
            "add it to report.baselines, or compare to modelc");
  }
  if (!problems.empty()) throw Error(std::move(problems));
}

}  // namespace

std::vector<Variant> expand_variants(const Recipe& recipe) {
  std::vector<Variant> variants;
  if (!recipe.resolved.contains("variants")) {
    Recipe single = recipe;
    variants.push_back(Variant{"default", "", {}, std::move(single)});
  } else {
    variants = VariantExpander(recipe).expand();
  }
  check_compare_to(recipe, variants);
  return variants;
}

}  // namespace modelc::spec
