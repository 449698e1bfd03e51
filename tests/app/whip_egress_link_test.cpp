// WHIP egress response headers (app/egress/whip_egress_link): the Link header's STUN/TURN entries
// and the resolution of Location against the URL that answered. Pure parsing, no sockets.
#include <gtest/gtest.h>

#include "app/egress/whip_egress_link.hpp"

namespace ivs::app {
namespace {

TEST(WhipLinkTest, ParsesStunAndTurnEntries) {
  auto links = parse_ice_server_links(
      "<stun:stun.example.net>; rel=\"ice-server\", <turn:turn.example.net:3479?transport=udp>; "
      "rel=\"ice-server\"; username=\"user\"; credential=\"p,w\", <https://x/y>; rel=\"next\"");
  ASSERT_EQ(links.size(), 2u);
  EXPECT_EQ(links[0].scheme, "stun");
  EXPECT_EQ(links[0].host, "stun.example.net");
  EXPECT_EQ(links[0].port, 3478);
  EXPECT_EQ(links[1].scheme, "turn");
  EXPECT_EQ(links[1].port, 3479);
  EXPECT_EQ(links[1].username, "user");
  EXPECT_EQ(links[1].credential, "p,w");
}

TEST(WhipLinkTest, FirstStunSkipsTurnAndOtherRelations) {
  auto stun = first_stun_server(
      {"<turn:t.example>; rel=ice-server", "<stun:[2001:db8::1]:19302>; rel=\"ice-server\""});
  ASSERT_TRUE(stun.has_value());
  EXPECT_EQ(stun->host, "2001:db8::1");
  EXPECT_EQ(stun->port, 19302);
  EXPECT_FALSE(first_stun_server({"<stun:a.example>; rel=\"preconnect\""}).has_value());
  EXPECT_FALSE(first_stun_server({"<stun:a.example:99999>; rel=\"ice-server\""}).has_value());
  EXPECT_FALSE(first_stun_server({"garbage", "", "<stun:>; rel=ice-server"}).has_value());
}

TEST(WhipLinkTest, ResolvesLocations) {
  const std::string base = "https://r1.whip.example/v1/whip?x=1";
  EXPECT_EQ(resolve_url(base, "https://other/a"), "https://other/a");
  EXPECT_EQ(resolve_url(base, "/v1/whip/abc"), "https://r1.whip.example/v1/whip/abc");
  EXPECT_EQ(resolve_url(base, "abc"), "https://r1.whip.example/v1/abc");
  EXPECT_EQ(resolve_url(base, "//cdn.example/z"), "https://cdn.example/z");
  EXPECT_EQ(resolve_url("http://h:1", "res"), "http://h:1/res");
}

}  // namespace
}  // namespace ivs::app
