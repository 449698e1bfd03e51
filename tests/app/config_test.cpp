// Configuration: defaults from the seed's table, precedence, validation errors as one line,
// `.env` parsing and secret redaction. The environment is injected; the real one is never read.
#include "app/roles/config.hpp"

#include <gtest/gtest.h>

#include <set>

namespace ivs::app {
namespace {

using std::chrono::milliseconds;

TEST(Config, DefaultsMatchTheSeedTable) {
  auto config = load_config({});
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->node_env, "development");
  EXPECT_FALSE(config->production);
  EXPECT_EQ(config->port, 3001);
  EXPECT_EQ(config->server_id, "media-server-01");
  EXPECT_EQ(config->server_ip, "localhost");
  EXPECT_EQ(config->api_server_url, "http://localhost:3000");
  EXPECT_EQ(config->api_secret_key, "");
  EXPECT_EQ(config->media_server_secret, "");
  EXPECT_EQ(config->aws_region, "us-east-1");
  EXPECT_EQ(config->whip_endpoint, "https://global.whip.live-video.net");
  EXPECT_EQ(config->log_level, "info");
  EXPECT_EQ(config->heartbeat_interval, milliseconds(30000));
  EXPECT_EQ(config->stage_sync_interval, milliseconds(60000));
  EXPECT_TRUE(config->enable_auto_sync);
  EXPECT_EQ(config->log_format, "text");
  EXPECT_EQ(config->shutdown_timeout, milliseconds(10000));
  EXPECT_EQ(config->rtc_udp_port, 50000);
  EXPECT_EQ(config->rtc_announced_ip, "");
  EXPECT_EQ(config->max_concurrent_connects, 8u);
  EXPECT_EQ(config->api_request_timeout, milliseconds(10000));
}

TEST(Config, ReadsEveryVariable) {
  const Environment env = {{"NODE_ENV", "test"},
                           {"PORT", "4001"},
                           {"SERVER_ID", "ms-7"},
                           {"SERVER_IP", "10.0.0.7"},
                           {"API_SERVER_URL", "https://api.example.com:8443/base"},
                           {"API_SECRET_KEY", "k"},
                           {"MEDIA_SERVER_SECRET", "m"},
                           {"LOG_LEVEL", "debug"},
                           {"LOG_FORMAT", "json"},
                           {"HEARTBEAT_INTERVAL", "1500"},
                           {"STAGE_SYNC_INTERVAL", "2500"},
                           {"ENABLE_AUTO_SYNC", "false"},
                           {"SHUTDOWN_TIMEOUT", "3000"},
                           {"RTC_UDP_PORT", "40000"},
                           {"RTC_ANNOUNCED_IP", "::1"},
                           {"MAX_CONCURRENT_CONNECTS", "3"},
                           {"API_REQUEST_TIMEOUT", "700"}};
  auto config = load_config(env);
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->port, 4001);
  EXPECT_EQ(config->server_ip, "10.0.0.7");
  EXPECT_EQ(config->api_server_url, "https://api.example.com:8443/base");
  EXPECT_EQ(config->log_format, "json");
  EXPECT_EQ(config->heartbeat_interval, milliseconds(1500));
  EXPECT_FALSE(config->enable_auto_sync);
  EXPECT_EQ(config->rtc_announced_ip, "::1");
  EXPECT_EQ(config->max_concurrent_connects, 3u);
  EXPECT_EQ(config->api_request_timeout, milliseconds(700));
}

TEST(Config, EnvironmentWinsOverDotenvWhichWinsOverDefault) {
  auto config = load_config({{"PORT", "5000"}}, {{"PORT", "6000"}, {"SERVER_ID", "from-file"}});
  ASSERT_TRUE(config.ok());
  EXPECT_EQ(config->port, 5000);
  EXPECT_EQ(config->server_id, "from-file");
  EXPECT_EQ(config->effective.at("PORT").source, ValueSource::environment);
  EXPECT_EQ(config->effective.at("SERVER_ID").source, ValueSource::dotenv);
  EXPECT_EQ(config->effective.at("LOG_LEVEL").source, ValueSource::default_value);
}

struct BadValue {
  const char* name;
  const char* value;
  const char* accepted_fragment;
};

class ConfigRejects : public ::testing::TestWithParam<BadValue> {};

