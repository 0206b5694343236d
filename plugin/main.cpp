// ssm-client: a session-manager-plugin compatible program. Put it on PATH as
// `session-manager-plugin` and `aws ssm start-session` runs it with the argv of
// data-channel.md §1; it behaves like session-manager-plugin 1.2.677.0 (same output lines, exit
// codes and `--version`), with our own engine (mocksvc/client) and transports (plugin/).
//
// Environment knobs for tests and debugging (none changes the default behaviour):
//   SSM_CLIENT_LOG=trace|debug|info|warn|error   log to stderr (default: silent, like the plugin)
//   SSM_CLIENT_KEEP_AFTER_EOF=1      stdin EOF does not end the session; wait for channel_closed
//   SSM_CLIENT_SIGN_UPGRADE=1        SigV4-sign the WebSocket upgrade (service ssmmessages), as
//                                    plugin 1.2.764.0+ does
//   SSM_CLIENT_RECONNECT_TO_RETURNED_URL=1   reconnect to ResumeSession's StreamUrl (2026 line)
//   SSM_CLIENT_VERSION=<a.b.c.d>     the version reported (--version, OpenDataChannel, handshake)
// Plus the AWS ones the plugin's SDK reads: AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
// AWS_SESSION_TOKEN, AWS_PROFILE, AWS_SHARED_CREDENTIALS_FILE, AWS_CONFIG_FILE, AWS_CA_BUNDLE,
// SSL_CERT_FILE, and SSM_PLUGIN_LOCAL_HOST for port forwarding.
#include <csignal>
#include <cstdlib>
#include <future>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <variant>
#include <vector>

#include <unistd.h>

#include <boost/asio/strand.hpp>

#include "mocksvc/base/log.hpp"
#include "mocksvc/client/args.hpp"
#include "mocksvc/client/console.hpp"
#include "mocksvc/net/tls.hpp"
#include "mocksvc/runtime/io_threads.hpp"
#include "plugin/aws_environment.hpp"
#include "plugin/session_runner.hpp"

namespace {

namespace client = mocksvc::client;
namespace plugin = ssmh::plugin;

// How long the program lets its connections finish (the close frame after the last queued
// frame) before it exits anyway.
constexpr std::chrono::milliseconds kExitGrace{2000};
// Exit codes for the defaults of signals no handler took: 128 + the signal, as a shell reports
// a process the signal ended.
constexpr int kSignalExitBase = 128;

bool env_flag(const client::Environment& env, const char* name) {
  auto v = env.get(name);
  return v && !v->empty() && *v != "0" && *v != "false";
}

int run_session(const client::StartSessionArgs& args, const client::Environment& env, const std::string& version) {
  auto tls = mocksvc::net::make_client_tls(plugin::ca_bundle_path(env));
  if (!tls) {
    std::cerr << "session-manager-plugin: " << tls.error() << "\n";
    return 1;
  }
  const std::string profile = args.profile;
  plugin::CredentialsProvider credentials = [profile, env]() { return plugin::load_credentials(profile, env); };

  mocksvc::runtime::IoThreads io(1);
  io.start();
  plugin::Strand strand = boost::asio::make_strand(io.executor());

  std::promise<int> finished;
  std::once_flag finished_once;
  std::unique_ptr<client::SignalWatcher> signals;

  plugin::RunnerOptions o;
  o.session = client::SessionConfig::from_args(args);
  o.session.client_version = version;
  if (env_flag(env, "SSM_CLIENT_RECONNECT_TO_RETURNED_URL"))
    o.session.reconnect_target = client::ReconnectTarget::returned_url;
  o.ssm_endpoint = args.ssm_endpoint;
  o.credentials = credentials;
  o.tls = *tls;
  o.sign_upgrade = env_flag(env, "SSM_CLIENT_SIGN_UPGRADE");
  client::ConsoleOptions console;
  console.strand = strand;
  console.keep_session_after_eof = env_flag(env, "SSM_CLIENT_KEEP_AFTER_EOF");
  o.make_handler = client::make_console_handler_factory(console);
  o.print = client::write_stdout;
  o.on_finished = [&](int code) {
    if (signals) signals->cancel();
    std::call_once(finished_once, [&] { finished.set_value(code); });
  };
  plugin::SessionRunner runner(strand, std::move(o));

  signals = std::make_unique<client::SignalWatcher>(
      strand,
      [&runner](client::ControlSignal s) {
        if (runner.session().on_control_signal(s)) return;
        // No handler took the key: the signal's default action, as before the plugin's own
        // handler is installed.
        switch (s) {
          case client::ControlSignal::interrupt:
            runner.session().stop(kSignalExitBase + SIGINT);
            break;
          case client::ControlSignal::quit:
            runner.session().stop(kSignalExitBase + SIGQUIT);
            break;
          case client::ControlSignal::suspend:
            ::kill(::getpid(), SIGSTOP);
            break;
        }
      },
      [&runner](int signo) { runner.session().stop(kSignalExitBase + signo); });
  runner.start();

  const int code = finished.get_future().get();
  io.stop(kExitGrace);
  return code;
}

}  // namespace

int main(int argc, char** argv) {
  const client::Environment env = client::Environment::process();
  mocksvc::base::set_log_level(mocksvc::base::LogLevel::off);
  if (auto level = env.get("SSM_CLIENT_LOG"); level && !level->empty()) {
    if (!mocksvc::base::set_log_level(*level)) mocksvc::base::set_log_level(mocksvc::base::LogLevel::debug);
  }
  // A closed stdout must end the program through write errors, not SIGPIPE.
  std::signal(SIGPIPE, SIG_IGN);

  std::string version(client::kDefaultClientVersion);
  if (auto v = env.get("SSM_CLIENT_VERSION"); v && !v->empty()) version = *v;

  std::vector<std::string> args;
  args.reserve(static_cast<std::size_t>(argc));
  for (int i = 0; i < argc; ++i) args.emplace_back(argv[i] ? argv[i] : "");
  auto parsed = client::parse_args(args, env, version);

  if (auto* p = std::get_if<client::PrintAndExit>(&parsed)) {
    client::write_stdout(p->stdout_text);
    return p->exit_code;
  }
  if (auto* e = std::get_if<client::ArgsError>(&parsed)) {
    if (e->to_stdout) {
      client::write_stdout(e->message + "\n");
    } else {
      std::cerr << e->message << "\n";
    }
    return e->exit_code;
  }
  return run_session(std::get<client::StartSessionArgs>(parsed), env, version);
}
