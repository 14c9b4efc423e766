#include "reports/onnxruntime_session.h"

#include <algorithm>
#include <thread>

#include "reports/onnxruntime_baseline.h"
#include "support/diagnostic.h"

namespace fs = std::filesystem;
using nlohmann::json;

namespace modelc::reports {
namespace {

std::string install_hint(const fs::path& cache) {
  return "install it with scripts/install-onnxruntime.sh (npm install --ignore-scripts --prefix " + cache.string() +
         " onnxruntime-node@1.30.0)";
}

std::string first_line(const std::string& text) { return text.substr(0, text.find('\n')); }

// A reply is a JSON object on one line; onnxruntime may log other lines first.
std::optional<json> next_reply(ChildProcess& child, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) return std::nullopt;
    const std::optional<std::string> line = child.read_line(left);
    if (!line) return std::nullopt;
    if (line->empty() || line->front() != '{') continue;
    try {
      json reply = json::parse(*line);
      if (reply.is_object() && reply.contains("status")) return reply;
    } catch (const json::parse_error&) {
    }
  }
}

}  // namespace

int resolved_thread_count(int threads) {
  if (threads > 0) return threads;
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
}

OnnxRuntimeSession OnnxRuntimeSession::start(const OnnxRuntimeSessionOptions& options) {
  OnnxRuntimeSession session;
  session.command_timeout_ = options.command_timeout;
  session.threads_ = resolved_thread_count(options.threads);
  const fs::path cache = options.cache_dir.empty() ? modelc_cache_dir() : options.cache_dir;
  const std::optional<fs::path> node = find_node();
  if (!node) {
    session.status_ = RunStatus::unavailable;
    session.note_ = "node not found (Debian: apt-get install nodejs npm); then " + install_hint(cache);
    return session;
  }
  if (!find_onnxruntime_node(cache)) {
    session.status_ = RunStatus::unavailable;
    session.note_ = "onnxruntime-node not found under " + (cache / "node_modules").string() + "; " + install_hint(cache);
    return session;
  }
  const fs::path script = options.script.empty() ? default_ort_script() : options.script;
  std::error_code ec;
  if (!fs::is_regular_file(script, ec)) {
    session.status_ = RunStatus::unavailable;
    session.note_ = "the ONNX Runtime benchmark script " + script.string() + " is missing (set MODELC_ORT_SCRIPT to its path)";
    return session;
  }

  std::vector<std::string> argv{node->string(), script.string(), "--threads", std::to_string(session.threads_),
                                "--modules", (cache / "node_modules").string()};
  if (options.one_op) {
    argv.push_back("--one-op");
  } else {
    argv.insert(argv.end(), {"--model", options.model.string(), "--input", options.input.string()});
  }
  ProcessOptions process;
  process.environment = {{"MODELC_CACHE", cache.string()}};
  session.child_.emplace(ChildProcess::start(argv, process));
  if (!session.child_->started()) {
    session.status_ = RunStatus::unavailable;
    session.note_ = session.child_->start_error();
    return session;
  }
  const std::optional<json> hello = next_reply(*session.child_, options.start_timeout);
  if (!hello) {
    session.child_->finish();
    const std::string why = first_line(session.child_->stderr_text());
    session.note_ = "ort_bench.js did not start" + (why.empty() ? std::string() : ": " + why);
    return session;
  }
  const std::string status = hello->value("status", "");
  if (status != "ready") {
    session.status_ = status == "unavailable" ? RunStatus::unavailable : RunStatus::failed;
    session.note_ = hello->value("note", std::string("ort_bench.js failed"));
    session.child_->finish();
    return session;
  }
  session.status_ = RunStatus::ok;
  session.version_ = hello->value("version", std::string("?"));
  session.output_name_ = hello->value("output_name", std::string());
  return session;
}

json OnnxRuntimeSession::command(const std::string& line) {
  if (!ready()) throw Error("ONNX Runtime is not running: " + note_);
  if (!child_->write_line(line)) {
    child_->finish();
    const std::string why = first_line(child_->stderr_text());
    throw Error("ONNX Runtime exited" + (why.empty() ? std::string() : ": " + why));
  }
  std::optional<json> reply = next_reply(*child_, command_timeout_);
  if (!reply) {
    const bool timed_out = child_->timed_out();
    child_->finish();
    const std::string why = first_line(child_->stderr_text());
    throw Error(timed_out ? "ONNX Runtime did not answer '" + line + "' within " +
                                std::to_string(command_timeout_.count() / 1000) + " s"
                          : "ONNX Runtime exited" + (why.empty() ? std::string() : ": " + why));
  }
  if (reply->value("status", "") != "ok") throw Error(reply->value("note", std::string("ort_bench.js failed")));
  return *reply;
}

std::vector<double> OnnxRuntimeSession::run(int count) {
  const json reply = command("run " + std::to_string(count));
  try {
    return reply.at("samples_ms").get<std::vector<double>>();
  } catch (const json::exception& e) {
    throw Error(std::string("ort_bench.js answered without usable run times: ") + e.what());
  }
}

void OnnxRuntimeSession::write_output(const fs::path& file) {
  const json reply = command("output " + file.string());
  output_name_ = reply.value("output_name", output_name_);
}

}  // namespace modelc::reports