TEST_P(ConfigRejects, WithOneLineNamingVariableValueAndWhatIsAccepted) {
  const BadValue bad = GetParam();
  auto config = load_config({{bad.name, bad.value}});
  ASSERT_FALSE(config.ok());
  const std::string& line = config.error().message;
  EXPECT_EQ(line.find('\n'), std::string::npos);
  EXPECT_NE(line.find(bad.name), std::string::npos) << line;
  EXPECT_NE(line.find(std::string("\"") + bad.value + "\""), std::string::npos) << line;
  EXPECT_NE(line.find(bad.accepted_fragment), std::string::npos) << line;
}

INSTANTIATE_TEST_SUITE_P(
    BadValues, ConfigRejects,
    ::testing::Values(BadValue{"HEARTBEAT_INTERVAL", "30s", "milliseconds"},
                      BadValue{"HEARTBEAT_INTERVAL", "-5", "milliseconds"},
                      BadValue{"STAGE_SYNC_INTERVAL", "", "milliseconds"},
                      BadValue{"PORT", "70000", "port"}, BadValue{"PORT", "80a", "port"},
                      BadValue{"API_SERVER_URL", "localhost:3000", "http://"},
                      BadValue{"API_SERVER_URL", "ftp://host/", "http://"},
                      BadValue{"API_SERVER_URL", "http://", "host"},
                      BadValue{"WHIP_ENDPOINT", "not a url", "https://"},
                      BadValue{"LOG_LEVEL", "verbose", "debug, info, warn, error"},
                      BadValue{"LOG_FORMAT", "xml", "text, json"},
                      BadValue{"ENABLE_AUTO_SYNC", "maybe", "true or false"},
                      BadValue{"NODE_ENV", "staging", "production"},
                      BadValue{"RTC_ANNOUNCED_IP", "example.com", "IPv4"},
                      BadValue{"MAX_CONCURRENT_CONNECTS", "0", "from 1"},
                      BadValue{"SERVER_ID", "", "non-empty"},
                      BadValue{"HTTP_BIND_IP", "localhost", "IPv4 or IPv6 address"},
                      BadValue{"SHARD_PEERS", "edges.svc", "host:port"},
                      BadValue{"SHARD_PEERS", "10.0.0.1:8080,10.0.0.2:http", "host:port"},
                      BadValue{"SHARD_SELF", "10.0.0.1", "ip:port"},
                      BadValue{"INGEST_PULL_URL", "origin/whep", "http://"}));

// SHARD_PEERS (docs/scale-out.md): entries split on commas and spaces; this server's own
// address defaults to SERVER_IP:PORT and is required.
TEST(Config, ShardPeersAndSelf) {
  auto config = load_config({{"SHARD_PEERS", "edges.media.svc:3001, 10.0.0.9:3001,[fd00::1]:3001"},
                             {"SERVER_IP", "10.0.0.7"},
                             {"PORT", "3001"}});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->shard_peers,
            (std::vector<std::string>{"edges.media.svc:3001", "10.0.0.9:3001", "[fd00::1]:3001"}));
  EXPECT_EQ(config->shard_self, "10.0.0.7:3001");
  EXPECT_EQ(config->shard_refresh, std::chrono::milliseconds(2000));
  EXPECT_EQ(config->shard_handover_grace, std::chrono::milliseconds(5000));
  auto unknown_self = load_config({{"SHARD_PEERS", "edges.media.svc:3001"}});
  ASSERT_FALSE(unknown_self);
  EXPECT_NE(unknown_self.error().message.find("SHARD_SELF"), std::string::npos);
  EXPECT_TRUE(load_config({})->shard_peers.empty());
}

// Issue 13 item 9: HTTPS needs the certificate and its key; one without the other is a typo,
// and serving plain HTTP instead would send OBS's token in clear.
TEST(Config, TlsNeedsBothFilesOrNeither) {
  for (const char* alone : {"TLS_CERT_FILE", "TLS_KEY_FILE"}) {
    auto config = load_config({{alone, "/etc/ivs/tls.pem"}});
    ASSERT_FALSE(config.ok()) << alone;
    EXPECT_NE(config.error().message.find(std::string(alone) + " is set but"), std::string::npos)
        << config.error().message;
    EXPECT_NE(config.error().message.find("set both"), std::string::npos);
  }
  auto both = load_config(
      {{"TLS_CERT_FILE", "/c.pem"}, {"TLS_KEY_FILE", "/k.pem"}, {"HTTP_BIND_IP", "::"}});
  ASSERT_TRUE(both.ok()) << both.error().message;
  EXPECT_EQ(both->tls_cert_file, "/c.pem");
  EXPECT_EQ(both->tls_key_file, "/k.pem");
  EXPECT_EQ(both->http_bind_ip, "::");
  EXPECT_EQ(load_config({})->http_bind_ip, "0.0.0.0");
}

