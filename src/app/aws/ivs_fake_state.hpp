// The local Amazon IVS Real-Time stand-in's logic (the `ivs-fake` role, docs/ivs-direct.md
// "Testing without AWS"): stages with tags, ListStages with pagination, CreateParticipantToken
// minting ES384 tokens the local `stage` role accepts, every request's SigV4 verified exactly
// (sigv4_verify.hpp), each action throttled at IVS's 50 requests per second
// (ThrottlingException, HTTP 429), and actions that can be denied (AccessDeniedException) or a
// clock that can be set off (to provoke "Signature expired"), so the media server's handling of
// each is testable. Pure: time and randomness are inputs; the HTTP glue is ivs_fake_role.cpp.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

#include <boost/json.hpp>

#include "app/aws/ivs_api.hpp"
#include "app/aws/sigv4_verify.hpp"
#include "app/control/jwt.hpp"
#include "engine/random.hpp"
#include "engine/rate_limit.hpp"

namespace ivs::app::aws {

struct IvsFakeOptions {
  std::string region = "us-east-1";
  std::string account_id = "123456789012";
  Credentials credentials{"AKIAIVSFAKE", "ivs-fake-secret", ""};
  double rate_per_second = 50;    // per action, like IVS's CreateParticipantToken quota
  std::int64_t clock_offset = 0;  // seconds added to our clock (a skewed AWS)
  std::string whip_url_base = "http://127.0.0.1:3002/whip";
};

struct IvsFakeAnswer {
  unsigned status = 200;
  std::string error_type;  // x-amzn-ErrorType when not empty
  std::string body;
};

class IvsFakeState {
 public:
  IvsFakeState(IvsFakeOptions options, const jwt::Es384Key& key, engine::RandomSource& random);

  // An IVS call: `action` is the path without '/' ("ListStages").
  IvsFakeAnswer handle(std::string_view action, const ReceivedRequest& request, Instant now,
                       std::int64_t now_unix);

  // Test controls.
  IvsStageSummary create_stage(const std::string& name, std::map<std::string, std::string> tags);
  bool set_tags(const std::string& stage_id, std::map<std::string, std::string> tags);
  bool delete_stage(const std::string& stage_id);
  void set_denied(const std::string& action, bool denied);
  boost::json::object stats() const;
  const IvsFakeOptions& options() const { return options_; }

 private:
  IvsFakeAnswer list_stages(const boost::json::object& body) const;
  IvsFakeAnswer create_token(const boost::json::object& body, std::int64_t now_unix);
  bool throttled(std::string_view action, Instant now);

  IvsFakeOptions options_;
  const jwt::Es384Key& key_;
  engine::RandomSource& random_;
  std::map<std::string, IvsStageSummary> stages_;  // by stage id, listed in id order
  std::set<std::string> denied_;
  std::map<std::string, engine::TokenBucket, std::less<>> buckets_;
  std::map<std::string, std::uint64_t, std::less<>> counts_;  // "ListStages", "throttled", ...
  std::map<std::string, std::uint64_t> tokens_by_stage_;
};

}  // namespace ivs::app::aws
