// Operator attributes: plain structs with named, typed fields.
//
// An attribute struct lists its fields once, in a `fields` member template:
//
//   struct Conv2DAttrs : AttrsOf<Conv2DAttrs> {
//     std::vector<int64_t> strides{1, 1};
//     int64_t groups = 1;
//     template <typename V> void fields(V& v) { v("strides", strides); v("groups", groups); }
//   };
//
// One generic mechanism prints, parses, compares and hashes every attribute
// struct through that list, so no op carries string maps or its own printer.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "lang/type.h"

namespace modelc::lang {

// Visits each field of an attribute struct by name and reference. The set of
// overloads is the set of field types attributes may use.
class AttrFieldVisitor {
 public:
  virtual ~AttrFieldVisitor() = default;
  virtual void operator()(std::string_view name, int64_t& value) = 0;
  virtual void operator()(std::string_view name, double& value) = 0;
  virtual void operator()(std::string_view name, bool& value) = 0;
  virtual void operator()(std::string_view name, std::string& value) = 0;
  virtual void operator()(std::string_view name, std::vector<int64_t>& value) = 0;
  virtual void operator()(std::string_view name, std::vector<double>& value) = 0;
  virtual void operator()(std::string_view name, DType& value) = 0;
};

class Attrs {
 public:
  virtual ~Attrs() = default;
  virtual std::unique_ptr<Attrs> clone() const = 0;
  // Visits fields for reading or writing; const visitors (printers, hashers)
  // go through for_each_field, which never modifies.
  virtual void visit_fields(AttrFieldVisitor& visitor) = 0;
};

using AttrsPtr = std::shared_ptr<const Attrs>;

template <typename Derived>
class AttrsOf : public Attrs {
 public:
  std::unique_ptr<Attrs> clone() const override {
    return std::make_unique<Derived>(static_cast<const Derived&>(*this));
  }
  void visit_fields(AttrFieldVisitor& visitor) override {
    auto forward = [&visitor](std::string_view name, auto& field) { visitor(name, field); };
    static_cast<Derived*>(this)->fields(forward);
  }
};

// An op without attributes.
struct NoAttrs : AttrsOf<NoAttrs> {
  template <typename V> void fields(V&) {}
};

// Read-only traversal.
void for_each_field(const Attrs& attrs, AttrFieldVisitor& visitor);

// "strides=[2, 2], padding=[3, 3, 3, 3], groups=1" (empty for no fields).
std::string print_attrs(const Attrs& attrs);
bool attrs_equal(const Attrs& a, const Attrs& b);

// A parsed attribute value before it is assigned to a typed field.
struct AttrValue {
  enum class Kind { integer, real, boolean, string, int_list, real_list } kind = Kind::integer;
  int64_t i = 0;
  double r = 0;
  bool b = false;
  std::string s;
  std::vector<int64_t> ints;
  std::vector<double> reals;
};

// Assigns `value` to the field called `name`; throws modelc::Error when the
// struct has no such field or the value has the wrong type.
void set_attr(Attrs& attrs, std::string_view name, const AttrValue& value);
std::vector<std::string> attr_field_names(const Attrs& attrs);

template <typename T>
const T& attrs_as(const Attrs& attrs) {
  return dynamic_cast<const T&>(attrs);
}

}  // namespace modelc::lang
