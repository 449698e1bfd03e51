#include "engine/dtls_bio.hpp"

#include <openssl/bio.h>

#include <algorithm>
#include <cstring>

namespace ivs::engine {
namespace {

DtlsBioChannel* channel_of(BIO* bio) {
  return static_cast<DtlsBioChannel*>(BIO_get_data(bio));
}

int bio_write(BIO* bio, const char* data, int length) {
  BIO_clear_retry_flags(bio);
  if (length <= 0) {
    return 0;
  }
  const auto* bytes = reinterpret_cast<const std::uint8_t*>(data);
  channel_of(bio)->outbound.emplace_back(bytes, bytes + length);
  return length;
}

int bio_read(BIO* bio, char* data, int length) {
  BIO_clear_retry_flags(bio);
  DtlsBioChannel* channel = channel_of(bio);
  if (channel->inbound.empty()) {
    BIO_set_retry_read(bio);
    return -1;
  }
  // One datagram per read. OpenSSL's DTLS read buffer is larger than any datagram we accept, so
  // truncation only happens to oversized garbage, which then fails record parsing.
  const std::size_t count = std::min(channel->inbound.size(), static_cast<std::size_t>(length));
  std::memcpy(data, channel->inbound.data(), count);
  channel->inbound = {};
  return static_cast<int>(count);
}

long bio_ctrl(BIO* bio, int command, long, void* pointer) {
  switch (command) {
    case BIO_CTRL_FLUSH:
      return 1;
    case BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT:
      channel_of(bio)->openssl_deadline = static_cast<struct timeval*>(pointer);
      return 1;
    case BIO_CTRL_PENDING:
      return static_cast<long>(channel_of(bio)->inbound.size());
    default:
      // WPENDING (0: nothing buffered, so OpenSSL sizes fragments by the full MTU), MTU queries
      // (disabled with SSL_OP_NO_QUERY_MTU) and everything else: not supported.
      return 0;
  }
}

int bio_create(BIO* bio) {
  BIO_set_init(bio, 1);
  return 1;
}

int bio_destroy(BIO* bio) {
  BIO_set_data(bio, nullptr);
  return 1;
}

}  // namespace

// A fixed type number outside OpenSSL's built-in range: BIO_get_new_index() would hand out one
// of at most 127 process-wide indices per call, which per-transport methods would exhaust.
constexpr int kBioType = 0x7e | BIO_TYPE_SOURCE_SINK;

DtlsBioMethod::DtlsBioMethod() : method_(BIO_meth_new(kBioType, "ivs-dtls-datagram")) {
  if (method_ != nullptr) {
    BIO_meth_set_write(method_, bio_write);
    BIO_meth_set_read(method_, bio_read);
    BIO_meth_set_ctrl(method_, bio_ctrl);
    BIO_meth_set_create(method_, bio_create);
    BIO_meth_set_destroy(method_, bio_destroy);
  }
}

DtlsBioMethod::~DtlsBioMethod() {
  BIO_meth_free(method_);
}

BIO* DtlsBioMethod::make_bio(DtlsBioChannel* channel) const {
  BIO* bio = method_ != nullptr ? BIO_new(method_) : nullptr;
  if (bio != nullptr) {
    BIO_set_data(bio, channel);
  }
  return bio;
}

std::vector<Bytes> pack_records(std::vector<Bytes>& records, std::size_t mtu) {
  std::vector<Bytes> datagrams;
  for (Bytes& record : records) {
    if (datagrams.empty() || datagrams.back().size() + record.size() > mtu) {
      datagrams.push_back(std::move(record));
    } else {
      append_bytes(datagrams.back(), record);
    }
  }
  records.clear();
  return datagrams;
}

}  // namespace ivs::engine
