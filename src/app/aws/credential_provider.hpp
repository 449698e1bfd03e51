// The AWS credentials chain with its I/O (the order and the sources: credentials.hpp; AWS SDKs
// and Tools Reference Guide, "Standardized credential providers" and "IMDS credential
// provider"; STS API Reference, "AssumeRoleWithWebIdentity"; EC2 User Guide, "Use IMDSv2").
//
//   get(done) ─► cached and more than kRefreshMargin from expiry? ─► done(cached)
//                └─► resolve: environment → web identity (STS) → shared files → IMDSv2
//                    (callers that ask meanwhile wait for the same resolution)
//
// Temporary credentials (STS, IMDS) are fetched again kRefreshMargin before they expire, so a
// request is never signed with keys about to lapse; the web identity token file is re-read on
// each refresh because EKS rotates it. Endpoints come from the settings, so tests point STS and
// IMDS at fakes on loopback. All on one io_context; the clock is an input (`now_unix`).
#pragma once

#include <boost/asio/io_context.hpp>

#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "app/aws/credentials.hpp"
#include "io/http_client.hpp"

namespace ivs::app::aws {

// Which source the chain would use now, from the environment and the files alone (nothing is
// fetched): "environment", "web identity (<role>)", "shared credentials file ... (profile x)",
// or "EC2 instance metadata (IMDSv2), resolved at start". For --print-config; never a secret.
std::string planned_source(CredentialSettings settings);

class CredentialProvider {
 public:
  using Callback = std::function<void(Result<AwsCredentials>)>;
  // Refresh this long before temporary credentials expire (STS and IMDS hand out an hour or
  // more; the SDKs refresh 5-15 minutes ahead).
  static constexpr std::int64_t kRefreshMargin = std::int64_t{5} * 60;

  CredentialProvider(boost::asio::io_context& io, io::HttpClient& http, CredentialSettings settings,
                     std::function<std::int64_t()> now_unix);
  ~CredentialProvider();
  CredentialProvider(const CredentialProvider&) = delete;
  CredentialProvider& operator=(const CredentialProvider&) = delete;

  // Calls `done` on the io_context (never inside get()) with valid credentials or an error
  // naming every source tried.
  void get(Callback done);

  // Where the current credentials came from ("" before the first success); never the secret.
  const std::string& source() const { return source_; }
  // When the current credentials expire (Unix seconds); nothing for long-term keys.
  std::optional<std::int64_t> expires_unix() const;
  const CredentialSettings& settings() const { return settings_; }

 private:
  void resolve();
  void try_web_identity();
  void try_shared_files();
  void try_imds();
  void imds_role(const std::string& token);
  void imds_credentials(const std::string& token, const std::string& role);
  void finish(Result<AwsCredentials> result);
  bool fresh() const;

  boost::asio::io_context& io_;
  io::HttpClient& http_;
  CredentialSettings settings_;
  std::function<std::int64_t()> now_unix_;
  std::optional<AwsCredentials> current_;
  std::string source_;
  std::vector<Callback> waiting_;
  std::vector<std::string> tried_;  // why each source did not give credentials, this round
  bool resolving_ = false;
  std::shared_ptr<bool> alive_;
};

}  // namespace ivs::app::aws
