// The agent layer's error codes: the ways a session document, its commands or a session start can
// be refused.
// Plugins report these (and errno-based system errors) through boost::system::result; nothing
// the client or the session document sends makes the agent throw.
#pragma once

#include <boost/system/error_code.hpp>
#include <boost/system/result.hpp>

namespace mocksvc::agent {

enum class Error {
  ok = 0,
  document_not_json = 1,       // DocumentContent is not a JSON object
  unsupported_schema_version,  // schemaVersion other than "1.0" (agent.md §5.1: the agent drops it)
  unknown_session_type,        // sessionType not Standard_Stream/InteractiveCommands/...
  bad_document_field,          // a document field has the wrong JSON type
  unterminated_quote,          // commands: a quote is never closed (shlex's message)
  trailing_escape,             // commands: a backslash ends the string (shlex's message)
};

const boost::system::error_category& agent_category() noexcept;

inline boost::system::error_code make_error_code(Error e) noexcept {
  return {static_cast<int>(e), agent_category()};
}

template <typename T>
using Result = boost::system::result<T>;

}  // namespace mocksvc::agent

template <>
struct boost::system::is_error_code_enum<mocksvc::agent::Error> : std::true_type {};
