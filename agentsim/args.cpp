#include "agentsim/args.hpp"

#include <cstdlib>

#include <CLI/CLI.hpp>

namespace ssmh::agentsim {

namespace {

// "80=127.0.0.1:8080" -> {"80", "127.0.0.1:8080"}.
bool split_port_target(const std::string& text, std::string& port, std::string& target) {
  const auto eq = text.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == text.size()) return false;
  port = text.substr(0, eq);
  target = text.substr(eq + 1);
  return true;
}

std::string first_env(const GetEnv& env, std::initializer_list<const char*> names, std::string fallback) {
  for (const char* n : names)
    if (auto v = env(n); v && !v->empty()) return *v;
  return fallback;
}

}  // namespace

GetEnv process_environment() {
  return [](const std::string& name) -> std::optional<std::string> {
    if (const char* v = std::getenv(name.c_str())) return std::string(v);
    return std::nullopt;
  };
}

ParsedArgs parse_args(const std::vector<std::string>& argv, const GetEnv& env) {
  ProgramOptions o;
  SimConfig& c = o.config;
  std::string ca_bundle = first_env(env, {"AWS_CA_BUNDLE", "SSL_CERT_FILE"}, "");
  std::string region = first_env(env, {"AWS_REGION", "AWS_DEFAULT_REGION"}, "us-east-1");
  std::size_t count = 1;
  std::string instance_id;
  std::string prefix;
  bool do_register = false;
  Activation activation;
  std::string shell = "emulated";
  std::optional<unsigned> heartbeat_seconds;
  std::optional<unsigned> associations_seconds;
  double time_scale = 1.0;
  std::vector<std::string> port_targets;

  CLI::App app{"agentsim: simulated SSM agents that talk to a Session Manager service over real sockets"};
  app.add_option("--endpoint", c.endpoint, "Service URL (http:// or https://) for ssm, ssmmessages and ec2messages")
      ->required();
  app.add_option("--ca-bundle", ca_bundle, "PEM bundle to verify https:// with (default: AWS_CA_BUNDLE, SSL_CERT_FILE)");
  app.add_option("--region", region, "Region to sign for (default: AWS_REGION, AWS_DEFAULT_REGION, us-east-1)");
  app.add_option("--count", count, "Number of agents")->check(CLI::Range(std::size_t{1}, std::size_t{1000000}));
  app.add_option("--instance-id", instance_id, "Instance id of a single agent");
  app.add_option("--instance-id-prefix", prefix, "Instance ids are this prefix plus a zero-padded hex index");
  app.add_flag("--register", do_register, "Register every agent through on-prem activation");
  app.add_option("--code", activation.code, "Activation code (with --register)");
  app.add_option("--id", activation.id, "Activation id (with --register)");
  app.add_option("--agent-version", c.agent_version, "AgentVersion the agents report");
  app.add_option("--shell", shell, "Session shell: emulated (no processes) or pty (a real /bin/sh)")
      ->check(CLI::IsMember({"emulated", "pty"}));
  app.add_option("--user", c.user, "User name sessions report");
  app.add_option("--heartbeat-seconds", heartbeat_seconds, "UpdateInstanceInformation period (default 300)")
      ->check(CLI::Range(1u, 86400u));
  app.add_option("--associations-seconds", associations_seconds,
                 "ListInstanceAssociations period; 0 turns the poll off (default 30)");
  app.add_flag("--mds-poll", c.timing.mds_poll, "Poll ec2messages GetMessages until 60 s after MGS is up");
  app.add_option("--time-scale", time_scale,
                 "Multiply every delay and retry constant of the real agent (1 = real timings)")
      ->check(CLI::PositiveNumber);
  app.add_option("--port-target", port_targets, "PORT=HOST:PORT: where port sessions for PORT connect (repeatable)");
  app.add_option("--seed", c.seed, "Seed for generated instance ids and random delays");
  app.add_option("--threads", o.threads, "I/O threads (default: one per core)");
  app.add_option("--log-level", o.log_level, "trace, debug, info, warn, error or off")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));

  std::vector<const char*> raw;
  raw.reserve(argv.size());
  for (const auto& a : argv) raw.push_back(a.c_str());
  ParsedArgs out;
  try {
    app.parse(static_cast<int>(raw.size()), raw.data());
  } catch (const CLI::CallForHelp&) {
    out.output = app.help();
    return out;
  } catch (const CLI::ParseError& e) {
    out.exit_code = 2;
    out.output = e.what();
    return out;
  }

  auto fail = [&out](std::string why) {
    out.exit_code = 2;
    out.output = std::move(why);
    return out;
  };
  c.ca_bundle = ca_bundle;
  c.region = region;
  c.shell = shell == "pty" ? mocksvc::agent::InstanceProfile::Shell::pty
                           : mocksvc::agent::InstanceProfile::Shell::emulated;
  c.timing = c.timing.scaled(time_scale);
  if (heartbeat_seconds) c.timing.heartbeat = std::chrono::seconds(*heartbeat_seconds);
  if (associations_seconds) c.timing.associations = std::chrono::seconds(*associations_seconds);
  for (const auto& t : port_targets) {
    std::string port, target;
    if (!split_port_target(t, port, target)) return fail("--port-target wants PORT=HOST:PORT, not '" + t + "'");
    c.port_targets[port] = target;
  }

  auto& identity = c.identity;
  identity.count = count;
  if (do_register) {
    if (activation.code.empty() || activation.id.empty()) return fail("--register needs --code and --id");
    if (!instance_id.empty() || !prefix.empty())
      return fail("--register assigns instance ids; drop --instance-id/--instance-id-prefix");
    identity.activation = activation;
  } else {
    if (!activation.code.empty() || !activation.id.empty()) return fail("--code and --id go with --register");
    if (!instance_id.empty()) {
      if (count != 1) return fail("--instance-id names one agent; use --instance-id-prefix with --count");
      identity.instance_ids = {instance_id};
    } else {
      for (std::size_t i = 0; i < count; ++i)
        identity.instance_ids.push_back(prefix.empty() ? generated_instance_id(c.seed, i)
                                                       : prefixed_instance_id(prefix, i));
    }
    auto key = env("AWS_ACCESS_KEY_ID");
    auto secret = env("AWS_SECRET_ACCESS_KEY");
    if (!key || key->empty() || !secret || secret->empty())
      return fail("no credentials: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY (or use --register)");
    mocksvc::auth::Credentials creds;
    creds.access_key_id = *key;
    creds.secret_access_key = *secret;
    if (auto token = env("AWS_SESSION_TOKEN")) creds.session_token = *token;
    identity.credentials = creds;
  }
  out.options = std::move(o);
  return out;
}

}  // namespace ssmh::agentsim
