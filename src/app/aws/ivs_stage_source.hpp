// STAGE_SOURCE=ivs: the stages and their tokens come from Amazon IVS Real-Time itself, not from
// an API server (issue 14; docs/ivs-direct.md). The StageManager, the reconciler, egress,
// republish and status are the same as in api mode; only the desired set and the token source
// differ:
//
//   start ─► ListStages (every page) ─► keep those tagged IVS_STAGE_TAG ─► StageManager::sync
//              ▲  again every STAGE_SYNC_INTERVAL; on failure after a backoff (1 s → 10 s)
//   token for a stage ─► CreateParticipantToken (PUBLISH, IVS_TOKEN_DURATION, userId SERVER_ID,
//                        attributes) through the paced client,
//                    or ─► a self-signed ES384 token (IVS_TOKEN_PRIVATE_KEY_FILE +
//                        IVS_PUBLIC_KEY_ARN): no call at all
//
// Errors stay visible: the last failure of each kind is kept for /api/status and logged once
// per change, so an AccessDenied names the missing IAM action at process level as well as on
// each stage's status.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "app/aws/ivs_client.hpp"
#include "app/control/jwt.hpp"
#include "app/control/stage_manager.hpp"
#include "engine/backoff.hpp"

namespace ivs::app::aws {

struct IvsStageSourceOptions {
  std::optional<StageTagFilter> tag;  // none: every stage in the account region
  std::chrono::milliseconds sync_interval{60000};
  std::string server_id;
  int token_duration_minutes = 720;
  std::map<std::string, std::string> attributes;
  std::string whip_endpoint;  // WHIP_ENDPOINT: when a token names no whip_url
  // Self-signed tokens, when both are set.
  std::shared_ptr<const jwt::Es384Key> signing_key;
  std::string public_key_arn;
};

struct IvsSourceStatus {
  bool listed = false;  // a ListStages round has succeeded since start
  std::optional<std::int64_t> last_sync_unix;
  std::size_t listed_stages = 0;  // all stages in the answer
  std::size_t tagged_stages = 0;  // those the tag filter kept
  std::string last_error;         // the newest failure, listing or token; empty after recovery
  std::string token_mode;         // "CreateParticipantToken" or "self-signed (<ARN>)"
};

class IvsStageSource {
 public:
  // `client` and `random` must outlive the source; attach() before start().
  IvsStageSource(boost::asio::io_context& io, IvsClient& client, engine::RandomSource& random,
                 IvsStageSourceOptions options);
  ~IvsStageSource();
  IvsStageSource(const IvsStageSource&) = delete;
  IvsStageSource& operator=(const IvsStageSource&) = delete;

  void attach(StageManager& stages) { stages_ = &stages; }
  void start();
  void stop();
  // The StageManager's TokenSource.
  void fetch_token(const std::string& stage_arn, TokenCallback done);

  const IvsSourceStatus& status() const { return status_; }

 private:
  void list_now();
  void on_listed(Result<std::vector<IvsStageSummary>> stages, const IvsFailure& failure);
  void schedule(Duration delay);
  void note_error(const std::string& message);

  boost::asio::io_context& io_;
  IvsClient& client_;
  engine::RandomSource& random_;
  IvsStageSourceOptions options_;
  StageManager* stages_ = nullptr;
  boost::asio::steady_timer timer_;
  engine::Backoff backoff_;
  IvsSourceStatus status_;
  bool stopped_ = false;
  std::shared_ptr<bool> alive_;
};

}  // namespace ivs::app::aws
