#include "support/sim_network.hpp"

namespace ivs::test {

SimNetwork::SimNetwork(std::uint64_t seed, SimLinkModel model) : random_(seed), model_(model) {}

void SimNetwork::set_blocked(const SocketAddress& host, bool blocked) {
  if (blocked) {
    blocked_.insert(host);
  } else {
    blocked_.erase(host);
  }
}

void SimNetwork::add_nat(const SocketAddress& inside, const SocketAddress& outside) {
  nat_out_[inside] = outside;
  nat_in_[outside] = inside;
}

bool SimNetwork::is_blocked(const SocketAddress& address) const {
  return blocked_.count(address) != 0;
}

void SimNetwork::send(Instant now, const SocketAddress& from, const SocketAddress& to,
                      ByteSpan payload) {
  ++counters_.sent;
  const auto out = nat_out_.find(from);
  const SocketAddress source = out != nat_out_.end() ? out->second : from;
  const auto in = nat_in_.find(to);
  const SocketAddress destination = in != nat_in_.end() ? in->second : to;
  if (is_blocked(from) || is_blocked(to) || is_blocked(destination)) {
    ++counters_.blocked;
    return;
  }
  if (model_.loss > 0 && random_.unit_interval() < model_.loss) {
    ++counters_.lost;
    return;
  }
  const int copies = (model_.duplicate > 0 && random_.unit_interval() < model_.duplicate) ? 2 : 1;
  if (copies == 2) {
    ++counters_.duplicated;
  }
  for (int copy = 0; copy < copies; ++copy) {
    Duration delay = model_.delay;
    if (model_.jitter > Duration::zero()) {
      delay += Duration(static_cast<Duration::rep>(
          random_.uniform(static_cast<std::uint64_t>(model_.jitter.count()))));
    }
    if (model_.reorder > 0 && random_.unit_interval() < model_.reorder) {
      delay += model_.reorder_delay;
      ++counters_.reordered;
    }
    enqueue(now + delay, source, destination, payload);
  }
}

void SimNetwork::enqueue(Instant at, const SocketAddress& from, const SocketAddress& to,
                         ByteSpan payload) {
  queue_.push(
      Entry{SimDatagram{from, to, Bytes(payload.begin(), payload.end()), at}, next_sequence_++});
}

std::optional<SimDatagram> SimNetwork::poll_delivery(Instant now) {
  if (queue_.empty() || queue_.top().datagram.deliver_at > now) {
    return std::nullopt;
  }
  SimDatagram datagram = queue_.top().datagram;
  queue_.pop();
  ++counters_.delivered;
  return datagram;
}

std::optional<Instant> SimNetwork::next_delivery() const {
  if (queue_.empty()) {
    return std::nullopt;
  }
  return queue_.top().datagram.deliver_at;
}

}  // namespace ivs::test