TEST(Config, ProductionRequiresBothSecrets) {
  auto missing =
      load_config({{"NODE_ENV", "production"}, {"API_SECRET_KEY", "k-0123456789abcdef"}});
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("MEDIA_SERVER_SECRET"), std::string::npos);
  auto complete = load_config({{"NODE_ENV", "production"},
                               {"API_SECRET_KEY", "k-0123456789abcdef"},
                               {"MEDIA_SERVER_SECRET", "m-0123456789abcdef"}});
  EXPECT_TRUE(complete.ok());
  EXPECT_TRUE(complete->production);
}

TEST(Config, BooleanSpellings) {
  for (const char* yes : {"true", "TRUE", "1", "yes", "on"}) {
    EXPECT_TRUE(load_config({{"ENABLE_AUTO_SYNC", yes}})->enable_auto_sync) << yes;
  }
  for (const char* no : {"false", "False", "0", "no", "off"}) {
    EXPECT_FALSE(load_config({{"ENABLE_AUTO_SYNC", no}})->enable_auto_sync) << no;
  }
}

TEST(Config, PrintedConfigRedactsSecrets) {
  auto config = load_config({{"API_SECRET_KEY", "super-secret-key"}, {"PORT", "4000"}},
                            {{"WHIP_INGEST_TOKEN", "ingest-secret"}});
  ASSERT_TRUE(config.ok());
  const std::string printed = format_effective_config(*config);
  EXPECT_EQ(printed.find("super-secret-key"), std::string::npos);
  EXPECT_EQ(printed.find("ingest-secret"), std::string::npos);
  EXPECT_NE(printed.find("API_SECRET_KEY=***  # environment"), std::string::npos) << printed;
  EXPECT_NE(printed.find("WHIP_INGEST_TOKEN=***  # .env"), std::string::npos);
  EXPECT_NE(printed.find("MEDIA_SERVER_SECRET=(unset)"), std::string::npos);
  EXPECT_NE(printed.find("PORT=4000  # environment"), std::string::npos);
  EXPECT_NE(printed.find("HEARTBEAT_INTERVAL=30000  # default"), std::string::npos);
}

TEST(Config, HelpListsEveryVariableWithDefault) {
  const std::string help = format_config_help();
  std::set<std::string_view> names;
  for (const auto& variable : config_variables()) {
    names.insert(variable.name);
    EXPECT_NE(help.find(std::string(variable.name)), std::string::npos) << variable.name;
  }
  EXPECT_EQ(names.size(), config_variables().size());  // no duplicates
  EXPECT_NE(help.find("[default: 30000]"), std::string::npos);
  EXPECT_NE(help.find("[default: https://global.whip.live-video.net]"), std::string::npos);
  for (const char* seed :
       {"NODE_ENV", "PORT", "SERVER_ID", "SERVER_IP", "API_SERVER_URL", "API_SECRET_KEY",
        "MEDIA_SERVER_SECRET", "AWS_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY",
        "WHIP_ENDPOINT", "LOG_LEVEL", "HEARTBEAT_INTERVAL", "STAGE_SYNC_INTERVAL",
        "ENABLE_AUTO_SYNC"}) {
    EXPECT_TRUE(names.count(seed)) << seed;
  }
}

TEST(Dotenv, ParsesPlainQuotedCommentedAndExported) {
  auto env = parse_dotenv(
      "# API Server\n"
      "API_SERVER_URL=http://localhost:3000\n"
      "\n"
      "  SERVER_ID = media-server-02   # inline comment\n"
      "export PORT=3005\n"
      "API_SECRET_KEY=\"quoted # not a comment\"\n"
      "MEDIA_SERVER_SECRET='single $literal \\n'\n"
      "WITH_ESCAPES=\"a\\nb\\\"c\\\\\"\n"
      "EMPTY=\n"
      "HASH=abc#def\r\n");
  ASSERT_TRUE(env.ok()) << env.error().message;
  EXPECT_EQ(env->at("API_SERVER_URL"), "http://localhost:3000");
  EXPECT_EQ(env->at("SERVER_ID"), "media-server-02");
  EXPECT_EQ(env->at("PORT"), "3005");
  EXPECT_EQ(env->at("API_SECRET_KEY"), "quoted # not a comment");
  EXPECT_EQ(env->at("MEDIA_SERVER_SECRET"), "single $literal \\n");
  EXPECT_EQ(env->at("WITH_ESCAPES"), "a\nb\"c\\");
  EXPECT_EQ(env->at("EMPTY"), "");
  EXPECT_EQ(env->at("HASH"), "abc#def");
}

