#include <gtest/gtest.h>

#include "mocksvc/wire/channel_xml.hpp"

namespace mocksvc::wire {
namespace {

TEST(ChannelXml, TokenReplyHasTheShapeTheAgentReads) {
  ChannelTokenReply r;
  r.token_value = "a<b&c";
  EXPECT_EQ(r.to_xml(),
            "<CreateControlChannelResponse><MessageSchemaVersion>1.0</MessageSchemaVersion>"
            "<TokenValue>a&lt;b&amp;c</TokenValue></CreateControlChannelResponse>");
  auto back = parse_channel_token_reply(r.to_xml());
  ASSERT_TRUE(back);
  EXPECT_EQ(back->token_value, "a<b&c");
  EXPECT_EQ(back->root, "CreateControlChannelResponse");
}

TEST(ChannelXml, ParsesAnyRootAndDeclaration) {
  auto r = parse_channel_token_reply(
      "<?xml version=\"1.0\"?>\n<X>\n <MessageSchemaVersion>1.0</MessageSchemaVersion>\n"
      " <TokenValue>T</TokenValue></X>");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->root, "X");
  EXPECT_EQ(r->token_value, "T");
}

TEST(ChannelXml, MissingTokenIsAnError) {
  EXPECT_EQ(parse_channel_token_reply("{\"TokenValue\":\"x\"}").error(),
            make_error_code(Error::xml_missing_element));
}

TEST(ChannelXml, ErrorBodiesCarryTheSubstringsTheAgentMatches) {
  EXPECT_EQ(channel_error_xml("BadRequest", "Session is already terminated"),
            "<BadRequest>\n<ClientErrorMessage>Session is already terminated</ClientErrorMessage>\n</BadRequest>");
  EXPECT_NE(channel_error_xml("AccessDeniedException", "no").find("<AccessDeniedException>"),
            std::string::npos);
}

}  // namespace
}  // namespace mocksvc::wire
