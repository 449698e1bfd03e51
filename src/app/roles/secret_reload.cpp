#include "app/roles/secret_reload.hpp"

#include <string_view>

namespace ivs::app {
namespace {

// What the dashboard's buttons accept: ADMIN_TOKEN, else the ingest token (config.hpp).
const std::string& effective_admin_token(const Config& config) {
  return config.admin_token.empty() ? config.whip_ingest_token : config.admin_token;
}

}  // namespace

ServerSecrets secrets_from_config(const Config& config) {
  ServerSecrets secrets;
  *secrets.ingest_token = RotatingSecret(config.whip_ingest_token);
  *secrets.whep_token = RotatingSecret(config.whep_token);
  *secrets.admin_token = RotatingSecret(effective_admin_token(config));
  *secrets.api_key = RotatingSecret(config.api_secret_key);
  *secrets.media_secret = RotatingSecret(config.media_server_secret);
  return secrets;
}

SecretReload reload_secrets(ServerSecrets& secrets, Config& running, const Config& fresh,
                            Instant now, Duration grace) {
  SecretReload report;
  for (const ConfigVariable& variable : config_variables()) {
    const auto& before = running.effective.at(std::string(variable.name)).value;
    const auto& after = fresh.effective.at(std::string(variable.name)).value;
    if (before == after) {
      continue;
    }
    std::vector<std::string>& list = !variable.reloadable ? report.need_restart
                                     : variable.secret    ? report.rotated
                                                          : report.reloadable;
    list.emplace_back(variable.name);
  }
  secrets.ingest_token->rotate(fresh.whip_ingest_token, now, grace);
  secrets.whep_token->rotate(fresh.whep_token, now, grace);
  secrets.admin_token->rotate(effective_admin_token(fresh), now, grace);
  // Sent secrets have no grace: the API server is the one that accepts both for a while.
  secrets.api_key->rotate(fresh.api_secret_key, now, Duration::zero());
  secrets.media_secret->rotate(fresh.media_server_secret, now, Duration::zero());
  report.api_credentials_changed = running.api_secret_key != fresh.api_secret_key ||
                                   running.media_server_secret != fresh.media_server_secret;
  running.whip_ingest_token = fresh.whip_ingest_token;
  running.whep_token = fresh.whep_token;
  running.admin_token = fresh.admin_token;
  running.api_secret_key = fresh.api_secret_key;
  running.media_server_secret = fresh.media_server_secret;
  for (const std::string& name : report.rotated) {
    running.effective[name] = fresh.effective.at(name);
  }
  return report;
}

}  // namespace ivs::app