TEST(Dotenv, ErrorsNameTheLine) {
  auto no_equals = parse_dotenv("A=1\nJUST_A_WORD\n");
  ASSERT_FALSE(no_equals.ok());
  EXPECT_NE(no_equals.error().message.find("line 2"), std::string::npos);
  auto unterminated = parse_dotenv("A=\"open\n");
  ASSERT_FALSE(unterminated.ok());
  EXPECT_NE(unterminated.error().message.find("unterminated"), std::string::npos);
  EXPECT_FALSE(parse_dotenv("=value\n").ok());
  EXPECT_FALSE(parse_dotenv("A=\"x\" trailing\n").ok());
}

TEST(Dotenv, MissingFileIsEmpty) {
  auto env = load_dotenv_file("/nonexistent-dir-for-test/.env");
  ASSERT_TRUE(env.ok());
  EXPECT_TRUE(env->empty());
}

}  // namespace
}  // namespace ivs::app

namespace ivs::app {
namespace {

TEST(WhipDestinations, ParsesEntriesSeparatedBySemicolonsAndNewlines) {
  auto parsed =
      parse_whip_destinations(" https://a.example/whip/1 tok1 ;\nhttp://127.0.0.1:3002/whip/x\n; ");
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(parsed->size(), 2u);
  EXPECT_EQ((*parsed)[0].url, "https://a.example/whip/1");
  EXPECT_EQ((*parsed)[0].token, "tok1");
  EXPECT_EQ((*parsed)[1].url, "http://127.0.0.1:3002/whip/x");
  EXPECT_EQ((*parsed)[1].token, "");
}

TEST(WhipDestinations, RejectsANonUrlAndExtraWordsWithOneLine) {
  EXPECT_FALSE(parse_whip_destinations("not-a-url tok"));
  EXPECT_FALSE(parse_whip_destinations("https://a.example/w tok extra"));
  auto config = load_config({{"WHIP_DESTINATIONS", "ftp://x/y"}});
  ASSERT_FALSE(config);
  EXPECT_NE(config.error().message.find("WHIP_DESTINATIONS"), std::string::npos);
}

TEST(NewRelayVariables, HaveDefaultsAndAreValidated) {
  auto config = load_config({});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->rtc_bind_ip, "0.0.0.0");
  EXPECT_FALSE(config->refuse_second_publisher);
  EXPECT_EQ(config->whep_max_viewers, 100u);
  EXPECT_EQ(config->stage_republish_interval, std::chrono::hours(23));
  EXPECT_FALSE(load_config({{"WHIP_PUBLISHER_POLICY", "maybe"}}));
  EXPECT_FALSE(load_config({{"RTC_BIND_IP", "host.example"}}));
  auto refuse =
      load_config({{"WHIP_PUBLISHER_POLICY", "refuse"}, {"VIDEO_LIMITS_POLICY", "reject"}});
  ASSERT_TRUE(refuse);
  EXPECT_TRUE(refuse->refuse_second_publisher);
  EXPECT_TRUE(refuse->reject_video_over_ivs_limits);
}

}  // namespace
}  // namespace ivs::app

