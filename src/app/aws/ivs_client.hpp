// The Amazon IVS Real-Time client (API Reference: "ListStages", "CreateParticipantToken",
// "Common Errors"; request shapes in ivs_api.hpp), SigV4-signed with our signer and the
// credentials chain, over io::HttpClient.
//
//   call ─► FIFO queue ─► token bucket (IVS_API_MAX_RATE) ─► sign (credentials, now) ─► POST
//                ▲                                                               │
//                └── throttled (429 / ThrottlingException): again after a backoff ◄┘
//                    with full jitter (200 ms doubling to 5 s, at most 8 times)
//
// Why pace on our side: IVS allows 50 CreateParticipantToken calls per second per account
// (Service Quotas), and a media server starting with hundreds of stages would otherwise send
// them all at once and spend its time in throttling backoff. Why still back off: the quota is
// per account, so other programs may use it up. One queue in arrival order, so every stage's
// call gets its turn: none is starved by the others' retries.
//
// Errors name the action and what to do: AccessDenied names the IAM action to allow, a clock
// skew (RequestTimeTooSkewed or "Signature expired") gives the measured offset from the
// answer's Date header.
#pragma once

#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>

#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <string>

#include "app/aws/credential_provider.hpp"
#include "app/aws/ivs_api.hpp"
#include "engine/backoff.hpp"
#include "engine/random.hpp"
#include "engine/rate_limit.hpp"
#include "io/http_client.hpp"

namespace ivs::app::aws {

struct IvsClientOptions {
  std::string endpoint;  // https://ivsrealtime.<region>.amazonaws.com unless overridden
  std::string region = "us-east-1";
  double max_rate = 40;  // requests per second, every call together; 0 = unpaced
  engine::BackoffPolicy throttle_backoff{std::chrono::milliseconds(200), std::chrono::seconds(5),
                                         2.0, engine::Jitter::full};
  int max_throttle_retries = 8;
  std::chrono::milliseconds timeout{10000};
};

struct IvsCounters {
  std::uint64_t requests = 0;
  std::uint64_t throttled = 0;  // throttling answers (each followed by a backoff)
  std::uint64_t access_denied = 0;
  std::uint64_t clock_skew = 0;
};

struct IvsFailure {
  AwsErrorKind kind = AwsErrorKind::server;
  std::string message;  // complete, for logs and the status page
};

class IvsClient {
 public:
  using BodyCallback = std::function<void(Result<std::string> body, IvsFailure failure)>;

  IvsClient(boost::asio::io_context& io, io::HttpClient& http, CredentialProvider& credentials,
            engine::RandomSource& random, IvsClientOptions options);
  ~IvsClient();
  IvsClient(const IvsClient&) = delete;
  IvsClient& operator=(const IvsClient&) = delete;

  // Every page of ListStages, in order.
  void list_stages(std::function<void(Result<std::vector<IvsStageSummary>>, IvsFailure)> done);
  void create_participant_token(const std::string& stage_arn, const std::string& body,
                                std::function<void(Result<IvsParticipantToken>, IvsFailure)> done);

  const IvsCounters& counters() const { return counters_; }
  // Signed-request offset measured from the last skew error (seconds, AWS minus ours).
  std::optional<std::int64_t> measured_skew() const { return measured_skew_; }

 private:
  struct Pending {
    std::string action;
    std::string body;
    BodyCallback done;
    int throttled = 0;
  };
  void call(std::string action, std::string body, BodyCallback done);
  void list_page(const std::string& next_token,
                 const std::shared_ptr<std::vector<IvsStageSummary>>& stages,
                 std::function<void(Result<std::vector<IvsStageSummary>>, IvsFailure)> done);
  void pump();
  void send(Pending pending);
  void send_signed(Pending pending, const AwsCredentials& credentials);
  void on_answer(Pending pending, Result<io::HttpClient::Response> answer);
  IvsFailure describe_failure(const Pending& pending, const io::HttpClient::Response& response);

  boost::asio::io_context& io_;
  io::HttpClient& http_;
  CredentialProvider& credentials_;
  engine::RandomSource& random_;
  IvsClientOptions options_;
  engine::TokenBucketConfig pace_;
  engine::TokenBucket bucket_;
  std::deque<Pending> queue_;
  boost::asio::steady_timer pump_timer_;
  bool pump_armed_ = false;
  IvsCounters counters_;
  std::optional<std::int64_t> measured_skew_;
  std::shared_ptr<bool> alive_;
};

}  // namespace ivs::app::aws
