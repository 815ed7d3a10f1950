// Message encode/decode: the per-message CPU cost of the JSON wire protocol.
#include <benchmark/benchmark.h>

#include "maelstrom/message.h"
#include "maelstrom/raft_codec.h"

using namespace raftkv;

namespace {

const std::string kClientLine =
    R"({"id":7,"src":"c3","dest":"n1","body":{"type":"cas","msg_id":42,"key":3,"from":1,"to":4}})";

void BM_ParseClientRequest(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(maelstrom::parse(kClientLine));
}
BENCHMARK(BM_ParseClientRequest);

void BM_SerializeReply(benchmark::State& state) {
  for (auto _ : state) {
    maelstrom::Json body = maelstrom::make_body("read_ok", 42, 17);
    body["value"] = 3;
    benchmark::DoNotOptimize(maelstrom::serialize({"n1", "c3", std::move(body)}));
  }
}
BENCHMARK(BM_SerializeReply);

raft::Message append_with(int n) {
  raft::Message m;
  m.type = raft::MsgType::kAppend;
  m.from = "n0";
  m.to = "n1";
  m.term = 3;
  m.index = 1000;
  m.log_term = 3;
  m.commit = 990;
  for (int i = 0; i < n; ++i) {
    m.entries.push_back(
        {3, 1001u + i, raft::EntryType::kNormal, "w09:\"key-0001\"18:\"value-0000000001\"0:"});
  }
  return m;
}

void BM_AppendRoundTrip(benchmark::State& state) {
  raft::Message m = append_with(static_cast<int>(state.range(0)));
  for (auto _ : state) {
    maelstrom::Json body = maelstrom::make_body("raft", std::nullopt, 1);
    maelstrom::encode_raft(m, body);
    std::string line = maelstrom::serialize({"n0", "n1", std::move(body)});
    auto parsed = maelstrom::parse(line);
    std::string err;
    benchmark::DoNotOptimize(maelstrom::decode_raft(*parsed.message, &err));
  }
  state.SetItemsProcessed(state.iterations() * state.range(0));
}
BENCHMARK(BM_AppendRoundTrip)->Arg(1)->Arg(64)->Arg(1024);

}  // namespace
