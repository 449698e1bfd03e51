// The validators behind the configuration table's one-line start-up errors, and the parsers of
// its list-valued variables (CORS_ALLOW_ORIGINS, WHIP_DESTINATIONS). Each validator returns ""
// for a good value, else what a good value looks like.
#include <boost/asio/ip/address.hpp>
#include <boost/url/parse.hpp>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <string>

#include "app/control/shard_peers.hpp"
#include "app/roles/config.hpp"
#include "io/redact.hpp"
#include "proto/text.hpp"

namespace ivs::app {

namespace {

bool parse_integer(std::string_view value, long long& out) {
  if (value.empty()) {
    return false;
  }
  const auto [end, error] = std::from_chars(value.data(), value.data() + value.size(), out);
  return error == std::errc() && end == value.data() + value.size();
}

std::string integer_between(std::string_view value, long long low, long long high,
                            std::string_view what) {
  long long parsed = 0;
  if (!parse_integer(value, parsed) || parsed < low || parsed > high) {
    return std::string(what) + " from " + std::to_string(low) + " to " + std::to_string(high);
  }
  return {};
}

std::string one_of(std::string_view value, std::initializer_list<std::string_view> accepted) {
  for (const auto candidate : accepted) {
    if (value == candidate) {
      return {};
    }
  }
  std::string out = "one of";
  for (const auto candidate : accepted) {
    out += (out == "one of" ? " " : ", ");
    out += candidate;
  }
  return out;
}

}  // namespace

bool parse_boolean(std::string_view value) {
  const std::string v = proto::text::to_lower(value);
  return v == "true" || v == "1" || v == "yes" || v == "on";
}

namespace validators {

std::string port(std::string_view value) {
  return integer_between(value, 0, 65535, "an integer port (0 = any free port)");
}
std::string port_nonzero(std::string_view value) {
  return integer_between(value, 1, 65535, "an integer port");
}
std::string interval_ms(std::string_view value) {
  return integer_between(value, 100, 86400000, "an integer number of milliseconds");
}
std::string interval_or_zero_ms(std::string_view value) {
  return integer_between(value, 0, 86400000, "an integer number of milliseconds (0 = none)");
}
std::string boolean(std::string_view value) {
  const std::string v = proto::text::to_lower(value);
  for (const char* ok : {"true", "false", "1", "0", "yes", "no", "on", "off"}) {
    if (v == ok) {
      return {};
    }
  }
  return "true or false (also 1/0, yes/no, on/off)";
}
std::string log_level(std::string_view value) {
  return one_of(value, {"debug", "info", "warn", "error"});
}
std::string log_format(std::string_view value) {
  return one_of(value, {"text", "json"});
}
std::string node_env(std::string_view value) {
  return one_of(value, {"development", "production", "test"});
}
std::string http_url(std::string_view value) {
  const auto parsed = boost::urls::parse_absolute_uri(value);
  if (!parsed) {
    return "an absolute http:// or https:// URL with a host";
  }
  const auto scheme = proto::text::to_lower(parsed->scheme());
  if ((scheme != "http" && scheme != "https") || parsed->encoded_host().empty()) {
    return "an absolute http:// or https:// URL with a host";
  }
  return {};
}
std::string non_empty(std::string_view value) {
  return value.empty() ? "a non-empty value" : std::string();
}
std::string ip_address_or_empty(std::string_view value) {
  if (value.empty()) {
    return {};
  }
  boost::system::error_code error;
  boost::asio::ip::make_address(std::string(value), error);
  return error ? "an IPv4 or IPv6 address, or empty" : std::string();
}
std::string connect_limit(std::string_view value) {
  return integer_between(value, 1, 1000, "an integer");
}

std::string worker_count(std::string_view value) {
  return value == "auto" ? std::string() : integer_between(value, 1, 64, "auto or an integer");
}

std::string send_batching(std::string_view value) {
  return one_of(value, {"auto", "io_uring", "sendmmsg"});
}

std::string ip_address(std::string_view value) {
  boost::system::error_code error;
  boost::asio::ip::make_address(std::string(value), error);
  return error ? "an IPv4 or IPv6 address (e.g. 0.0.0.0)" : std::string();
}
std::string publisher_policy(std::string_view value) {
  return one_of(value, {"replace", "refuse"});
}
std::string viewer_limit(std::string_view value) {
  return integer_between(value, 0, 100000, "an integer");
}
std::string bitrate_kbps(std::string_view value) {
  // IVS accepts at most 8.5 Mbit/s per stage; a cap above it would let a publisher exceed it.
  return integer_between(value, 100, 8500, "an integer number of kbit/s");
}
std::string video_limits_policy(std::string_view value) {
  return one_of(value, {"warn", "reject"});
}
// SERVER_ID travels in an HTTP header (the WebSocket's serverId) and in JSON bodies: a CR, LF
// or quote in it would split a header or a document, so only a plain name is accepted.
std::string server_id(std::string_view value) {
  const bool ok = !value.empty() && value.size() <= 128 &&
                  std::all_of(value.begin(), value.end(), [](unsigned char c) {
                    return std::isalnum(c) != 0 || c == '.' || c == '_' || c == '-';
                  });
  return ok ? std::string()
            : "a non-empty name of at most 128 letters, digits, '.', '_' or '-' (it is sent in "
              "HTTP headers and JSON)";
}
// The media plane's UDP port is IPv4 (app/relay/media_plane.hpp): an IPv6 address would pass a
// general address check and then fail at start-up with a less helpful message.
std::string ipv4_address(std::string_view value) {
  boost::system::error_code error;
  const auto address = boost::asio::ip::make_address(std::string(value), error);
  return error || !address.is_v4() ? "an IPv4 address (e.g. 0.0.0.0 or 127.0.0.1)" : std::string();
}
std::string cors_origins(std::string_view value) {
  auto parsed = parse_cors_origins(value);
  return parsed ? std::string() : parsed.error().message;
}
std::string connection_limit(std::string_view value) {
  return integer_between(value, 1, 100000, "an integer");
}
std::string count_or_zero(std::string_view value) {
  return integer_between(value, 0, 100000, "an integer (0 = no limit)");
}
std::string header_timeout_ms(std::string_view value) {
  // Above 10 s a trickled header holds a connection long enough to matter (slowloris).
  return integer_between(value, 100, 10000, "an integer number of milliseconds");
}
std::string connect_timeout_ms(std::string_view value) {
  return integer_between(value, 1000, 60000, "an integer number of milliseconds");
}
std::string rate_per_second(std::string_view value) {
  return integer_between(value, 0, 1000000, "an integer number of requests per second (0 = none)");
}
std::string cidr_list_or_empty(std::string_view value) {
  if (value.empty()) {
    return {};
  }
  auto parsed = parse_ip_network_list(value);
  return parsed ? std::string()
                : "comma-separated IP addresses or CIDR networks (" + parsed.error().message + ")";
}
std::string stage_source(std::string_view value) {
  return one_of(value, {"api", "ivs"});
}
std::string stage_tag(std::string_view value) {
  return value.empty() || (value.find('=') != std::string_view::npos && value.front() != '=')
             ? std::string()
             : "a tag as key=value (e.g. media-server=relay), or empty";
}
std::string token_minutes(std::string_view value) {
  return integer_between(value, 1, 20160, "an integer number of minutes");
}
std::string http_url_or_empty(std::string_view value) {
  return value.empty() ? std::string() : http_url(value);
}
std::string whip_destinations(std::string_view value) {
  auto parsed = parse_whip_destinations(value);
  return parsed ? std::string() : parsed.error().message;
}
std::string shard_peers(std::string_view value) {
  auto parsed = parse_shard_peers(value);
  return parsed ? std::string() : parsed.error().message;
}
std::string shard_self(std::string_view value) {
  if (value.empty()) {
    return {};
  }
  auto parsed = parse_shard_peers(value);
  return parsed && parsed->size() == 1 ? std::string()
                                       : "this server's address as one 'ip:port' "
                                         "(e.g. 10.0.3.7:3001)";
}
}  // namespace validators

Result<std::vector<std::string>> parse_cors_origins(std::string_view value) {
  std::vector<std::string> origins;
  if (value == "*") {
    return origins;
  }
  std::size_t start = 0;
  while (start <= value.size()) {
    auto end = value.find(',', start);
    if (end == std::string_view::npos) {
      end = value.size();
    }
    std::string_view origin = value.substr(start, end - start);
    while (!origin.empty() && origin.front() == ' ') {
      origin.remove_prefix(1);
    }
    while (!origin.empty() && origin.back() == ' ') {
      origin.remove_suffix(1);
    }
    // An origin is scheme://host[:port] exactly as a browser sends it: no path, no slash.
    const auto parsed = boost::urls::parse_absolute_uri(origin);
    const bool ok = parsed && (parsed->scheme() == "http" || parsed->scheme() == "https") &&
                    !parsed->encoded_host().empty() && parsed->encoded_path().empty() &&
                    !parsed->has_query() && !parsed->has_userinfo();
    if (!ok) {
      return Error{
          "* or comma-separated origins such as https://app.example.com (scheme, host "
          "and port only; got '" +
          std::string(origin) + "')"};
    }
    origins.emplace_back(origin);
    start = end + 1;
  }
  return origins;
}

Result<std::vector<WhipDestination>> parse_whip_destinations(std::string_view value) {
  std::vector<WhipDestination> out;
  std::size_t start = 0;
  while (start <= value.size()) {
    std::size_t end = value.find_first_of(";\n", start);
    if (end == std::string_view::npos) {
      end = value.size();
    }
    std::string_view entry = value.substr(start, end - start);
    start = end + 1;
    std::vector<std::string> words;
    std::size_t i = 0;
    while (i < entry.size()) {
      while (i < entry.size() && std::isspace(static_cast<unsigned char>(entry[i]))) {
        ++i;
      }
      std::size_t j = i;
      while (j < entry.size() && !std::isspace(static_cast<unsigned char>(entry[j]))) {
        ++j;
      }
      if (j > i) {
        words.emplace_back(entry.substr(i, j - i));
      }
      i = j;
    }
    if (words.empty()) {
      continue;
    }
    // The entry as an error may show it: the URL redacted, every other word a secret.
    std::string shown = io::redact_url(words[0]);
    for (std::size_t w = 1; w < words.size(); ++w) {
      shown += " ***";
    }
    if (words.size() > 2) {
      return Error{"entries of the form '<url> [token]' separated by ';' (entry '" + shown +
                   "' has " + std::to_string(words.size()) + " words)"};
    }
    if (!validators::http_url(words[0]).empty()) {
      return Error{"entries of the form '<url> [token]' with an http(s) URL (got '" + shown + "')"};
    }
    out.push_back(WhipDestination{words[0], words.size() == 2 ? words[1] : std::string()});
  }
  return out;
}

}  // namespace ivs::app
