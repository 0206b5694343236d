// The agentsim command line: flags and AWS environment variables turned into a SimConfig plus
// the process-level settings (log level, I/O threads). Pure: no I/O beyond what the caller's
// environment getter does.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "agentsim/settings.hpp"

namespace ssmh::agentsim {

struct ProgramOptions {
  SimConfig config;
  std::string log_level = "info";
  unsigned threads = 0;  // 0: one per core
};

struct ParsedArgs {
  std::optional<ProgramOptions> options;  // absent: print `output` and exit with `exit_code`
  int exit_code = 0;
  std::string output;  // help text (exit 0) or the error (exit 2)
};

using GetEnv = std::function<std::optional<std::string>(const std::string& name)>;

// argv[0] is the program name. Credentials come from AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY
// and AWS_SESSION_TOKEN; the CA bundle defaults to AWS_CA_BUNDLE, else SSL_CERT_FILE; the
// region to AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1.
ParsedArgs parse_args(const std::vector<std::string>& argv, const GetEnv& env);

// The process environment.
GetEnv process_environment();

}  // namespace ssmh::agentsim
