// JSON-lines reading and writing.
#include "linearizability/history.h"

#include <gtest/gtest.h>

#include <sstream>

namespace {

using lin::Event;
using lin::EventType;
using lin::Fn;
using nlohmann::json;

std::string parse_error(const std::string& text) {
  std::istringstream in(text);
  std::string error;
  EXPECT_FALSE(lin::parse_history(in, &error)) << text;
  return error;
}

TEST(History, WritesTheDocumentedFieldOrder) {
  Event e{3, EventType::kInvoke, Fn::kCas, "x", {1, 2}, 123456789};
  EXPECT_EQ(lin::to_jsonl(e),
            R"({"process":3,"type":"invoke","f":"cas","key":"x","value":[1,2],"time":123456789})");
}

TEST(History, RoundTrips) {
  std::vector<Event> events = {
      {1, EventType::kInvoke, Fn::kWrite, nullptr, 4, 10},
      {2, EventType::kInvoke, Fn::kRead, 3, nullptr, 11},
      {1, EventType::kInfo, Fn::kWrite, nullptr, 4, 12},
      {2, EventType::kOk, Fn::kRead, 3, nullptr, 13},
      {7, EventType::kInvoke, Fn::kCas, "3", {"a", "b\n\""}, 14},
      {7, EventType::kFail, Fn::kCas, "3", {"a", "b\n\""}, 15},
      {-4, EventType::kOk, Fn::kRead, true, 2.5, 1'700'000'000'000'000'000},
  };
  std::string text;
  for (const Event& e : events) text += lin::to_jsonl(e) + "\n";
  std::istringstream in(text);
  std::string error;
  auto parsed = lin::parse_history(in, &error);
  ASSERT_TRUE(parsed) << error;
  ASSERT_EQ(parsed->size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    const Event &a = events[i], &b = (*parsed)[i];
    EXPECT_EQ(a.process, b.process);
    EXPECT_EQ(a.type, b.type);
    EXPECT_EQ(a.f, b.f);
    EXPECT_EQ(a.key, b.key);
    EXPECT_EQ(a.value, b.value);
    EXPECT_EQ(a.time, b.time);
    EXPECT_EQ(lin::to_jsonl(a), lin::to_jsonl(b));
  }
}

TEST(History, MissingKeyIsTheSingleRegisterAndBlankLinesAreSkipped) {
  std::istringstream in(
      "{\"process\":0,\"type\":\"invoke\",\"f\":\"read\",\"value\":null,\"time\":1}\n\n"
      "{\"process\":0,\"type\":\"ok\",\"f\":\"read\",\"value\":2,\"time\":2}\r\n");
  std::string error;
  auto h = lin::parse_history(in, &error);
  ASSERT_TRUE(h) << error;
  ASSERT_EQ(h->size(), 2u);
  EXPECT_TRUE((*h)[0].key.is_null());
  EXPECT_EQ((*h)[1].value, 2);
}

TEST(History, ReportsTheLineOfMalformedInput) {
  const std::string good = R"({"process":0,"type":"invoke","f":"read","time":1})"
                           "\n";
  EXPECT_EQ(parse_error(good + "\n{oops\n").rfind("line 3: not valid JSON", 0), 0u);
  EXPECT_NE(parse_error(good + "[1]").find("line 2: not a JSON object"), std::string::npos);
  EXPECT_NE(
      parse_error(R"({"type":"ok","f":"read","value":1,"time":1})").find("missing \"process\""),
      std::string::npos);
  EXPECT_NE(parse_error(R"({"process":"n1","type":"ok","f":"read","value":1,"time":1})")
                .find("\"process\" must be an integer"),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"process":1,"type":"done","f":"read","time":1})").find("\"type\""),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"process":1,"type":"ok","f":"append","time":1})").find("\"f\""),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"process":1,"type":"invoke","f":"cas","value":3,"time":1})")
                .find("[from, to]"),
            std::string::npos);
  EXPECT_NE(
      parse_error(R"({"process":1,"type":"invoke","f":"read","key":[1],"time":1})").find("scalar"),
      std::string::npos);
  EXPECT_NE(parse_error(R"({"process":1,"type":"invoke","f":"read"})").find("missing \"time\""),
            std::string::npos);
  EXPECT_NE(parse_error(R"({"process":1,"type":"ok","f":"read","time":1})").find("ok read"),
            std::string::npos);
}

TEST(History, CompletionsNeedNotRepeatTheInvokeValue) {
  std::istringstream in(R"({"process":1,"type":"invoke","f":"cas","value":[1,2],"time":1})"
                        "\n"
                        R"({"process":1,"type":"fail","f":"cas","time":2})");
  std::string error;
  EXPECT_TRUE(lin::parse_history(in, &error)) << error;
}

TEST(History, LoadReportsMissingFile) {
  std::string error;
  EXPECT_FALSE(lin::load_history_file("/nonexistent/h.jsonl", &error));
  EXPECT_NE(error.find("/nonexistent/h.jsonl"), std::string::npos);
}

}  // namespace
