// What a virtual instance is (its identity, agent version, shell flavour and where its ports
// lead) and how one of its sessions ended. Plain data shared by the session engine, its plugins
// and whoever owns the transport.
#pragma once

#include <map>
#include <string>

namespace mocksvc::agent {

struct InstanceProfile {
  std::string instance_id;
  // Sent as AgentVersion in the HandshakeRequest. It must compare above 3.1.1511.0 so the
  // official client keeps its smux keepalive off and picks mux mode (data-channel.md §6.2, §10.4).
  std::string agent_version = "3.3.987.0";
  std::string hostname = "ip-10-0-0-1";
  std::string user = "ssm-user";
  // emulated: a deterministic sh-like interpreter, no processes. pty: a real /bin/sh on a pty
  // (and the real program exec'd for NonInteractiveCommands), running as the mock's own user.
  enum class Shell { emulated, pty } shell = Shell::emulated;
  // Port targets: "80" -> "127.0.0.1:8080" for local sessions, "db.internal:5432" -> "..." for
  // remote-host sessions. Unmapped local ports dial 127.0.0.1:<port>; unmapped remote hosts dial
  // host:port.
  std::map<std::string, std::string> port_targets;
};

struct SessionEnd {
  enum class Reason {
    completed,         // the plugin finished (shell exited, port session ended)
    failed,            // the session could not start or the handshake failed
    channel_closed,    // the service sent channel_closed on the data channel
    bad_document,      // the task's document was refused before anything was sent
  };
  Reason reason = Reason::completed;
  std::string final_status = "Success";  // agent_task_complete FinalTaskStatus: Success | Failed
  std::string output;                    // agent_task_complete Output (error text on failure)
};

}  // namespace mocksvc::agent
