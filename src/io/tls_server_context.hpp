// TLS for the HTTP listener (RFC 8446 TLS 1.3, RFC 5246 TLS 1.2; nothing older): a server context
// built from the PEM files an operator or cert-manager writes, and what to log about it.
//
// Why files read again rather than a context kept for the process's life: certificates are
// renewed (Let's Encrypt every 60-90 days) by rewriting the files, and a media server that must
// restart for that would end the broadcast. HttpServer::set_tls_context() swaps the context for
// the connections accepted afterwards; established ones keep theirs.
#pragma once

#include <memory>
#include <string>

#include "proto/result.hpp"

namespace boost::asio::ssl {
class context;
}

namespace ivs::io {

// `certificate_chain_file`: PEM, the server certificate first, then its intermediates.
// `private_key_file`: PEM, the certificate's key (not encrypted). The error names the file and
// what is wrong with it (unreadable, not PEM, key does not match the certificate).
Result<std::shared_ptr<boost::asio::ssl::context>> load_server_tls_context(
    const std::string& certificate_chain_file, const std::string& private_key_file);

// "/CN=media.example.com, valid until 2027-03-01 12:00:00Z": the leaf certificate of `context`,
// for the log line that says which certificate is being served.
std::string describe_server_certificate(boost::asio::ssl::context& context);

}  // namespace ivs::io