namespace ivs::app {
namespace {

// Issue 13, item 7: a malformed WHIP_DESTINATIONS printed its token in the start-up error.
// Every variable marked secret is now described, never echoed, whatever its validator says.
TEST(ConfigSecrets, ErrorsNeverEchoASecretValue) {
  const std::string token = "tok-SHOULD-NOT-APPEAR";
  for (const char* value :
       {"https://a.example/w tok-SHOULD-NOT-APPEAR extra", "ftp://user:tok-SHOULD-NOT-APPEAR@x/y",
        "https://h/w?token=tok-SHOULD-NOT-APPEAR tok extra"}) {
    auto config = load_config({{"WHIP_DESTINATIONS", value}});
    ASSERT_FALSE(config) << value;
    EXPECT_NE(config.error().message.find("WHIP_DESTINATIONS"), std::string::npos);
    EXPECT_EQ(config.error().message.find(token), std::string::npos) << config.error().message;
    auto parsed = parse_whip_destinations(value);
    ASSERT_FALSE(parsed);
    EXPECT_EQ(parsed.error().message.find(token), std::string::npos) << parsed.error().message;
  }
}

// Every variable marked secret, in both roles' tables: --print-config shows *** and an invalid
// value (where the variable has a validator) is not echoed.
TEST(ConfigSecrets, EverySecretVariableIsRedactedInPrintedConfig) {
  const std::string value = "Zz9-secret-value-0123456789";
  Environment environment;
  std::size_t secrets = 0;
  for (const ConfigVariable& variable : config_variables()) {
    if (variable.secret) {
      ++secrets;
      environment[std::string(variable.name)] =
          variable.name == "WHIP_DESTINATIONS" ? "https://a.example/w " + value : value;
    }
  }
  EXPECT_GE(secrets, 7u);
  auto config = load_config(environment);
  ASSERT_TRUE(config) << config.error().message;
  const std::string printed = format_effective_config(*config);
  EXPECT_EQ(printed.find(value), std::string::npos) << printed;
  for (const ConfigVariable& variable : config_variables()) {
    if (variable.secret) {
      EXPECT_NE(printed.find(std::string(variable.name) + "=***"), std::string::npos)
          << variable.name;
    }
  }
}

// Issue 13, item 8: NODE_ENV=production accepted 1-character secrets.
TEST(ConfigSecrets, ProductionNeedsSixteenCharactersAndSaysWhatToDo) {
  const Environment base = {{"NODE_ENV", "production"},
                            {"API_SECRET_KEY", "0123456789abcdef"},
                            {"MEDIA_SERVER_SECRET", "fedcba9876543210"}};
  ASSERT_TRUE(load_config(base));
  for (const char* name :
       {"API_SECRET_KEY", "MEDIA_SERVER_SECRET", "WHIP_INGEST_TOKEN", "WHEP_TOKEN"}) {
    Environment environment = base;
    environment[name] = "x";
    auto config = load_config(environment);
    ASSERT_FALSE(config) << name;
    EXPECT_NE(config.error().message.find(name), std::string::npos) << config.error().message;
    EXPECT_NE(config.error().message.find("at least 16"), std::string::npos);
    EXPECT_NE(config.error().message.find("openssl rand"), std::string::npos);
    EXPECT_EQ(config.error().message.find("=x"), std::string::npos);
  }
  // Development keeps short secrets working (local runs, tests).
  EXPECT_TRUE(load_config({{"API_SECRET_KEY", "k"}, {"WHIP_INGEST_TOKEN", "t"}}));
  // Third-party credentials (AWS keys, WHIP_DESTINATIONS tokens) have no minimum of ours.
  Environment environment = base;
  environment["WHIP_DESTINATIONS"] = "https://a.example/w short";
  EXPECT_TRUE(load_config(environment));
}

// Issue 13, item 15: SERVER_ID went unchecked into the WebSocket's serverId header and into JSON
// (a CR/LF would split the header), and RTC_BIND_IP accepted IPv6, which the IPv4-only media
// plane then refused at start-up with a less helpful message.
TEST(ConfigSecurity, ServerIdAndRtcBindIpAreValidated) {
  EXPECT_TRUE(load_config({{"SERVER_ID", "media-7f9c.eu_west-1"}}));
  for (const char* bad : {"a\r\nx-api-key: y", "with space", "quote\"", ""}) {
    auto config = load_config({{"SERVER_ID", bad}});
    ASSERT_FALSE(config) << bad;
    EXPECT_NE(config.error().message.find("SERVER_ID"), std::string::npos);
  }
  EXPECT_FALSE(load_config({{"SERVER_ID", std::string(129, 'a')}}));
  EXPECT_TRUE(load_config({{"RTC_BIND_IP", "127.0.0.1"}}));
  auto v6 = load_config({{"RTC_BIND_IP", "::"}});
  ASSERT_FALSE(v6);
  EXPECT_NE(v6.error().message.find("IPv4"), std::string::npos) << v6.error().message;
}

TEST(ConfigSecurity, EdgeLimitsHaveDefaultsAndAreValidated) {
  auto config = load_config({});
  ASSERT_TRUE(config);
  EXPECT_FALSE(config->whep_open);
  EXPECT_EQ(config->whep_max_connecting, 20u);
  EXPECT_EQ(config->whep_max_connecting_per_ip, 8u);
  EXPECT_EQ(config->session_connect_timeout, std::chrono::seconds(10));
  EXPECT_EQ(config->health_port, 0);
  EXPECT_EQ(config->http_max_connections, 1024u);
  EXPECT_EQ(config->http_max_connections_per_ip, 64u);
  EXPECT_EQ(config->http_reserved_connections, 32u);
  EXPECT_EQ(config->http_header_timeout, std::chrono::seconds(10));
  EXPECT_EQ(config->http_request_timeout, std::chrono::seconds(30));
  EXPECT_EQ(config->http_rate_limit, 100);
  EXPECT_EQ(config->auth_failure_limit, 10u);
  EXPECT_EQ(config->auth_failure_window, std::chrono::seconds(60));
  EXPECT_FALSE(load_config({{"HTTP_HEADER_TIMEOUT", "30000"}})) << "a header deadline <= 10 s";
  EXPECT_FALSE(load_config({{"HTTP_MAX_CONNECTIONS", "0"}}));
  EXPECT_FALSE(load_config({{"SESSION_CONNECT_TIMEOUT", "500"}}));
  EXPECT_TRUE(load_config({{"WHEP_OPEN", "true"}})->whep_open);
}

}  // namespace
}  // namespace ivs::app

