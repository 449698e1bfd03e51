#include "engine/gop_cache.hpp"

#include "engine/relay_packet.hpp"

namespace ivs::engine {
namespace {

// Buffers kept for reuse beyond this are freed: one GOP's worth is enough for steady state.
constexpr std::size_t kMaxSpareBuffers = 1024;

}  // namespace

ByteSpan GopCache::Entry::bytes() const {
  return shared ? ByteSpan(shared->bytes) : ByteSpan(copy);
}

GopCache::Added GopCache::add(Instant now, const proto::RtpView& view,
                              const proto::H264PayloadInfo& info) {
  if (!admit(view, info)) {
    return Added::kNotCached;
  }
  append_copy(now, view.packet);
  return settle(view, info);
}

GopCache::Added GopCache::add(std::shared_ptr<const RelayPacket> packet) {
  if (!packet || !admit(packet->view, packet->info)) {
    return Added::kNotCached;
  }
  const RelayPacket& held = *packet;  // kept alive by the entry
  bytes_ += held.bytes.size();
  entries_.push_back(Entry{{}, std::move(packet), held.arrival});
  return settle(held.view, held.info);
}

bool GopCache::admit(const proto::RtpView& view, const proto::H264PayloadInfo& info) {
  const bool keyframe_part = info.has_sps || info.has_pps || info.has_idr;
  if (keyframe_part && candidate_timestamp_ != view.timestamp) {
    candidate_timestamp_ = view.timestamp;
    candidate_start_ = entries_.size();
    candidate_promoted_ = false;
  } else if (!valid_ && candidate_timestamp_ && *candidate_timestamp_ != view.timestamp &&
             !candidate_promoted_) {
    // Parameter sets that no IDR followed, and nothing cached before them: start over.
    clear_entries();
    candidate_timestamp_.reset();
  }
  return valid_ || candidate_timestamp_.has_value();
}

GopCache::Added GopCache::settle(const proto::RtpView& view, const proto::H264PayloadInfo& info) {
  Added added = Added::kCached;
  if (info.has_idr && candidate_timestamp_ == view.timestamp && !candidate_promoted_) {
    drop_front(candidate_start_);
    candidate_start_ = 0;
    candidate_promoted_ = true;
    valid_ = true;
    added = Added::kNewKeyframe;
  }
  if (entries_.size() > max_packets_ || bytes_ > max_bytes_) {
    // Too long a GOP to replay: forget it until the next keyframe.
    clear_entries();
    valid_ = false;
    candidate_timestamp_.reset();
    candidate_promoted_ = false;
    return added == Added::kNewKeyframe ? Added::kNewKeyframe : Added::kNotCached;
  }
  return valid_ ? added : Added::kNotCached;
}

void GopCache::reset() {
  clear_entries();
  valid_ = false;
  candidate_timestamp_.reset();
  candidate_promoted_ = false;
}

void GopCache::append_copy(Instant now, ByteSpan packet) {
  Bytes buffer;
  if (!spare_.empty()) {
    buffer = std::move(spare_.back());
    spare_.pop_back();
  }
  buffer.assign(packet.begin(), packet.end());
  bytes_ += buffer.size();
  entries_.push_back(Entry{std::move(buffer), nullptr, now});
}

void GopCache::drop_front(std::size_t count) {
  for (std::size_t i = 0; i < count && !entries_.empty(); ++i) {
    Entry& front = entries_.front();
    bytes_ -= front.bytes().size();
    if (!front.shared && spare_.size() < kMaxSpareBuffers) {
      spare_.push_back(std::move(front.copy));
    }
    entries_.pop_front();
  }
}

void GopCache::clear_entries() {
  drop_front(entries_.size());
}

}  // namespace ivs::engine
