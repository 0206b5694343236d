#include "mocksvc/wire/channel_xml.hpp"

namespace mocksvc::wire {

std::string xml_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

namespace {
std::string xml_unescape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '&') {
      out.push_back(text[i]);
      continue;
    }
    static constexpr std::pair<std::string_view, char> kEntities[] = {
        {"&lt;", '<'}, {"&gt;", '>'}, {"&amp;", '&'}, {"&quot;", '"'}, {"&apos;", '\''}};
    bool matched = false;
    for (auto [entity, ch] : kEntities) {
      if (text.substr(i, entity.size()) == entity) {
        out.push_back(ch);
        i += entity.size() - 1;
        matched = true;
        break;
      }
    }
    if (!matched) out.push_back('&');
  }
  return out;
}
}  // namespace

std::optional<std::string> xml_element_text(std::string_view xml, std::string_view name) {
  const std::string open = "<" + std::string(name);
  std::size_t pos = 0;
  while ((pos = xml.find(open, pos)) != std::string_view::npos) {
    std::size_t after = pos + open.size();
    if (after >= xml.size()) return std::nullopt;
    char c = xml[after];
    if (c != '>' && c != ' ' && c != '/' && c != '\t' && c != '\n') {
      pos = after;
      continue;
    }
    std::size_t gt = xml.find('>', after);
    if (gt == std::string_view::npos) return std::nullopt;
    if (xml[gt - 1] == '/') return std::string();  // <Name/>
    const std::string close = "</" + std::string(name) + ">";
    std::size_t end = xml.find(close, gt + 1);
    if (end == std::string_view::npos) return std::nullopt;
    return xml_unescape(xml.substr(gt + 1, end - gt - 1));
  }
  return std::nullopt;
}

std::string ChannelTokenReply::to_xml() const {
  return "<" + root + "><MessageSchemaVersion>" + xml_escape(message_schema_version) +
         "</MessageSchemaVersion><TokenValue>" + xml_escape(token_value) + "</TokenValue></" +
         root + ">";
}

Result<ChannelTokenReply> parse_channel_token_reply(std::string_view xml) {
  auto token = xml_element_text(xml, "TokenValue");
  if (!token) return Error::xml_missing_element;
  ChannelTokenReply r;
  auto lt = xml.find('<');
  while (lt != std::string_view::npos && lt + 1 < xml.size() && (xml[lt + 1] == '?' || xml[lt + 1] == '!'))
    lt = xml.find('<', lt + 1);
  if (lt != std::string_view::npos) {
    auto end = xml.find_first_of(" >/", lt + 1);
    if (end != std::string_view::npos) r.root = std::string(xml.substr(lt + 1, end - lt - 1));
  }
  r.message_schema_version = xml_element_text(xml, "MessageSchemaVersion").value_or("");
  r.token_value = std::move(*token);
  return r;
}

std::string channel_error_xml(std::string_view code, std::string_view message) {
  const std::string c(code);
  if (code == "BadRequest")
    return "<BadRequest>\n<ClientErrorMessage>" + xml_escape(message) +
           "</ClientErrorMessage>\n</BadRequest>";
  return "<" + c + "><Message>" + xml_escape(message) + "</Message></" + c + ">";
}

}  // namespace mocksvc::wire
