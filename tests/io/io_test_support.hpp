// Helpers for tests/io: drive a real io_context until a condition holds or a deadline passes
// (no sleeps), a raw TCP client for sending arbitrary bytes, and an HTTP response splitter.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

namespace ivs::io::testing {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;

// Runs handlers until `done()` is true or `limit` passed; returns done(). Waiting happens inside
// run_one_for, i.e. on the event queue, not in a sleep.
inline bool run_until(asio::io_context& io, const std::function<bool()>& done,
                      std::chrono::milliseconds limit = std::chrono::seconds(10)) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  io.restart();
  while (!done() && std::chrono::steady_clock::now() < deadline) {
    io.run_one_for(std::chrono::milliseconds(20));
  }
  return done();
}

// A TCP client that writes raw bytes and collects everything the server sends until it closes.
class RawClient {
 public:
  explicit RawClient(asio::io_context& io) : socket_(io) {}

  void connect(std::uint16_t port) {
    socket_.async_connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), port),
                          [this](boost::system::error_code error) {
                            connected_ = !error;
                            closed_ = static_cast<bool>(error);
                            if (!error) {
                              read_loop();
                            }
                          });
  }

  void write(std::string bytes) {
    auto shared = std::make_shared<std::string>(std::move(bytes));
    asio::async_write(socket_, asio::buffer(*shared),
                      [shared](boost::system::error_code, std::size_t) {});
  }

  bool connected() const { return connected_; }
  bool closed() const { return closed_; }
  const std::string& received() const { return received_; }

 private:
  void read_loop() {
    socket_.async_read_some(asio::buffer(chunk_),
                            [this](boost::system::error_code error, std::size_t size) {
                              received_.append(chunk_.data(), size);
                              if (error) {
                                closed_ = true;
                                return;
                              }
                              read_loop();
                            });
  }

  tcp::socket socket_;
  std::array<char, 4096> chunk_{};
  std::string received_;
  bool connected_ = false;
  bool closed_ = false;
};

using RawResponse = boost::beast::http::response<boost::beast::http::string_body>;

// Splits a byte stream into the complete HTTP responses it holds. `head_only` parses a response
// to HEAD (Content-Length present, no body).
inline std::vector<RawResponse> parse_responses(std::string_view bytes, bool head_only = false) {
  std::vector<RawResponse> responses;
  while (!bytes.empty()) {
    boost::beast::http::response_parser<boost::beast::http::string_body> parser;
    parser.eager(true);
    parser.skip(head_only);
    boost::beast::error_code error;
    std::size_t used = 0;
    while (!parser.is_done()) {
      const std::size_t n =
          parser.put(asio::buffer(bytes.data() + used, bytes.size() - used), error);
      if (error || n == 0) {
        return responses;
      }
      used += n;
    }
    responses.push_back(parser.release());
    bytes.remove_prefix(used);
  }
  return responses;
}

}  // namespace ivs::io::testing
