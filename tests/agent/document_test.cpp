#include <gtest/gtest.h>

#include "mocksvc/agent/document.hpp"
#include "mocksvc/agent/utf8.hpp"

namespace mocksvc::agent {
namespace {

TEST(SessionDocument, ParsesTheShellDocumentOfTheObservedRun) {
  auto d = parse_session_document(
      R"({"schemaVersion":"1.0","description":"fake","sessionType":"Standard_Stream",)"
      R"("inputs":{"s3BucketName":"","runAsEnabled":true,"runAsDefaultUser":"nobody",)"
      R"("shellProfile":{"linux":"echo PROFILE-RAN","windows":""}},"parameters":{},"properties":{}})");
  ASSERT_TRUE(d) << d.error().message();
  EXPECT_EQ(d->session_type, SessionType::standard_stream);
  EXPECT_EQ(d->shell_profile, "echo PROFILE-RAN");
  EXPECT_EQ(d->handshake_properties_json, "null");
  EXPECT_FALSE(requires_handshake(d->session_type));
}

TEST(SessionDocument, RefusesOtherSchemaVersionsAndUnknownTypes) {
  EXPECT_EQ(parse_session_document(R"({"schemaVersion":"2.2","sessionType":"Port"})").error(),
            make_error_code(Error::unsupported_schema_version));
  EXPECT_EQ(parse_session_document(R"({"schemaVersion":1.0,"sessionType":"Port"})").error(),
            make_error_code(Error::unsupported_schema_version));
  EXPECT_EQ(parse_session_document(R"({"schemaVersion":"1.0","sessionType":"Bogus"})").error(),
            make_error_code(Error::unknown_session_type));
  EXPECT_EQ(parse_session_document("[1,2]").error(), make_error_code(Error::document_not_json));
  EXPECT_EQ(parse_session_document("{").error(), make_error_code(Error::document_not_json));
  EXPECT_EQ(parse_session_document(R"({"schemaVersion":"1.0","sessionType":"Port","properties":[]})").error(),
            make_error_code(Error::bad_document_field));
}

TEST(SessionDocument, PortPropertiesAndCommandShapes) {
  auto p = parse_session_document(
      R"({"schemaVersion":"1.0","sessionType":"Port","properties":{"type":"LocalPortForwarding","portNumber":22,"host":"db"}})");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->port_number, "22");
  EXPECT_EQ(p->host, "db");
  EXPECT_EQ(p->handshake_properties_json, R"({"host":"db","portNumber":22,"type":"LocalPortForwarding"})");
  EXPECT_TRUE(requires_handshake(p->session_type));

  auto c = parse_session_document(
      R"({"schemaVersion":"1.0","sessionType":"NonInteractiveCommands","properties":{"linux":)"
      R"({"commands":["echo a","echo b"],"separateOutputStream":"true","stdErrSeparatorPrefix":"E:"}}})");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->commands, "echo a\necho b");
  EXPECT_TRUE(c->separate_output_stream);
  EXPECT_EQ(c->stderr_prefix, "E:");
  EXPECT_TRUE(requires_handshake(c->session_type));
}

TEST(Versions, CompareNumerically) {
  EXPECT_GT(compare_versions("1.2.677.0", "1.1.70"), 0);
  EXPECT_EQ(compare_versions("1.1.70", "1.1.70.0"), 0);
  EXPECT_LT(compare_versions("1.0.37.0", "1.1.70"), 0);
  EXPECT_LE(compare_versions("1.2.331.0", "1.2.331.0"), 0);
  EXPECT_LT(compare_versions("", "1.1.70"), 0);
  EXPECT_GT(compare_versions("3.3.987.0", "3.1.1511.0"), 0);
}

TEST(Utf8, ChunksNeverCutACharacter) {
  std::string s = "ab";
  for (int i = 0; i < 10; ++i) s += "\xE2\x82\xAC";  // €
  auto pieces = split_chunks(s, 4, true);
  std::string joined;
  for (auto p : pieces) {
    EXPECT_LE(p.size(), 4u);
    EXPECT_EQ(utf8_complete_prefix(p), p.size());
    joined.append(p);
  }
  EXPECT_EQ(joined, s);
}

TEST(Utf8, CarryHoldsACutCharacterForTheNextRead) {
  Utf8Carry c;
  EXPECT_EQ(c.push("x\xE2\x82"), "x");
  EXPECT_EQ(c.push("\xAC" "y"), "\xE2\x82\xAC" "y");
  EXPECT_EQ(c.push("\xFF" "z"), "\xFF" "z");  // invalid bytes pass through
  EXPECT_EQ(c.push("\xF0\x9F"), "");
  EXPECT_EQ(c.flush(), "\xF0\x9F");
}

}  // namespace
}  // namespace mocksvc::agent
