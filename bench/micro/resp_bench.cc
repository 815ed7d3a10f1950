// RESP layer throughput: what one server thread spends per command on the
// protocol alone (parsing requests, typing commands, encoding replies).
#include <benchmark/benchmark.h>

#include <string>

#include "resp/command.h"
#include "resp/encode.h"
#include "resp/reply_parser.h"
#include "resp/request_parser.h"

namespace {

using namespace raftkv::resp;

// redis-benchmark -P 16 style: batches of 16 SETs, arg(0) value bytes,
// fed in 16 KiB reads.
void BM_RespParsePipelinedSet(benchmark::State& state) {
  std::string value(static_cast<size_t>(state.range(0)), 'v');
  std::string stream;
  for (int i = 0; i < 4096; ++i)
    append_bulk_array(stream, {"SET", "key:" + std::to_string(i), value});
  size_t commands = 0;
  for (auto _ : state) {
    RequestParser p;
    for (size_t at = 0; at < stream.size(); at += 16384) {
      p.feed(std::string_view(stream).substr(at, 16384));
      while (auto args = p.next()) {
        benchmark::DoNotOptimize(args->data());
        ++commands;
      }
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(commands));
  state.SetBytesProcessed(static_cast<int64_t>(stream.size() * state.iterations()));
}
BENCHMARK(BM_RespParsePipelinedSet)->Arg(3)->Arg(100)->Arg(4096);

void BM_RespParseInline(benchmark::State& state) {
  std::string stream;
  for (int i = 0; i < 4096; ++i) stream += "SET \"key " + std::to_string(i) + "\" value\r\n";
  size_t commands = 0;
  for (auto _ : state) {
    RequestParser p;
    p.feed(stream);
    while (auto args = p.next()) ++commands;
  }
  state.SetItemsProcessed(static_cast<int64_t>(commands));
}
BENCHMARK(BM_RespParseInline);

void BM_RespParseCommand(benchmark::State& state) {
  std::vector<std::string> args = {"SET", "key:1", "value", "IFEQ", "old", "GET"};
  for (auto _ : state) benchmark::DoNotOptimize(parse_command(args).ok());
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_RespParseCommand);

void BM_RespEncodeAndParseReplies(benchmark::State& state) {
  std::string value(100, 'v');
  size_t replies = 0;
  for (auto _ : state) {
    std::string out;
    for (int i = 0; i < 16; ++i) {
      append_simple(out, "OK");
      append_bulk(out, value);
    }
    ReplyParser p;
    p.feed(out);
    while (auto r = p.next()) ++replies;
  }
  state.SetItemsProcessed(static_cast<int64_t>(replies));
}
BENCHMARK(BM_RespEncodeAndParseReplies);

}  // namespace
