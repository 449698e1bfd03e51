// The AWS credentials chain's I/O; see credential_provider.hpp.
#include "app/aws/credential_provider.hpp"

#include <boost/asio/post.hpp>

#include <fstream>
#include <sstream>

namespace ivs::app::aws {
namespace {

// IMDS is link-local and answers in milliseconds; off EC2 nothing answers, and the chain must
// not hang on it (the SDKs wait 1 s).
constexpr std::chrono::milliseconds kImdsTimeout{1000};
constexpr std::chrono::milliseconds kStsTimeout{10000};
constexpr std::string_view kImdsCredentialsPath = "/latest/meta-data/iam/security-credentials/";

std::optional<std::string> read_file_if_present(const std::string& path) {
  std::ifstream file(path, std::ios::binary);
  if (!file) {
    return std::nullopt;
  }
  std::ostringstream text;
  text << file.rdbuf();
  return text.str();
}

std::string trimmed(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r' || text.back() == ' ')) {
    text.pop_back();
  }
  return text;
}

std::string without_trailing_slash(std::string url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

}  // namespace

std::string planned_source(CredentialSettings settings) {
  if (from_environment(settings)) {
    return "environment";
  }
  const auto config_text = read_file_if_present(settings.config_file).value_or("");
  if (auto status = apply_profile_web_identity(settings, config_text); !status) {
    return "none: " + status.error().message;
  }
  if (!settings.role_arn.empty() && !settings.web_identity_token_file.empty()) {
    return "web identity (" + settings.role_arn + ")";
  }
  auto found = from_shared_files(
      settings, read_file_if_present(settings.credentials_file).value_or(""), config_text);
  if (!found) {
    return "none: " + found.error().message;
  }
  if (found->has_value()) {
    return (*found)->source;
  }
  return settings.imds_disabled ? "none (AWS_EC2_METADATA_DISABLED)"
                                : "EC2 instance metadata (IMDSv2), resolved at start";
}

CredentialProvider::CredentialProvider(boost::asio::io_context& io, io::HttpClient& http,
                                       CredentialSettings settings,
                                       std::function<std::int64_t()> now_unix)
    : io_(io),
      http_(http),
      settings_(std::move(settings)),
      now_unix_(std::move(now_unix)),
      alive_(std::make_shared<bool>(true)) {}

CredentialProvider::~CredentialProvider() {
  *alive_ = false;
}

std::optional<std::int64_t> CredentialProvider::expires_unix() const {
  return current_ ? current_->expires_unix : std::nullopt;
}

bool CredentialProvider::fresh() const {
  return current_ &&
         (!current_->expires_unix || *current_->expires_unix - kRefreshMargin > now_unix_());
}

void CredentialProvider::get(Callback done) {
  if (fresh()) {
    boost::asio::post(io_,
                      [done = std::move(done), credentials = *current_] { done(credentials); });
    return;
  }
  waiting_.push_back(std::move(done));
  if (!resolving_) {
    resolving_ = true;
    tried_.clear();
    boost::asio::post(io_, [this, alive = alive_] {
      if (*alive) {
        resolve();
      }
    });
  }
}

void CredentialProvider::resolve() {
  if (auto environment = from_environment(settings_)) {
    finish(std::move(*environment));
    return;
  }
  tried_.emplace_back("environment: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY not set");
  const auto config_text = read_file_if_present(settings_.config_file).value_or("");
  if (auto status = apply_profile_web_identity(settings_, config_text); !status) {
    finish(status.error());
    return;
  }
  if (!settings_.role_arn.empty() && !settings_.web_identity_token_file.empty()) {
    try_web_identity();
    return;
  }
  tried_.emplace_back("web identity: AWS_ROLE_ARN/AWS_WEB_IDENTITY_TOKEN_FILE not set");
  try_shared_files();
}

void CredentialProvider::try_web_identity() {
  const auto token = read_file_if_present(settings_.web_identity_token_file);
  if (!token || trimmed(*token).empty()) {
    finish(Error{"web identity: cannot read AWS_WEB_IDENTITY_TOKEN_FILE " +
                 settings_.web_identity_token_file + "; check the path and the volume mount"});
    return;
  }
  io::HttpClient::Request request;
  request.method = io::http::verb::post;
  request.url = without_trailing_slash(settings_.sts_endpoint) + "/";
  request.content_type = "application/x-www-form-urlencoded; charset=utf-8";
  request.body = web_identity_request_body(settings_, trimmed(*token));
  request.timeout = kStsTimeout;
  http_.request(std::move(request), [this,
                                     alive = alive_](Result<io::HttpClient::Response> answer) {
    if (!*alive) {
      return;
    }
    if (!answer) {
      finish(Error{"web identity: STS " + settings_.sts_endpoint + ": " + answer.error().message});
      return;
    }
    finish(parse_sts_credentials(answer->body, settings_.role_arn));
  });
}

void CredentialProvider::try_shared_files() {
  const auto credentials_text = read_file_if_present(settings_.credentials_file).value_or("");
  const auto config_text = read_file_if_present(settings_.config_file).value_or("");
  auto found = from_shared_files(settings_, credentials_text, config_text);
  if (!found) {
    finish(found.error());
    return;
  }
  if (found->has_value()) {
    finish(std::move(**found));
    return;
  }
  tried_.push_back("shared files: no keys for profile " + settings_.profile + " in " +
                   settings_.credentials_file + " or " + settings_.config_file);
  try_imds();
}

void CredentialProvider::try_imds() {
  if (settings_.imds_disabled) {
    tried_.emplace_back("EC2 instance metadata: disabled (AWS_EC2_METADATA_DISABLED)");
    finish(Error{"no AWS credentials found"});
    return;
  }
  io::HttpClient::Request request;
  request.method = io::http::verb::put;
  request.url = without_trailing_slash(settings_.imds_endpoint) + "/latest/api/token";
  request.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
  request.timeout = kImdsTimeout;
  request.max_redirects = 0;
  http_.request(
      std::move(request), [this, alive = alive_](Result<io::HttpClient::Response> answer) {
        if (!*alive) {
          return;
        }
        if (!answer || answer->status != 200 || answer->body.empty()) {
          tried_.push_back(
              "EC2 instance metadata (IMDSv2 token): " +
              (answer ? "HTTP " + std::to_string(answer->status) : answer.error().message));
          finish(Error{"no AWS credentials found"});
          return;
        }
        imds_role(answer->body);
      });
}

void CredentialProvider::imds_role(const std::string& token) {
  io::HttpClient::Request request;
  request.url = without_trailing_slash(settings_.imds_endpoint) + std::string(kImdsCredentialsPath);
  request.headers.emplace_back("X-aws-ec2-metadata-token", token);
  request.timeout = kImdsTimeout;
  request.max_redirects = 0;
  http_.request(
      std::move(request), [this, token, alive = alive_](Result<io::HttpClient::Response> answer) {
        if (!*alive) {
          return;
        }
        const std::string role = answer && answer->status == 200
                                     ? trimmed(answer->body.substr(0, answer->body.find('\n')))
                                     : std::string();
        if (role.empty()) {
          tried_.emplace_back(
              "EC2 instance metadata: no instance role attached (attach an IAM role "
              "to the instance)");
          finish(Error{"no AWS credentials found"});
          return;
        }
        imds_credentials(token, role);
      });
}

void CredentialProvider::imds_credentials(const std::string& token, const std::string& role) {
  io::HttpClient::Request request;
  request.url =
      without_trailing_slash(settings_.imds_endpoint) + std::string(kImdsCredentialsPath) + role;
  request.headers.emplace_back("X-aws-ec2-metadata-token", token);
  request.timeout = kImdsTimeout;
  request.max_redirects = 0;
  http_.request(std::move(request), [this, role,
                                     alive = alive_](Result<io::HttpClient::Response> answer) {
    if (!*alive) {
      return;
    }
    if (!answer || answer->status != 200) {
      finish(Error{"EC2 instance metadata: credentials of role " + role + ": " +
                   (answer ? "HTTP " + std::to_string(answer->status) : answer.error().message)});
      return;
    }
    finish(parse_imds_credentials(answer->body, role));
  });
}

void CredentialProvider::finish(Result<AwsCredentials> result) {
  resolving_ = false;
  // A failed refresh keeps credentials that have not expired yet: STS or IMDS being briefly
  // away must not stop signing while the old keys still work.
  if (!result && current_ && current_->expires_unix && *current_->expires_unix > now_unix_()) {
    result = *current_;
  }
  if (result) {
    current_ = result.value();
    source_ = result->source;
  } else if (!tried_.empty()) {
    std::string message = result.error().message + "; tried: ";
    for (std::size_t i = 0; i < tried_.size(); ++i) {
      message += (i > 0 ? "; " : "") + tried_[i];
    }
    result = Error{message};
  }
  auto waiting = std::move(waiting_);
  waiting_.clear();
  for (auto& done : waiting) {
    done(result);
  }
}

}  // namespace ivs::app::aws
