// The IVS Real-Time client: pacing, signing, throttling backoff and actionable errors; see
// ivs_client.hpp.
#include "app/aws/ivs_client.hpp"

#include <boost/url/parse.hpp>

#include <chrono>

#include "io/clock.hpp"

namespace ivs::app::aws {
namespace {

std::string trim_slash(std::string url) {
  while (!url.empty() && url.back() == '/') {
    url.pop_back();
  }
  return url;
}

}  // namespace

IvsClient::IvsClient(boost::asio::io_context& io, io::HttpClient& http,
                     CredentialProvider& credentials, engine::RandomSource& random,
                     IvsClientOptions options)
    : io_(io),
      http_(http),
      credentials_(credentials),
      random_(random),
      options_(std::move(options)),
      pace_{options_.max_rate, std::max(1.0, options_.max_rate / 5)},
      bucket_(io::monotonic_now(), pace_),
      pump_timer_(io),
      alive_(std::make_shared<bool>(true)) {}

IvsClient::~IvsClient() {
  *alive_ = false;
}

void IvsClient::list_stages(
    std::function<void(Result<std::vector<IvsStageSummary>>, IvsFailure)> done) {
  list_page("", std::make_shared<std::vector<IvsStageSummary>>(), std::move(done));
}

void IvsClient::list_page(
    const std::string& next_token, const std::shared_ptr<std::vector<IvsStageSummary>>& stages,
    std::function<void(Result<std::vector<IvsStageSummary>>, IvsFailure)> done) {
  call("ListStages", list_stages_body(next_token),
       [this, stages, done = std::move(done)](Result<std::string> body, IvsFailure failure) {
         if (!body) {
           done(body.error(), std::move(failure));
           return;
         }
         auto page = parse_list_stages(*body);
         if (!page) {
           done(page.error(), IvsFailure{AwsErrorKind::server, page.error().message});
           return;
         }
         stages->insert(stages->end(), page->stages.begin(), page->stages.end());
         if (page->next_token.empty()) {
           done(std::move(*stages), {});
           return;
         }
         list_page(page->next_token, stages, done);
       });
}

void IvsClient::create_participant_token(
    const std::string& stage_arn, const std::string& body,
    std::function<void(Result<IvsParticipantToken>, IvsFailure)> done) {
  (void)stage_arn;  // in the body; kept in the signature for call sites' clarity
  call("CreateParticipantToken", body,
       [done = std::move(done)](Result<std::string> answer, IvsFailure failure) {
         if (!answer) {
           done(answer.error(), std::move(failure));
           return;
         }
         auto token = parse_participant_token(*answer);
         IvsFailure parse_failure{AwsErrorKind::server, token ? "" : token.error().message};
         done(std::move(token), std::move(parse_failure));
       });
}

void IvsClient::call(std::string action, std::string body, BodyCallback done) {
  queue_.push_back(Pending{std::move(action), std::move(body), std::move(done), 0});
  pump();
}

void IvsClient::pump() {
  while (!queue_.empty()) {
    const Instant now = io::monotonic_now();
    if (pace_.rate_per_second > 0 && !bucket_.try_take(now, pace_)) {
      if (!pump_armed_) {
        pump_armed_ = true;
        pump_timer_.expires_after(bucket_.time_until_token(now, pace_));
        pump_timer_.async_wait([this, alive = alive_](const boost::system::error_code& error) {
          if (!*alive || error) {
            return;
          }
          pump_armed_ = false;
          pump();
        });
      }
      return;
    }
    Pending pending = std::move(queue_.front());
    queue_.pop_front();
    send(std::move(pending));
  }
}

void IvsClient::send(Pending pending) {
  auto shared = std::make_shared<Pending>(std::move(pending));
  credentials_.get([this, shared, alive = alive_](Result<AwsCredentials> credentials) {
    if (!*alive) {
      return;
    }
    if (!credentials) {
      shared->done(
          credentials.error(),
          IvsFailure{AwsErrorKind::access_denied,
                     shared->action + ": no AWS credentials: " + credentials.error().message});
      return;
    }
    send_signed(std::move(*shared), *credentials);
  });
}

void IvsClient::send_signed(Pending pending, const AwsCredentials& credentials) {
  const std::string url = trim_slash(options_.endpoint) + "/" + pending.action;
  const auto parsed = boost::urls::parse_uri(url);
  SignableRequest request;
  request.method = "POST";
  request.host = parsed ? std::string(parsed->encoded_host_and_port()) : std::string();
  request.path = "/" + pending.action;
  request.headers = {{"content-type", "application/json"}};
  request.body = pending.body;
  const auto signed_request =
      sign(request, credentials.keys, {options_.region, std::string(kIvsSigningName)},
           io::unix_seconds_now());
  io::HttpClient::Request http_request;
  http_request.method = io::http::verb::post;
  http_request.url = url;
  http_request.content_type = "application/json";
  http_request.body = std::move(request.body);
  http_request.headers = signed_request.headers_to_add;
  http_request.timeout = options_.timeout;
  http_request.max_redirects = 0;
  ++counters_.requests;
  auto shared = std::make_shared<Pending>(std::move(pending));
  http_.request(std::move(http_request),
                [this, shared, alive = alive_](Result<io::HttpClient::Response> answer) {
                  if (*alive) {
                    on_answer(std::move(*shared), std::move(answer));
                  }
                });
}

void IvsClient::on_answer(Pending pending, Result<io::HttpClient::Response> answer) {
  if (!answer) {
    pending.done(answer.error(),
                 IvsFailure{AwsErrorKind::server, pending.action + ": " + answer.error().message});
    return;
  }
  if (answer->status >= 200 && answer->status < 300) {
    pending.done(std::move(answer->body), {});
    return;
  }
  IvsFailure failure = describe_failure(pending, *answer);
  if (failure.kind == AwsErrorKind::throttled &&
      pending.throttled < options_.max_throttle_retries) {
    engine::Backoff backoff(options_.throttle_backoff);
    Duration delay{};
    for (int i = 0; i <= pending.throttled; ++i) {
      delay = backoff.next_delay(random_);
    }
    ++pending.throttled;
    auto timer = std::make_shared<boost::asio::steady_timer>(io_, delay);
    auto shared = std::make_shared<Pending>(std::move(pending));
    timer->async_wait([this, timer, shared, alive = alive_](const boost::system::error_code&) {
      if (*alive) {
        queue_.push_back(std::move(*shared));
        pump();
      }
    });
    return;
  }
  pending.done(Error{failure.message}, failure);
}

IvsFailure IvsClient::describe_failure(const Pending& pending,
                                       const io::HttpClient::Response& response) {
  const AwsError error = parse_aws_error(
      response.status, response.header("x-amzn-errortype").value_or(""), response.body);
  IvsFailure out{error.kind, pending.action + ": " + error.code +
                                 (error.message.empty() ? "" : ": " + error.message)};
  switch (error.kind) {
    case AwsErrorKind::throttled:
      ++counters_.throttled;
      break;
    case AwsErrorKind::access_denied:
      ++counters_.access_denied;
      out.message += "; allow " + iam_action(pending.action) +
                     " in the IAM policy of the credentials in use (" + credentials_.source() +
                     "), see docs/ivs-direct.md";
      break;
    case AwsErrorKind::clock_skew: {
      ++counters_.clock_skew;
      if (auto date = parse_http_date(response.header("date").value_or("")); date) {
        measured_skew_ = *date - io::unix_seconds_now();
      }
      out.message += "; this machine's clock is " +
                     (measured_skew_ ? std::to_string(-*measured_skew_) + " s off" : "off") +
                     " AWS's time (SigV4 allows 5 minutes): fix it (NTP)";
      break;
    }
    default:
      break;
  }
  return out;
}

}  // namespace ivs::app::aws
