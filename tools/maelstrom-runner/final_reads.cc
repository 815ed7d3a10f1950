#include "final_reads.h"

#include <fmt/format.h>

#include "clock.h"

namespace runner {

FinalReads::FinalReads(EventLoop& loop, Network& net, HistoryLog& history,
                       const std::vector<std::string>& nodes, const std::set<int64_t>& keys,
                       int64_t first_process, int first_client, int64_t timeout_ns)
    : loop_(loop), history_(history), timeout_ns_(timeout_ns) {
  readers_.resize(nodes.size());
  for (size_t i = 0; i < nodes.size(); ++i) {
    Reader& r = readers_[i];
    r.client = std::make_unique<Client>(loop, net, fmt::format("c{}", first_client + i));
    r.node = nodes[i];
    r.process = first_process + i;
    r.keys.assign(keys.begin(), keys.end());
    remaining_ += r.keys.size();
  }
}

void FinalReads::start(int64_t deadline_ns) {
  deadline_ = deadline_ns;
  loop_.at(deadline_ns, [this] { expired_ = true; });
  for (auto& r : readers_) read_next(r);
}

void FinalReads::read_next(Reader& r) {
  if (r.next >= r.keys.size() || mono_ns() >= deadline_) return;
  OpSpec op;
  op.f = lin::Fn::kRead;
  op.key = r.keys[r.next];
  size_t index = history_.invoke(r.process, op.f, op.key, nullptr, r.node, true);
  ++in_flight_;
  r.client->rpc(r.node, request_body(op), timeout_ns_,
                [this, &r, op, index](const std::optional<Message>& reply) {
                  --in_flight_;
                  Outcome o = classify(op, reply);
                  history_.complete(index, o.type, o.value);
                  if (o.type == lin::EventType::kOk) {
                    ++r.next;
                    --remaining_;
                    loop_.after(0, [this, &r] { read_next(r); });
                  } else {
                    // Reads never end info, so the process stays the same.
                    loop_.after(250 * kMs, [this, &r] { read_next(r); });
                  }
                });
}

}  // namespace runner
