// The local IVS Real-Time stand-in's logic; see ivs_fake_state.hpp.
#include "app/aws/ivs_fake_state.hpp"

#include "app/aws/ivs_self_signed.hpp"

namespace ivs::app::aws {
namespace {

IvsFakeAnswer error_answer(unsigned status, std::string type, std::string message) {
  return {status, std::move(type),
          boost::json::serialize(boost::json::object{{"message", message}})};
}

std::string random_id(engine::RandomSource& random, std::size_t length) {
  constexpr std::string_view kAlphabet =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out;
  for (std::size_t i = 0; i < length; ++i) {
    out += kAlphabet[random.uniform(kAlphabet.size())];
  }
  return out;
}

}  // namespace

IvsFakeState::IvsFakeState(IvsFakeOptions options, const jwt::Es384Key& key,
                           engine::RandomSource& random)
    : options_(std::move(options)), key_(key), random_(random) {}

bool IvsFakeState::throttled(std::string_view action, Instant now) {
  const engine::TokenBucketConfig config{options_.rate_per_second, options_.rate_per_second};
  if (config.rate_per_second <= 0) {
    return false;
  }
  auto found = buckets_.find(action);
  if (found == buckets_.end()) {
    found = buckets_.emplace(std::string(action), engine::TokenBucket(now, config)).first;
  }
  return !found->second.try_take(now, config);
}

IvsFakeAnswer IvsFakeState::handle(std::string_view action, const ReceivedRequest& request,
                                   Instant now, std::int64_t now_unix) {
  ++counts_["requests"];
  const std::int64_t aws_now = now_unix + options_.clock_offset;
  const auto lookup = [this](std::string_view access_key) -> std::optional<Credentials> {
    if (access_key != options_.credentials.access_key_id) {
      return std::nullopt;
    }
    return options_.credentials;
  };
  if (auto rejection =
          verify_sigv4(request, {options_.region, std::string(kIvsSigningName)}, lookup, aws_now)) {
    ++counts_["signatureRejected"];
    return error_answer(403, rejection->code, rejection->message);
  }
  if (action != "ListStages" && action != "CreateParticipantToken") {
    return error_answer(404, "UnknownOperationException", "no such operation");
  }
  if (throttled(action, now)) {
    ++counts_["throttled"];
    return error_answer(429, "ThrottlingException", "Rate exceeded");
  }
  if (denied_.contains(std::string(action))) {
    ++counts_["denied"];
    return error_answer(
        403, "AccessDeniedException",
        "User: arn:aws:iam::" + options_.account_id +
            ":user/media-server is not authorized to perform: ivs:" + std::string(action));
  }
  boost::system::error_code error;
  auto body = boost::json::parse(request.body, error);
  if (error || !body.is_object()) {
    return error_answer(400, "ValidationException", "the body is not a JSON object");
  }
  ++counts_[std::string(action)];
  return action == "ListStages" ? list_stages(body.as_object())
                                : create_token(body.as_object(), aws_now);
}

IvsFakeAnswer IvsFakeState::list_stages(const boost::json::object& body) const {
  std::int64_t max_results = kIvsListPageSize;
  if (const auto* max = body.if_contains("maxResults"); max && max->is_int64()) {
    max_results = std::clamp<std::int64_t>(max->as_int64(), 1, 100);
  }
  std::string start;
  if (const auto* token = body.if_contains("nextToken"); token && token->is_string()) {
    start = std::string(token->as_string());
  }
  boost::json::array stages;
  std::string next;
  for (auto it = stages_.lower_bound(start); it != stages_.end(); ++it) {
    if (static_cast<std::int64_t>(stages.size()) == max_results) {
      next = it->first;  // the next page starts at this stage id
      break;
    }
    boost::json::object tags;
    for (const auto& [key, value] : it->second.tags) {
      tags[key] = value;
    }
    stages.push_back(boost::json::object{
        {"arn", it->second.arn}, {"name", it->second.name}, {"tags", std::move(tags)}});
  }
  boost::json::object answer{{"stages", std::move(stages)}};
  if (!next.empty()) {
    answer["nextToken"] = next;
  }
  return {200, "", boost::json::serialize(answer)};
}

IvsFakeAnswer IvsFakeState::create_token(const boost::json::object& body, std::int64_t now_unix) {
  const auto* arn = body.if_contains("stageArn");
  if (arn == nullptr || !arn->is_string()) {
    return error_answer(400, "ValidationException", "stageArn is required");
  }
  const std::string stage_id = stage_id_of(arn->as_string());
  const auto stage = stages_.find(stage_id);
  if (stage == stages_.end() || stage->second.arn != arn->as_string()) {
    return error_answer(404, "ResourceNotFoundException",
                        "no stage " + std::string(arn->as_string()));
  }
  std::int64_t duration = 720;
  if (const auto* minutes = body.if_contains("duration"); minutes && minutes->is_int64()) {
    duration = minutes->as_int64();
  }
  const std::string participant = random_id(random_, 12);
  std::string user_id;
  if (const auto* user = body.if_contains("userId"); user && user->is_string()) {
    user_id = std::string(user->as_string());
  }
  const boost::json::object claims{
      {"exp", now_unix + duration * 60},
      {"iat", now_unix},
      {"jti", participant},
      {"resource", stage->second.arn},
      {"topic", stage_id},
      {"whip_url", options_.whip_url_base + "/" + stage_id},
      {"user_id", user_id},
      {"attributes", body.contains("attributes") ? body.at("attributes") : boost::json::object{}},
      {"capabilities", {{"allow_publish", true}, {"allow_subscribe", false}}},
      {"version", "1.0"},
  };
  auto token = jwt::sign(key_, claims);
  if (!token) {
    return error_answer(500, "InternalServerException", token.error().message);
  }
  ++tokens_by_stage_[stage_id];
  return {200, "",
          boost::json::serialize(
              boost::json::object{{"participantToken",
                                   {{"participantId", participant},
                                    {"token", *token},
                                    {"userId", user_id},
                                    {"duration", duration},
                                    {"capabilities", boost::json::array{"PUBLISH"}}}}})};
}

IvsStageSummary IvsFakeState::create_stage(const std::string& name,
                                           std::map<std::string, std::string> tags) {
  const std::string id = random_id(random_, 12);
  IvsStageSummary stage{
      "arn:aws:ivs:" + options_.region + ":" + options_.account_id + ":stage/" + id, name,
      std::move(tags)};
  stages_[id] = stage;
  return stage;
}

bool IvsFakeState::set_tags(const std::string& stage_id, std::map<std::string, std::string> tags) {
  const auto found = stages_.find(stage_id);
  if (found == stages_.end()) {
    return false;
  }
  found->second.tags = std::move(tags);
  return true;
}

bool IvsFakeState::delete_stage(const std::string& stage_id) {
  return stages_.erase(stage_id) > 0;
}

void IvsFakeState::set_denied(const std::string& action, bool denied) {
  if (denied) {
    denied_.insert(action);
  } else {
    denied_.erase(action);
  }
}

boost::json::object IvsFakeState::stats() const {
  boost::json::object counts;
  for (const auto& [name, count] : counts_) {
    counts[name] = count;
  }
  boost::json::object tokens;
  for (const auto& [stage, count] : tokens_by_stage_) {
    tokens[stage] = count;
  }
  return {{"counts", std::move(counts)},
          {"tokensByStage", std::move(tokens)},
          {"stages", stages_.size()}};
}

}  // namespace ivs::app::aws
