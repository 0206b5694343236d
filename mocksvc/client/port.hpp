// Port-forwarding handlers (data-channel.md §10.2-§10.5): the handshake's Properties pick the
// mode. LocalPortForwarding opens a local TCP listener and runs multiplexed (smux, one stream per
// accepted connection) with agents newer than 3.0.196.0, else basic (one connection at a time,
// DisconnectToPort when it closes); any other type is stdio (StdioPortHandler, shell.hpp).
// Local sockets use Asio on the session's strand.
//
// Runs on the session's strand, which must be the executor given in PortOptions. Pending socket
// operations never touch a destroyed handler.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <boost/asio/any_io_executor.hpp>

#include "mocksvc/client/handler.hpp"
#include "mocksvc/client/shell.hpp"

namespace mocksvc::client {

inline constexpr std::string_view kLocalPortForwardingType = "LocalPortForwarding";
// Overrides the listener host, as the plugin's SSM_PLUGIN_LOCAL_HOST does; default "localhost".
inline constexpr std::string_view kLocalHostEnvVar = "SSM_PLUGIN_LOCAL_HOST";

// The port document's properties as the plugin reads them: strings only; a value of another
// type is ignored, as Go's unmarshal into string fields leaves it empty.
struct PortProperties {
  std::string port_number;
  std::string local_port_number;
  std::string local_unix_socket;
  std::string local_connection_type;
  std::string type;
  std::string host;
};
PortProperties parse_port_properties(std::string_view properties_json);

enum class PortMode { basic, multiplexed, stdio };
PortMode choose_port_mode(const PortProperties& properties, std::string_view agent_version);

class LocalPortHandler : public SessionHandler {
 public:
  virtual PortMode mode() const = 0;
  // The bound local port; 0 until listening.
  virtual std::uint16_t local_port() const = 0;
  virtual std::size_t open_connections() const = 0;
};

struct PortOptions {
  boost::asio::any_io_executor executor;  // the session's strand
  // Listener host; empty means $SSM_PLUGIN_LOCAL_HOST, else "localhost" (bound as 127.0.0.1).
  std::string listen_host;
  // Read size for local sockets: basic mode reads 1024 bytes like the plugin; multiplexed
  // mode copies through smux with Go's 32 KiB io.Copy buffer.
  std::size_t basic_read_size = kMaxChunk;
  std::size_t mux_read_size = 32 * 1024;
  StreamHandlerOptions stdio;  // stdio mode only
};

std::unique_ptr<LocalPortHandler> make_basic_port_handler(const SessionTypeInfo& info,
                                                          PortOptions options);
std::unique_ptr<LocalPortHandler> make_mux_port_handler(const SessionTypeInfo& info,
                                                        PortOptions options);
// Picks the mode from `info` and builds the matching handler.
std::unique_ptr<SessionHandler> make_port_handler(const SessionTypeInfo& info, PortOptions options);

}  // namespace mocksvc::client
