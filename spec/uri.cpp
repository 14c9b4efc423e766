// URI reference resolution (RFC 3986 section 5.2), enough for JSON Schema's
// $id and $ref: scheme, authority, path with dot segments, query, fragment.
#include <string>
#include <string_view>

#include "spec/json_schema.h"

namespace modelc::spec {
namespace {

struct UriParts {
  std::optional<std::string> scheme;
  std::optional<std::string> authority;
  std::string path;
  std::optional<std::string> query;
  std::optional<std::string> fragment;
};

UriParts split_uri(std::string_view s) {
  UriParts parts;
  if (const size_t hash = s.find('#'); hash != std::string_view::npos) {
    parts.fragment = std::string(s.substr(hash + 1));
    s = s.substr(0, hash);
  }
  if (const size_t q = s.find('?'); q != std::string_view::npos) {
    parts.query = std::string(s.substr(q + 1));
    s = s.substr(0, q);
  }
  // A scheme is letters/digits/+-. before the first ':' that precedes any '/'.
  const size_t colon = s.find(':');
  if (colon != std::string_view::npos && colon > 0 && s.substr(0, colon).find('/') == std::string_view::npos) {
    parts.scheme = std::string(s.substr(0, colon));
    s = s.substr(colon + 1);
  }
  if (s.substr(0, 2) == "//") {
    s = s.substr(2);
    const size_t slash = s.find('/');
    parts.authority = std::string(s.substr(0, slash));
    s = slash == std::string_view::npos ? std::string_view{} : s.substr(slash);
  }
  parts.path = std::string(s);
  return parts;
}

std::string remove_dot_segments(std::string_view input) {
  std::string out;
  std::string in(input);
  while (!in.empty()) {
    if (in.rfind("../", 0) == 0) {
      in.erase(0, 3);
    } else if (in.rfind("./", 0) == 0) {
      in.erase(0, 2);
    } else if (in.rfind("/./", 0) == 0) {
      in.replace(0, 3, "/");
    } else if (in == "/.") {
      in = "/";
    } else if (in.rfind("/../", 0) == 0 || in == "/..") {
      in = in == "/.." ? "/" : in.substr(3);
      const size_t last = out.rfind('/');
      out.erase(last == std::string::npos ? 0 : last);
    } else if (in == "." || in == "..") {
      in.clear();
    } else {
      const size_t next = in.find('/', in[0] == '/' ? 1 : 0);
      out += in.substr(0, next);
      in.erase(0, next == std::string::npos ? in.size() : next);
    }
  }
  return out;
}

std::string merge_paths(const UriParts& base, const std::string& reference_path) {
  if (base.authority && base.path.empty()) return "/" + reference_path;
  const size_t last = base.path.rfind('/');
  if (last == std::string::npos) return reference_path;
  return base.path.substr(0, last + 1) + reference_path;
}

std::string join_uri(const UriParts& u) {
  std::string out;
  if (u.scheme) out += *u.scheme + ":";
  if (u.authority) out += "//" + *u.authority;
  out += u.path;
  if (u.query) out += "?" + *u.query;
  if (u.fragment) out += "#" + *u.fragment;
  return out;
}

}  // namespace

std::string resolve_uri(std::string_view base_text, std::string_view reference_text) {
  const UriParts base = split_uri(base_text);
  const UriParts ref = split_uri(reference_text);
  UriParts target;
  if (ref.scheme) {
    target = ref;
    target.path = remove_dot_segments(ref.path);
  } else {
    target.scheme = base.scheme;
    if (ref.authority) {
      target.authority = ref.authority;
      target.path = remove_dot_segments(ref.path);
      target.query = ref.query;
    } else {
      target.authority = base.authority;
      if (ref.path.empty()) {
        target.path = base.path;
        target.query = ref.query ? ref.query : base.query;
      } else {
        target.path = remove_dot_segments(ref.path[0] == '/' ? ref.path : merge_paths(base, ref.path));
        target.query = ref.query;
      }
    }
    target.fragment = ref.fragment;
  }
  return join_uri(target);
}

}  // namespace modelc::spec
