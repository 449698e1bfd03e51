// WHEP viewers whose media a media worker sends (DESIGN.md §4, §5; issue 12: "WHEP viewers use
// the same legs ... as stages"). A viewer's WebRTC session stays on the media plane's thread,
// where its ICE-lite checks, DTLS handshake and incoming RTCP arrive on the plane's one UDP port;
// once it is connected, the session hands its outbound SRTP context here, and the viewer becomes
// a leg of this worker's relay shard beside the stages:
//
//   plane thread (RelayChannel)                       worker thread (this)
//   viewer Connected: take_outbound_srtp ─open─────►  Leg: RelaySink on the shard's fan-out
//   viewer RTCP (NACK, PLI, RR) ──────────feedback─►  shard.feedback(leg) ─► NACK answers, PLIs
//   DELETE / consent lost / peer close ─────close──►  leg detached, SRTP context dropped
//                                                     media ─► protect into a send slot ─►
//                                                     one sendmmsg per loop turn, from a
//                                                     duplicate of the plane's socket
//
// Why this split: what costs per viewer is the media (a protect and a send per packet per
// viewer); what a viewer sends back is a receiver report a second, a NACK now and then and the
// consent checks. So the heavy half moves to the workers with the stages, and the light half
// stays where the single port is read; the port stays one (RTC_UDP_PORT), as firewalls and
// container port mappings need. The duplicate socket sends from the same address and port, so
// to the viewer nothing changed. Our direction's SRTP context has one owner at a time (two would
// reuse packet indices): the plane's session gives it up when the worker takes it.
//
// Threading: constructed on any thread before the worker runs anything for it; every other
// call on the worker's thread (WorkerShard posts them there).
#pragma once

#include <boost/asio/io_context.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <span>

#include "app/egress/egress_media_source.hpp"
#include "engine/relay.hpp"
#include "engine/srtp_session.hpp"
#include "io/udp_port.hpp"
#include "proto/rtcp_compound.hpp"
#include "proto/socket_address.hpp"

namespace ivs::app {

struct WorkerViewerCounters {
  std::uint64_t opened = 0;
  std::uint64_t closed = 0;
  std::uint64_t refused_no_socket = 0;  // open() before a socket was given, or it failed
  std::uint64_t protect_failures = 0;
  std::uint64_t send_drops = 0;  // the send queue was full even after a flush
};

class WorkerViewers {
 public:
  // The legs attach to `media` (the worker's shard), which must outlive this.
  WorkerViewers(boost::asio::io_context& io, EgressMediaSource& media);
  ~WorkerViewers();  // detaches every leg still open
  WorkerViewers(const WorkerViewers&) = delete;
  WorkerViewers& operator=(const WorkerViewers&) = delete;

  // The plane's socket, duplicated (io::UdpPort::duplicate): what every viewer leg sends from.
  void use_socket(io::SocketDuplicate socket);
  // A connected viewer: its leg attaches now (the shard sends it the cached GOP, then live
  // media) and is known by the channel's `key` from then on.
  void open(Instant now, std::uint64_t key, const engine::RelayEgressFormat& format,
            std::unique_ptr<engine::SrtpSession> outbound, const SocketAddress& remote);
  // The viewer's RTCP, as its session on the plane decrypted and parsed it.
  void feedback(Instant now, std::uint64_t key, std::span<const proto::RtcpPacket> packets);
  // ICE moved the viewer to another address (consent from a new one: NAT rebinding).
  void move(std::uint64_t key, const SocketAddress& remote);
  void close(std::uint64_t key);

  std::size_t size() const { return legs_.size(); }
  const WorkerViewerCounters& counters() const { return counters_; }
  const io::UdpPort* port() const { return port_.get(); }

 private:
  class Leg;
  void send(Leg& leg, ByteSpan packet, bool rtcp);
  void schedule_flush();

  boost::asio::io_context& io_;
  EgressMediaSource& media_;
  std::unique_ptr<io::UdpPort> port_;
  std::map<std::uint64_t, std::unique_ptr<Leg>> legs_;
  WorkerViewerCounters counters_;
  bool flush_posted_ = false;
  // Posted flushes hold a weak reference: the last one may run after this is gone.
  std::shared_ptr<WorkerViewers*> self_ = std::make_shared<WorkerViewers*>(this);
};

}  // namespace ivs::app
