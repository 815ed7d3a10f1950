// The etcd gateway encoding, against replies recorded from a real etcd 3.4.23
// gateway (including its habit of omitting zero-valued fields).
#include "etcd_json.h"

#include <gtest/gtest.h>

namespace raftkv::etcd {
namespace {

using Kind = Outcome::Kind;

TEST(Base64, RoundTripsEveryPaddingLength) {
  EXPECT_EQ(base64_encode(""), "");
  EXPECT_EQ(base64_encode("\"a\""), "ImEi");
  EXPECT_EQ(base64_encode("1"), "MQ==");
  EXPECT_EQ(base64_encode("12"), "MTI=");
  std::string all;
  for (int i = 0; i < 256; ++i) all.push_back(char(i));
  for (size_t n = 0; n < all.size(); n += 7) {
    EXPECT_EQ(base64_decode(base64_encode(all.substr(0, n))), all.substr(0, n));
  }
  EXPECT_FALSE(base64_decode("!!!"));
}

TEST(Bodies, CasComparesValueAndRangesOnFailure) {
  EXPECT_EQ(range_body("\"a\""), R"({"key":"ImEi"})");
  EXPECT_EQ(put_body("\"a\"", "1"), R"({"key":"ImEi","value":"MQ=="})");
  EXPECT_EQ(cas_body("\"a\"", "1", "2", false),
            R"({"compare":[{"key":"ImEi","target":"VALUE","result":"EQUAL","value":"MQ=="}],)"
            R"("success":[{"request_put":{"key":"ImEi","value":"Mg=="}}],)"
            R"("failure":[{"request_range":{"key":"ImEi"}}]})");
  // create_if_not_exists inverts the compare: a missing key fails it too.
  EXPECT_EQ(cas_body("\"a\"", "1", "2", true),
            R"({"compare":[{"key":"ImEi","target":"VALUE","result":"NOT_EQUAL","value":"MQ=="}],)"
            R"("success":[{"request_range":{"key":"ImEi"}}],)"
            R"("failure":[{"request_put":{"key":"ImEi","value":"Mg=="}}]})");
}

const char* kHeader =
    R"("header":{"cluster_id":"1","member_id":"2","revision":"3","raft_term":"2"})";

TEST(Decode, Range) {
  Outcome o = decode_range(std::string("{") + kHeader +
                           R"(,"kvs":[{"key":"ImEi","create_revision":"2","mod_revision":"2",)"
                           R"("version":"1","value":"MQ=="}],"count":"1"})");
  EXPECT_EQ(o.kind, Kind::kOk);
  EXPECT_EQ(o.value, "1");
  EXPECT_EQ(decode_range(std::string("{") + kHeader + "}").kind, Kind::kNotFound);
  EXPECT_EQ(decode_range("404 page not found").kind, Kind::kBadReply);
}

TEST(Decode, Cas) {
  const std::string ok =
      std::string("{") + kHeader +
      R"(,"succeeded":true,"responses":[{"response_put":{"header":{"revision":"3"}}}]})";
  const std::string absent = std::string("{") + kHeader +
                             R"(,"responses":[{"response_range":{"header":{"revision":"3"}}}]})";
  const std::string differs =
      std::string("{") + kHeader +
      R"(,"responses":[{"response_range":{"header":{"revision":"3"},"kvs":[{"key":"ImEi",)"
      R"("create_revision":"2","mod_revision":"3","version":"2","value":"Mg=="}],"count":"1"}}]})";
  const std::string put_on_failure =
      std::string("{") + kHeader +
      R"(,"responses":[{"response_put":{"header":{"revision":"4"}}}]})";
  const std::string range_on_success = std::string("{") + kHeader + R"(,"succeeded":true,)" +
                                       differs.substr(differs.find("\"responses"));

  EXPECT_EQ(decode_cas(ok, false).kind, Kind::kOk);
  EXPECT_EQ(decode_cas(absent, false).kind, Kind::kNotFound);
  Outcome o = decode_cas(differs, false);
  EXPECT_EQ(o.kind, Kind::kMismatch);
  EXPECT_EQ(o.value, "2");

  EXPECT_EQ(decode_cas(put_on_failure, true).kind, Kind::kOk);
  EXPECT_EQ(decode_cas(range_on_success, true).kind, Kind::kMismatch);
  EXPECT_EQ(decode_cas("{}", true).kind, Kind::kBadReply);
}

}  // namespace
}  // namespace raftkv::etcd
