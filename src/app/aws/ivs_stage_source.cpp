// STAGE_SOURCE=ivs: the IVS stage list and tokens feeding the StageManager; see
// ivs_stage_source.hpp.
#include "app/aws/ivs_stage_source.hpp"

#include <spdlog/spdlog.h>
#include <boost/asio/post.hpp>

#include "app/aws/ivs_self_signed.hpp"
#include "app/control/control_plane.hpp"
#include "io/clock.hpp"
#include "io/redact.hpp"

namespace ivs::app::aws {
namespace {

// A participant id like IVS's: 12 letters and digits.
std::string participant_id(engine::RandomSource& random) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (int i = 0; i < 12; ++i) {
    out += kAlphabet[random.uniform(kAlphabet.size())];
  }
  return out;
}

}  // namespace

IvsStageSource::IvsStageSource(boost::asio::io_context& io, IvsClient& client,
                               engine::RandomSource& random, IvsStageSourceOptions options)
    : io_(io),
      client_(client),
      random_(random),
      options_(std::move(options)),
      timer_(io),
      backoff_(control_plane_retry_policy()),
      alive_(std::make_shared<bool>(true)) {
  status_.token_mode = options_.signing_key ? "self-signed (" + options_.public_key_arn + ")"
                                            : std::string("CreateParticipantToken");
}

IvsStageSource::~IvsStageSource() {
  *alive_ = false;
}

void IvsStageSource::start() {
  spdlog::info("stage source: Amazon IVS Real-Time (stages tagged {}; tokens: {})",
               options_.tag ? options_.tag->key + "=" + options_.tag->value : "(any)",
               status_.token_mode);
  list_now();
}

void IvsStageSource::stop() {
  stopped_ = true;
  timer_.cancel();
}

void IvsStageSource::list_now() {
  client_.list_stages([this, alive = alive_](Result<std::vector<IvsStageSummary>> stages,
                                             const IvsFailure& failure) {
    if (*alive && !stopped_) {
      on_listed(std::move(stages), failure);
    }
  });
}

void IvsStageSource::on_listed(Result<std::vector<IvsStageSummary>> stages,
                               const IvsFailure& failure) {
  if (!stages) {
    note_error(failure.message.empty() ? stages.error().message : failure.message);
    schedule(backoff_.next_delay(random_));
    return;
  }
  backoff_.reset();
  std::vector<std::string> arns;
  for (const auto& stage : *stages) {
    if (!options_.tag || options_.tag->matches(stage)) {
      arns.push_back(stage.arn);
    }
  }
  if (!status_.listed || status_.tagged_stages != arns.size()) {
    spdlog::info("IVS lists {} stages, {} tagged for this server", stages->size(), arns.size());
  }
  status_.listed = true;
  status_.last_sync_unix = io::unix_seconds_now();
  status_.listed_stages = stages->size();
  status_.tagged_stages = arns.size();
  if (status_.last_error.find("ListStages") == 0) {
    status_.last_error.clear();
  }
  if (stages_ != nullptr) {
    stages_->sync(arns);
  }
  schedule(options_.sync_interval);
}

void IvsStageSource::schedule(Duration delay) {
  timer_.expires_after(delay);
  timer_.async_wait([this, alive = alive_](const boost::system::error_code& error) {
    if (*alive && !error && !stopped_) {
      list_now();
    }
  });
}

void IvsStageSource::note_error(const std::string& message) {
  if (message != status_.last_error) {
    spdlog::error("IVS: {}", io::redact_urls(message));
  }
  status_.last_error = message;
}

void IvsStageSource::fetch_token(const std::string& stage_arn, TokenCallback done) {
  if (options_.signing_key) {
    SelfSignedTokenRequest request{stage_arn,
                                   options_.server_id,
                                   participant_id(random_),
                                   options_.attributes,
                                   options_.token_duration_minutes,
                                   options_.whip_endpoint};
    auto token = mint_self_signed_token(*options_.signing_key, options_.public_key_arn, request,
                                        io::unix_seconds_now());
    boost::asio::post(io_, [token = std::move(token), done = std::move(done)]() mutable {
      done(std::move(token), false);
    });
    return;
  }
  const std::string body = create_participant_token_body(
      stage_arn, options_.server_id, options_.token_duration_minutes, options_.attributes);
  client_.create_participant_token(
      stage_arn, body,
      [this, alive = alive_, done = std::move(done)](Result<IvsParticipantToken> token,
                                                     const IvsFailure& failure) {
        if (!*alive) {
          return;
        }
        if (!token) {
          if (failure.kind == AwsErrorKind::access_denied ||
              failure.kind == AwsErrorKind::clock_skew) {
            note_error(failure.message);  // the same for every stage: a process-level error
          }
          // Not permanent: an IAM policy or a clock can be fixed while we keep retrying.
          done(Error{failure.message.empty() ? token.error().message : failure.message}, false);
          return;
        }
        if (status_.last_error.find("CreateParticipantToken") == 0) {
          status_.last_error.clear();
        }
        TokenInfo info{token->token, token->participant_id, options_.whip_endpoint,
                       WhipUrlSource::configured_endpoint};
        if (auto claim = jwt_string_claim(token->token, "whip_url"); claim && !claim->empty()) {
          info.whip_url = *claim;
          info.whip_url_source = WhipUrlSource::token_claim;
        }
        done(std::move(info), false);
      });
}

}  // namespace ivs::app::aws
