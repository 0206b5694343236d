#include "mocksvc/agent/error.hpp"

#include <string>

namespace mocksvc::agent {
namespace {
class Category final : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "ssm.agent"; }
  std::string message(int ev) const override {
    switch (static_cast<Error>(ev)) {
      case Error::ok: return "ok";
      case Error::document_not_json: return "session document is not a JSON object";
      case Error::unsupported_schema_version: return "session document schemaVersion is not 1.0";
      case Error::unknown_session_type: return "session document has an unknown sessionType";
      case Error::bad_document_field: return "session document field has the wrong type";
      // Go's github.com/google/shlex words these; the agent passes them on (agent.md §6.5).
      case Error::unterminated_quote: return "EOF found when expecting closing quote";
      case Error::trailing_escape: return "EOF found after escape character";
    }
    return "unknown agent error";
  }
};
}  // namespace

const boost::system::error_category& agent_category() noexcept {
  static const Category category;
  return category;
}

}  // namespace mocksvc::agent
