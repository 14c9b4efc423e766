#include "targets/code_cache.h"

#include <span>
#include <sstream>
#include <variant>

#include "support/diagnostic.h"
#include "support/file_io.h"
#include "support/sha256.h"

namespace fs = std::filesystem;

namespace modelc::targets {
namespace {

constexpr std::string_view kMagic = "modelc-code-cache-entry 1\n";

std::string_view as_text(std::span<const std::byte> bytes) {
  return {reinterpret_cast<const char*>(bytes.data()), bytes.size()};
}

// A header line "<part> <size> <sha256>".
struct Part {
  std::string name;
  size_t size = 0;
  std::string sha256;
};

// The parts of an entry, or a reason it is damaged.
std::variant<std::vector<Part>, std::string> parse_header(std::string_view text, size_t& body_offset) {
  if (text.substr(0, kMagic.size()) != kMagic) return std::string("it does not start with the entry header");
  const size_t end = text.find("\n\n", kMagic.size() - 1);
  if (end == std::string_view::npos) return std::string("its header is cut short");
  std::istringstream lines(std::string(text.substr(kMagic.size(), end + 1 - kMagic.size())));
  std::vector<Part> parts;
  for (std::string line; std::getline(lines, line) && !line.empty();) {
    std::istringstream fields(line);
    Part p;
    if (!(fields >> p.name >> p.size >> p.sha256) || p.sha256.size() != 64)
      return "its header line '" + line + "' is malformed";
    parts.push_back(std::move(p));
  }
  body_offset = end + 2;
  return parts;
}

}  // namespace

CodeCache::CodeCache(fs::path folder, std::string kind, WarnFn warn)
    : folder_(folder.empty() ? fs::path() : folder / (kind + "s")), kind_(std::move(kind)), warn_(std::move(warn)) {}

fs::path CodeCache::entry_path(const std::string& key) const { return folder_ / (key + ".entry"); }

std::optional<CacheEntry> CodeCache::load(const std::string& key, bool need_stmt) const {
  if (folder_.empty()) return std::nullopt;
  const fs::path path = entry_path(key);
  std::error_code ec;
  if (!fs::exists(path, ec)) return std::nullopt;
  std::vector<std::byte> bytes;
  try {
    bytes = read_binary_file(path);
  } catch (const Error&) {
    if (warn_) warn_("cannot read the cached " + kind_ + " " + path.string() + "; compiling it again");
    return std::nullopt;
  }
  const std::string_view text = as_text(bytes);
  auto damaged = [&](const std::string& why) -> std::optional<CacheEntry> {
    if (warn_) warn_("the cached " + kind_ + " " + path.string() + " is damaged (" + why + "); compiling it again");
    return std::nullopt;
  };
  size_t offset = 0;
  auto parsed = parse_header(text, offset);
  if (const auto* why = std::get_if<std::string>(&parsed)) return damaged(*why);
  CacheEntry entry;
  bool has_object = false;
  for (const Part& p : std::get<std::vector<Part>>(parsed)) {
    if (p.size > text.size() - offset) return damaged(p.name + " is cut short");
    const std::string_view data = text.substr(offset, p.size);
    if (sha256_hex(data) != p.sha256) return damaged("the sha256 of " + p.name + " differs from the one recorded");
    offset += p.size;
    if (p.name == "object") {
      entry.object.assign(bytes.begin() + static_cast<std::ptrdiff_t>(offset - p.size),
                          bytes.begin() + static_cast<std::ptrdiff_t>(offset));
      has_object = true;
    } else if (p.name == "stmt") {
      entry.stmt = std::string(data);
    }
  }
  if (offset != text.size()) return damaged("it has " + std::to_string(text.size() - offset) + " bytes past its parts");
  if (!has_object) return damaged("it has no object");
  if (need_stmt && !entry.stmt) return std::nullopt;
  return entry;
}

void CodeCache::store(const std::string& key, const CacheEntry& entry) const {
  if (folder_.empty()) return;
  std::string header(kMagic);
  const std::string_view object = as_text(entry.object);
  header += "object " + std::to_string(object.size()) + " " + sha256_hex(object) + "\n";
  if (entry.stmt) header += "stmt " + std::to_string(entry.stmt->size()) + " " + sha256_hex(*entry.stmt) + "\n";
  header += "\n";
  std::string text = header;
  text += object;
  if (entry.stmt) text += *entry.stmt;
  std::error_code ec;
  fs::create_directories(folder_, ec);
  try {
    if (ec) throw Error("cannot create " + folder_.string() + ": " + ec.message());
    write_file_atomic(entry_path(key), text);
  } catch (const Error& e) {
    if (warn_) warn_("cannot store the " + kind_ + " in the cache: " + e.what());
  }
}

}  // namespace modelc::targets
