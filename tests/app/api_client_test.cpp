// API client wire details that need no socket: URLs and the dual-header authentication.
#include "app/control/api_client.hpp"

#include <gtest/gtest.h>

namespace ivs::app {
namespace {

ApiClientOptions options() {
  ApiClientOptions o;
  o.base_url = "http://localhost:3000";
  o.api_key = "key-1";
  o.media_secret = "media-1";
  o.server_id = "media-server-01";
  return o;
}

bool has(const HeaderList& headers, const std::string& name, const std::string& value) {
  for (const auto& [n, v] : headers) {
    if (n == name && v == value) {
      return true;
    }
  }
  return false;
}
bool has_name(const HeaderList& headers, const std::string& name) {
  for (const auto& [n, v] : headers) {
    if (n == name) {
      return true;
    }
  }
  return false;
}

TEST(ApiClient, UrlsJoinWithoutDoubleSlashes) {
  EXPECT_EQ(api_url("http://h:3000", "/api/media/stages"), "http://h:3000/api/media/stages");
  EXPECT_EQ(api_url("http://h:3000/", "/api/media/stages"), "http://h:3000/api/media/stages");
  EXPECT_EQ(api_url("https://h/prefix/", "/api/media/token"), "https://h/prefix/api/media/token");
}

TEST(ApiClient, WebSocketUrlSwapsSchemeAndAddsPathAndQuery) {
  EXPECT_EQ(websocket_url("http://localhost:3000").value(),
            "ws://localhost:3000/ws?type=media-server");
  EXPECT_EQ(websocket_url("https://api.example.com").value(),
            "wss://api.example.com/ws?type=media-server");
  EXPECT_EQ(websocket_url("https://api.example.com/base/").value(),
            "wss://api.example.com/base/ws?type=media-server");
  EXPECT_EQ(websocket_url("http://127.0.0.1:3000/?x=1#frag").value(),
            "ws://127.0.0.1:3000/ws?type=media-server");
  EXPECT_FALSE(websocket_url("ftp://h/").ok());
  EXPECT_FALSE(websocket_url("no-scheme").ok());
}

TEST(ApiClient, ApiKeyOnEveryCallMediaAuthOnRegisterTokenAndWebSocket) {
  const auto o = options();
  for (ApiCall call : {ApiCall::register_server, ApiCall::list_stages, ApiCall::fetch_token,
                       ApiCall::heartbeat, ApiCall::websocket}) {
    EXPECT_TRUE(has(auth_headers(call, o), "x-api-key", "key-1"));
  }
  EXPECT_TRUE(has(auth_headers(ApiCall::register_server, o), "x-media-auth", "media-1"));
  EXPECT_TRUE(has(auth_headers(ApiCall::fetch_token, o), "x-media-auth", "media-1"));
  EXPECT_TRUE(has(auth_headers(ApiCall::websocket, o), "x-media-auth", "media-1"));
  EXPECT_FALSE(has_name(auth_headers(ApiCall::list_stages, o), "x-media-auth"));
  EXPECT_FALSE(has_name(auth_headers(ApiCall::heartbeat, o), "x-media-auth"));
  EXPECT_TRUE(has(auth_headers(ApiCall::websocket, o), "serverId", "media-server-01"));
  EXPECT_FALSE(has_name(auth_headers(ApiCall::heartbeat, o), "serverId"));
}

TEST(ApiClient, UnsetSecretsAreNotSent) {
  ApiClientOptions o = options();
  o.api_key.clear();
  o.media_secret.clear();
  EXPECT_FALSE(has_name(auth_headers(ApiCall::register_server, o), "x-api-key"));
  EXPECT_FALSE(has_name(auth_headers(ApiCall::register_server, o), "x-media-auth"));
}

}  // namespace
}  // namespace ivs::app
