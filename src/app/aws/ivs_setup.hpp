// Builds the STAGE_SOURCE=ivs pieces from the configuration (docs/ivs-direct.md): the
// credentials chain, the paced IVS Real-Time client and the stage source, and describes them
// for /api/status (the credential source is named; no secret ever appears).
#pragma once

#include <boost/asio/io_context.hpp>

#include <memory>
#include <string>

#include "app/aws/credential_provider.hpp"
#include "app/aws/ivs_client.hpp"
#include "app/aws/ivs_stage_source.hpp"
#include "app/roles/config.hpp"
#include "engine/random.hpp"
#include "io/http_client.hpp"

namespace ivs::app::aws {

struct IvsStack {
  std::unique_ptr<CredentialProvider> credentials;
  std::unique_ptr<IvsClient> client;
  std::unique_ptr<IvsStageSource> source;
};

// True when the configuration selects STAGE_SOURCE=ivs.
bool stage_source_is_ivs(const Config& config);

// The raw value of a table variable ("" when absent).
std::string config_value(const Config& config, std::string_view name);

// Errors name the variable and what to do (an unreadable or non-P-384 key file, a key without
// its ARN).
Result<IvsStack> make_ivs_stack(boost::asio::io_context& io, io::HttpClient& http,
                                engine::RandomSource& random, const Config& config);

// "# STAGE_SOURCE=ivs: AWS credentials from <planned source>" for --print-config; "" in api mode.
std::string describe_ivs_credentials(const Config& config);

// {"kind":"ivs","credentials":"<source>","tokens":..,"stagesListed":..,"stagesTagged":..,
//  "lastError":..,"requests":..,"throttled":..,"accessDenied":..,"clockSkew":..}
std::string ivs_status_json(const IvsStack& stack);

}  // namespace ivs::app::aws