namespace ivs::app {
namespace {

// Issue 13, item 12: the dashboard's stage buttons took WHIP_INGEST_TOKEN, so every publisher
// (every OBS profile) could delete stages, and CORS was "*" with no way to narrow it.
TEST(ConfigSecurity, AdminTokenAndCorsOrigins) {
  auto config = load_config({});
  ASSERT_TRUE(config);
  EXPECT_TRUE(config->admin_token.empty());
  EXPECT_TRUE(config->cors_allow_origins.empty()) << "default * = any origin";
  config = load_config({{"ADMIN_TOKEN", "admin-0123456789abcdef"},
                        {"CORS_ALLOW_ORIGINS", "https://app.example, http://127.0.0.1:8080"}});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_EQ(config->admin_token, "admin-0123456789abcdef");
  EXPECT_EQ(config->cors_allow_origins,
            (std::vector<std::string>{"https://app.example", "http://127.0.0.1:8080"}));
  for (const char* bad : {"https://app.example/path", "app.example", "ftp://x", ""}) {
    auto refused = load_config({{"CORS_ALLOW_ORIGINS", bad}});
    ASSERT_FALSE(refused) << bad;
    EXPECT_NE(refused.error().message.find("CORS_ALLOW_ORIGINS"), std::string::npos);
  }
  auto short_admin = load_config({{"NODE_ENV", "production"},
                                  {"API_SECRET_KEY", "0123456789abcdef"},
                                  {"MEDIA_SERVER_SECRET", "0123456789abcdef"},
                                  {"ADMIN_TOKEN", "short"}});
  ASSERT_FALSE(short_admin);
  EXPECT_NE(short_admin.error().message.find("ADMIN_TOKEN"), std::string::npos);
}

TEST(ConfigSecurity, IngestAllowListIsParsedAndValidated) {
  auto config = load_config({});
  ASSERT_TRUE(config) << config.error().message;
  EXPECT_TRUE(config->whip_ingest_allowed.empty()) << "default: any address may publish";
  config = load_config({{"WHIP_INGEST_ALLOWED_CIDRS", "203.0.113.0/24, 2001:db8::/32 127.0.0.1"}});
  ASSERT_TRUE(config) << config.error().message;
  ASSERT_EQ(config->whip_ingest_allowed.size(), 3u);
  EXPECT_EQ(config->whip_ingest_allowed[0].to_string(), "203.0.113.0/24");
  EXPECT_EQ(config->whip_ingest_allowed[2].to_string(), "127.0.0.1/32");
  for (const char* bad : {"10.0.0.1/8", "10.0.0.0/33", "example.com", " , "}) {
    auto refused = load_config({{"WHIP_INGEST_ALLOWED_CIDRS", bad}});
    ASSERT_FALSE(refused) << bad;
    EXPECT_NE(refused.error().message.find("WHIP_INGEST_ALLOWED_CIDRS"), std::string::npos);
  }
}

}  // namespace
}  // namespace ivs::app
