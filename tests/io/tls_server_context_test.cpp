// HTTPS on our own listener (issue 13 item 9): a server context from PEM files, the errors an
// operator gets for wrong files, and a certificate swapped on a running HttpServer (what SIGHUP
// does after a renewal) reaching new connections. Real sockets on loopback; the client is our
// HttpClient with a context that trusts exactly one test certificate.
#include "io/tls_server_context.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ssl/context.hpp>

#include <filesystem>
#include <fstream>

#include "io/http_client.hpp"
#include "io/http_router.hpp"
#include "io/http_server.hpp"
#include "io/io_test_support.hpp"
#include "io/tls_test_support.hpp"

namespace ivs::io {
namespace {

namespace fs = std::filesystem;

class TlsServerContextTest : public ::testing::Test {
 protected:
  void SetUp() override {
    directory_ = fs::temp_directory_path() /
                 ("ivs-tls-" + std::to_string(::getpid()) + "-" +
                  ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(directory_);
  }
  void TearDown() override { fs::remove_all(directory_); }

  std::string write(const std::string& name, const std::string& contents) {
    const fs::path path = directory_ / name;
    std::ofstream(path, std::ios::binary) << contents;
    return path.string();
  }

  // GET /hello over https with a client that trusts only `trusted`.
  Result<HttpClient::Response> get_trusting(const testing::TestCertificate& trusted) {
    HttpClient client(io_, testing::make_client_tls_context_trusting(trusted));
    std::optional<Result<HttpClient::Response>> outcome;
    client.request(
        {.method = http::verb::get,
         .url = "https://127.0.0.1:" + std::to_string(server_->port()) + "/hello"},
        [&](Result<HttpClient::Response> result) { outcome.emplace(std::move(result)); });
    EXPECT_TRUE(testing::run_until(io_, [&] { return outcome.has_value(); }));
    return outcome ? std::move(*outcome) : make_error("no answer");
  }

  void start_server(std::shared_ptr<boost::asio::ssl::context> tls) {
    HttpRouter router;
    router.get("/hello", [](const HttpRequest&, const RequestContext& context) {
      return text_response(http::status::ok, context.scheme_host, "text/plain");
    });
    HttpServer::Options options;
    options.bind_address = "127.0.0.1";
    options.tls_context = std::move(tls);
    server_ = std::make_unique<HttpServer>(io_, options, router.as_handler());
    ASSERT_TRUE(server_->start().ok());
  }

  fs::path directory_;
  boost::asio::io_context io_;
  std::unique_ptr<HttpServer> server_;
  testing::TestCertificate first_ = testing::make_self_signed_certificate("IP:127.0.0.1");
  testing::TestCertificate second_ = testing::make_self_signed_certificate("IP:127.0.0.1");
};

TEST_F(TlsServerContextTest, MatchingPemFilesAreServedOverHttps) {
  auto context = load_server_tls_context(write("cert.pem", first_.certificate_pem),
                                         write("key.pem", first_.private_key_pem));
  ASSERT_TRUE(context.ok()) << context.error().message;
  start_server(*context);
  const auto response = get_trusting(first_);
  ASSERT_TRUE(response.ok()) << response.error().message;
  EXPECT_EQ(response->status, 200u);
  // The request context knows the scheme, so the URLs the server prints (Location) say https.
  EXPECT_EQ(response->body.substr(0, 8), "https://");
}

TEST_F(TlsServerContextTest, DescriptionNamesTheSubjectAndExpiry) {
  auto context = load_server_tls_context(write("cert.pem", first_.certificate_pem),
                                         write("key.pem", first_.private_key_pem));
  ASSERT_TRUE(context.ok()) << context.error().message;
  const std::string described = describe_server_certificate(**context);
  EXPECT_NE(described.find("CN=ivs test"), std::string::npos) << described;
  EXPECT_NE(described.find("valid until 20"), std::string::npos) << described;
}

TEST_F(TlsServerContextTest, MissingFileIsNamed) {
  const auto context =
      load_server_tls_context((directory_ / "absent.pem").string(), write("key.pem", "x"));
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.error().message.find("absent.pem"), std::string::npos)
      << context.error().message;
}

TEST_F(TlsServerContextTest, FileThatIsNotPemIsNamed) {
  const auto context = load_server_tls_context(write("cert.pem", "not a certificate\n"),
                                               write("key.pem", first_.private_key_pem));
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.error().message.find("cert.pem' is not a PEM certificate chain"),
            std::string::npos)
      << context.error().message;
}

TEST_F(TlsServerContextTest, KeyOfAnotherCertificateIsRefused) {
  const auto context = load_server_tls_context(write("cert.pem", first_.certificate_pem),
                                               write("key.pem", second_.private_key_pem));
  ASSERT_FALSE(context.ok());
  EXPECT_NE(context.error().message.find("does not match the certificate"), std::string::npos)
      << context.error().message;
}

// What SIGHUP does after a renewal: connections accepted after set_tls_context() get the new
// certificate, so a client that trusts only the old one now fails and one that trusts only the
// new one succeeds.
TEST_F(TlsServerContextTest, SwappedContextReachesNewConnections) {
  auto first = load_server_tls_context(write("cert1.pem", first_.certificate_pem),
                                       write("key1.pem", first_.private_key_pem));
  auto second = load_server_tls_context(write("cert2.pem", second_.certificate_pem),
                                        write("key2.pem", second_.private_key_pem));
  ASSERT_TRUE(first.ok() && second.ok());
  start_server(*first);
  ASSERT_TRUE(get_trusting(first_).ok());
  EXPECT_FALSE(get_trusting(second_).ok());

  server_->set_tls_context(*second);
  first->reset();  // the server holds the only reference to the old context now: none
  const auto renewed = get_trusting(second_);
  ASSERT_TRUE(renewed.ok()) << renewed.error().message;
  EXPECT_EQ(renewed->status, 200u);
  EXPECT_FALSE(get_trusting(first_).ok());
}

}  // namespace
}  // namespace ivs::io
