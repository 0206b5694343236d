// The XML bodies of the ssmmessages REST calls the agent makes (agent.md §1):
// CreateControlChannel / CreateDataChannel answer 201 with
//   <CreateControlChannelResponse><MessageSchemaVersion>1.0</MessageSchemaVersion>
//   <TokenValue>TOKEN</TokenValue></CreateControlChannelResponse>
// and errors as XML too (<AccessDeniedException>, <BadRequest><ClientErrorMessage>...).
// The reader is deliberately small: it finds child elements by name, as Go's encoding/xml does
// for the agent, and decodes the five predefined entities.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "mocksvc/wire/error.hpp"

namespace mocksvc::wire {

struct ChannelTokenReply {
  std::string root = "CreateControlChannelResponse";  // or CreateDataChannelResponse
  std::string message_schema_version = "1.0";
  std::string token_value;
  std::string to_xml() const;
};
Result<ChannelTokenReply> parse_channel_token_reply(std::string_view xml);

// <Code><Message>text</Message></Code>, or for Code "BadRequest" the real service's
// <BadRequest><ClientErrorMessage>text</ClientErrorMessage></BadRequest>.
std::string channel_error_xml(std::string_view code, std::string_view message);

// Text of the first element named `name` anywhere in `xml`, entities decoded.
std::optional<std::string> xml_element_text(std::string_view xml, std::string_view name);
std::string xml_escape(std::string_view text);

}  // namespace mocksvc::wire
