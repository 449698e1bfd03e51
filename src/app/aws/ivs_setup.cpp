// STAGE_SOURCE=ivs wiring from the configuration; see ivs_setup.hpp.
#include "app/aws/ivs_setup.hpp"

#include <boost/json.hpp>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "io/clock.hpp"

namespace ivs::app::aws {
namespace {

Environment aws_variables(const Config& config) {
  Environment out;
  for (const auto& [name, effective] : config.effective) {
    if (name.starts_with("AWS_")) {
      out[name] = effective.value;
    }
  }
  return out;
}

Result<std::shared_ptr<const jwt::Es384Key>> load_signing_key(const Config& config) {
  const std::string path = config_value(config, "IVS_TOKEN_PRIVATE_KEY_FILE");
  const std::string arn = config_value(config, "IVS_PUBLIC_KEY_ARN");
  if (path.empty() && arn.empty()) {
    return std::shared_ptr<const jwt::Es384Key>{};
  }
  if (path.empty() || arn.empty()) {
    return Error{
        "IVS_TOKEN_PRIVATE_KEY_FILE and IVS_PUBLIC_KEY_ARN go together: set both to "
        "self-sign participant tokens, or neither to call CreateParticipantToken"};
  }
  std::ifstream file(path);
  std::ostringstream pem;
  pem << file.rdbuf();
  if (!file) {
    return Error{"IVS_TOKEN_PRIVATE_KEY_FILE: cannot read " + path};
  }
  auto key = jwt::Es384Key::from_private_pem(pem.str());
  if (!key) {
    return Error{"IVS_TOKEN_PRIVATE_KEY_FILE: " + path + " is not a P-384 private key in PEM (" +
                 key.error().message + "); create one with openssl ecparam -name secp384r1"};
  }
  return std::make_shared<const jwt::Es384Key>(std::move(*key));
}

}  // namespace

std::string config_value(const Config& config, std::string_view name) {
  const auto found = config.effective.find(name);
  return found == config.effective.end() ? std::string() : found->second.value;
}

bool stage_source_is_ivs(const Config& config) {
  return config_value(config, "STAGE_SOURCE") == "ivs";
}

Result<IvsStack> make_ivs_stack(boost::asio::io_context& io, io::HttpClient& http,
                                engine::RandomSource& random, const Config& config) {
  const char* home = std::getenv("HOME");
  auto settings = credential_settings(aws_variables(config), home != nullptr ? home : "/");
  IvsClientOptions client;
  client.region = settings.region;
  client.endpoint = config_value(config, "AWS_ENDPOINT_URL_IVS_REALTIME");
  if (client.endpoint.empty()) {
    client.endpoint = "https://ivsrealtime." + client.region + ".amazonaws.com";
  }
  client.max_rate = std::strtod(config_value(config, "IVS_API_MAX_RATE").c_str(), nullptr);
  client.timeout = config.api_request_timeout;

  IvsStageSourceOptions source;
  if (auto tag = config_value(config, "IVS_STAGE_TAG"); !tag.empty()) {
    auto parsed = parse_stage_tag(tag);
    if (!parsed) {
      return Error{"IVS_STAGE_TAG: " + parsed.error().message};
    }
    source.tag = *parsed;
  }
  source.sync_interval = config.stage_sync_interval;
  source.server_id = config.server_id;
  source.token_duration_minutes = std::atoi(config_value(config, "IVS_TOKEN_DURATION").c_str());
  source.attributes = {{"serverId", config.server_id}, {"role", "media-server-relay"}};
  source.whip_endpoint = config.whip_endpoint;
  auto key = load_signing_key(config);
  if (!key) {
    return key.error();
  }
  source.signing_key = *key;
  source.public_key_arn = config_value(config, "IVS_PUBLIC_KEY_ARN");

  IvsStack stack;
  stack.credentials = std::make_unique<CredentialProvider>(io, http, std::move(settings),
                                                           [] { return io::unix_seconds_now(); });
  stack.client =
      std::make_unique<IvsClient>(io, http, *stack.credentials, random, std::move(client));
  stack.source = std::make_unique<IvsStageSource>(io, *stack.client, random, std::move(source));
  return stack;
}

std::string describe_ivs_credentials(const Config& config) {
  if (!stage_source_is_ivs(config)) {
    return {};
  }
  const char* home = std::getenv("HOME");
  return "# STAGE_SOURCE=ivs: AWS credentials from " +
         planned_source(credential_settings(aws_variables(config), home != nullptr ? home : "/")) +
         "\n";
}

std::string ivs_status_json(const IvsStack& stack) {
  const auto& status = stack.source->status();
  const auto& counters = stack.client->counters();
  boost::json::object out{
      {"kind", "ivs"},
      {"credentials", stack.credentials->source().empty()
                          ? boost::json::value(nullptr)
                          : boost::json::value(stack.credentials->source())},
      {"tokens", status.token_mode},
      {"listed", status.listed},
      {"stagesListed", status.listed_stages},
      {"stagesTagged", status.tagged_stages},
      {"lastError", status.last_error.empty() ? boost::json::value(nullptr)
                                              : boost::json::value(status.last_error)},
      {"requests", counters.requests},
      {"throttled", counters.throttled},
      {"accessDenied", counters.access_denied},
      {"clockSkew", counters.clock_skew},
  };
  if (auto skew = stack.client->measured_skew()) {
    out["clockSkewSeconds"] = *skew;
  }
  return boost::json::serialize(out);
}

}  // namespace ivs::app::aws
