// The datagram pipe between OpenSSL's DTLS state machine and DtlsTransport: a custom BIO that
// never touches a socket (the mediasoup shape: bytes in, bytes out).
//
// Why a custom BIO and not BIO_s_mem: a memory BIO turns OpenSSL's record writes into one byte
// stream, losing where datagrams end, and it gives no handle on the DTLS retransmission timer.
// This BIO
//   - hands OpenSSL exactly one received datagram per read (DTLS reads whole datagrams),
//   - keeps each record OpenSSL writes as its own chunk, so the transport can pack whole records
//     into datagrams no larger than the MTU (RFC 6347 §4.1.1: a record never spans datagrams),
//   - captures the pointer OpenSSL passes with BIO_CTRL_DGRAM_SET_NEXT_TIMEOUT, which is the
//     address of the SSL object's own retransmission deadline (a struct timeval). OpenSSL reads
//     the real clock to decide whether that deadline has passed; the engine runs on an injected
//     clock, so it marks the deadline as passed itself when ITS timer fires (see
//     dtls_transport.hpp, "Retransmission", and docs/dtls-srtp.md).
#pragma once

#include <sys/time.h>

#include <cstddef>
#include <vector>

#include <openssl/bio.h>

#include "proto/bytes.hpp"

namespace ivs::engine {

// State the BIO callbacks read and write. Owned by the transport; the BIO points at it.
struct DtlsBioChannel {
  ByteSpan inbound;                            // the datagram OpenSSL may read next (empty: none)
  std::vector<Bytes> outbound;                 // one entry per BIO_write, i.e. per DTLS record
  struct timeval* openssl_deadline = nullptr;  // &ssl->d1->next_timeout, once OpenSSL sets it
};

// A BIO_METHOD for DtlsBioChannel; one per transport so the engine keeps no globals.
class DtlsBioMethod {
 public:
  DtlsBioMethod();
  ~DtlsBioMethod();
  DtlsBioMethod(const DtlsBioMethod&) = delete;
  DtlsBioMethod& operator=(const DtlsBioMethod&) = delete;

  bool ok() const { return method_ != nullptr; }
  // A new BIO reading and writing `channel` (which must outlive it); nullptr on failure.
  BIO* make_bio(DtlsBioChannel* channel) const;

 private:
  BIO_METHOD* method_;
};

// Packs records (in order) into datagrams of at most `mtu` bytes; a record larger than the MTU
// travels alone.
std::vector<Bytes> pack_records(std::vector<Bytes>& records, std::size_t mtu);

}  // namespace ivs::engine
