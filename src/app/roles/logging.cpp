#include "app/roles/logging.hpp"

#include <openssl/evp.h>
#include <spdlog/details/log_msg.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <chrono>
#include <cstdio>
#include <ctime>

namespace ivs::app {

std::string json_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 8);
  for (const char c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          char escaped[8];
          std::snprintf(escaped, sizeof escaped, "\\u%04x", static_cast<unsigned>(c));
          out += escaped;
        } else {
          out += c;  // UTF-8 passes through unchanged
        }
    }
  }
  return out;
}

namespace {

const char* level_name(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warn";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "critical";
    default:
      return "off";
  }
}

std::string iso8601_utc(spdlog::log_clock::time_point time) {
  const auto since_epoch = time.time_since_epoch();
  const auto secs = std::chrono::duration_cast<std::chrono::seconds>(since_epoch);
  const auto millis = std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch - secs);
  const std::time_t t = secs.count();
  std::tm utc{};
  gmtime_r(&t, &utc);
  char buffer[40];
  const auto n = std::strftime(buffer, sizeof buffer, "%Y-%m-%dT%H:%M:%S", &utc);
  std::snprintf(buffer + n, sizeof buffer - n, ".%03dZ", static_cast<int>(millis.count()));
  return buffer;
}

class JsonFormatter final : public spdlog::formatter {
 public:
  JsonFormatter(std::string service, std::string server_id)
      : service_(std::move(service)), server_id_(std::move(server_id)) {}

  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    std::string line = "{\"time\":\"" + iso8601_utc(msg.time) + "\",\"level\":\"" +
                       level_name(msg.level) + "\",\"msg\":\"" +
                       json_escape(std::string_view(msg.payload.data(), msg.payload.size())) + "\"";
    if (!service_.empty()) {
      line += ",\"service\":\"" + json_escape(service_) + "\"";
    }
    if (!server_id_.empty()) {
      line += ",\"serverId\":\"" + json_escape(server_id_) + "\"";
    }
    line += "}\n";
    dest.append(line.data(), line.data() + line.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonFormatter>(service_, server_id_);
  }

 private:
  std::string service_;
  std::string server_id_;
};

}  // namespace

std::unique_ptr<spdlog::formatter> make_json_formatter(std::string service, std::string server_id) {
  return std::make_unique<JsonFormatter>(std::move(service), std::move(server_id));
}

Status setup_logging(const LoggingOptions& options) {
  const auto level = spdlog::level::from_str(options.level == "warn" ? "warning" : options.level);
  if (level == spdlog::level::off) {
    return make_error("unknown log level \"" + options.level + "\"");
  }
  auto sink = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  auto logger = std::make_shared<spdlog::logger>(options.service, sink);
  if (options.format == "json") {
    logger->set_formatter(make_json_formatter(options.service, options.server_id));
  } else {
    logger->set_pattern("%Y-%m-%d %H:%M:%S.%e %^[%l]%$ %v");
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::info);  // operators and process tests read the log live
  spdlog::set_default_logger(logger);
  return Ok{};
}

std::string secret_fingerprint(std::string_view secret) {
  if (secret.empty()) {
    return "(none)";
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_Digest(secret.data(), secret.size(), digest, &length, EVP_sha256(), nullptr);
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out = "sha256:";
  for (int i = 0; i < 4; ++i) {
    out += kHex[digest[i] >> 4];
    out += kHex[digest[i] & 0x0f];
  }
  return out;
}

}  // namespace ivs::app
