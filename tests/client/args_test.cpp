// The argv contract of session-manager-plugin (data-channel.md §1, ssm-api.md §4), every arity.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "mocksvc/client/args.hpp"
#include "mocksvc/client/session.hpp"

namespace mocksvc::client {
namespace {

constexpr const char* kResponse =
    R"({"SessionId":"sess-1","TokenValue":"tok","StreamUrl":"wss://h/v1/data-channel/sess-1?role=publish_subscribe","ResponseMetadata":{"RequestId":"r"}})";
constexpr const char* kParams = R"({"Target": "i-0123456789abcdef0", "DocumentName": "AWS-StartPortForwardingSession"})";

struct FakeEnv {
  std::map<std::string, std::string> vars;
  std::vector<std::string> unset;
  Environment env() {
    return {[this](const std::string& n) -> std::optional<std::string> {
              auto it = vars.find(n);
              if (it == vars.end()) return std::nullopt;
              return it->second;
            },
            [this](const std::string& n) {
              unset.push_back(n);
              vars.erase(n);
            }};
  }
};

ParsedArgs parse(std::vector<std::string> argv, FakeEnv* env = nullptr) {
  FakeEnv none;
  argv.insert(argv.begin(), "session-manager-plugin");
  return parse_args(argv, (env ? env : &none)->env());
}

std::string printed(const ParsedArgs& p) {
  auto* x = std::get_if<PrintAndExit>(&p);
  EXPECT_NE(x, nullptr);
  return x ? x->stdout_text : std::string();
}

TEST(Args, PrintsTheInstalledBannerWithoutArguments) {
  EXPECT_EQ(printed(parse({})),
            "\nThe Session Manager plugin was installed successfully. Use the AWS CLI to start a "
            "session.\n\n");
}

TEST(Args, PrintsTheVersionAboveTheEnvironmentHandOffThreshold) {
  EXPECT_EQ(printed(parse({"--version"})), "1.2.677.0\n");
  EXPECT_GT(*compare_versions("1.2.677.0", "1.2.497.0"), 0);
}

TEST(Args, ReportsUnknownOperationForTwoOrThreeArguments) {
  const std::string expected =
      "\nUnknown operation foo. \nUse session-manager-plugin --version to check the version.\n\n";
  EXPECT_EQ(printed(parse({"foo"})), expected);
  EXPECT_EQ(printed(parse({"foo", "us-east-1"})), expected);
}

TEST(Args, RejectsAnotherOperation) {
  auto p = parse({kResponse, "us-east-1", "StopSession", "", kParams, "https://ssm"});
  EXPECT_EQ(printed(p), "Invalid Operation");
  EXPECT_EQ(std::get<PrintAndExit>(p).exit_code, 0);
}

TEST(Args, ParsesTheSixArgumentForm) {
  auto p = parse({kResponse, "us-east-1", "StartSession", "dev", kParams, "http://127.0.0.1:18080"});
  auto* a = std::get_if<StartSessionArgs>(&p);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->session_id, "sess-1");
  EXPECT_EQ(a->token_value, "tok");
  EXPECT_EQ(a->stream_url, "wss://h/v1/data-channel/sess-1?role=publish_subscribe");
  EXPECT_EQ(a->region, "us-east-1");
  EXPECT_EQ(a->profile, "dev");
  EXPECT_EQ(a->target, "i-0123456789abcdef0");
  EXPECT_EQ(a->request_parameters_json, kParams);
  EXPECT_EQ(a->ssm_endpoint, "http://127.0.0.1:18080");
  EXPECT_FALSE(a->cli_upgrade_needed);
  EXPECT_FALSE(a->response_from_environment);

  auto c = SessionConfig::from_args(*a);
  EXPECT_EQ(c.session_id, "sess-1");
  EXPECT_EQ(c.target, "i-0123456789abcdef0");
  EXPECT_EQ(c.client_version, "1.2.677.0");
}

TEST(Args, FlagsTheLegacyThreeArgumentForm) {
  auto p = parse({kResponse, "us-east-1", "StartSession"});
  auto* a = std::get_if<StartSessionArgs>(&p);
  ASSERT_NE(a, nullptr);
  EXPECT_TRUE(a->cli_upgrade_needed);
  EXPECT_TRUE(a->target.empty());
  EXPECT_TRUE(SessionConfig::from_args(*a).cli_upgrade_needed);
}

TEST(Args, AcceptsFourAndFiveArgumentsWithoutATarget) {
  auto four = parse({kResponse, "us-east-1", "StartSession", "default"});
  ASSERT_TRUE(std::holds_alternative<StartSessionArgs>(four));
  EXPECT_FALSE(std::get<StartSessionArgs>(four).cli_upgrade_needed);
  auto five = parse({kResponse, "us-east-1", "StartSession", "default", kParams});
  ASSERT_TRUE(std::holds_alternative<StartSessionArgs>(five));
  EXPECT_EQ(std::get<StartSessionArgs>(five).target, "i-0123456789abcdef0");
  EXPECT_TRUE(std::get<StartSessionArgs>(five).ssm_endpoint.empty());
}

TEST(Args, IgnoresArgumentsBeyondTheSixth) {
  auto p = parse({kResponse, "us-east-1", "StartSession", "", kParams, "https://ssm", "extra"});
  ASSERT_TRUE(std::holds_alternative<StartSessionArgs>(p));
  EXPECT_EQ(std::get<StartSessionArgs>(p).ssm_endpoint, "https://ssm");
}

TEST(Args, ReadsAndUnsetsTheEnvironmentVariable) {
  FakeEnv env;
  env.vars["AWS_SSM_START_SESSION_RESPONSE"] = kResponse;
  auto p = parse({"AWS_SSM_START_SESSION_RESPONSE", "us-east-1", "StartSession", "", kParams,
                  "https://ssm"},
                 &env);
  auto* a = std::get_if<StartSessionArgs>(&p);
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->session_id, "sess-1");
  EXPECT_TRUE(a->response_from_environment);
  EXPECT_EQ(env.unset, (std::vector<std::string>{"AWS_SSM_START_SESSION_RESPONSE"}));
  EXPECT_TRUE(env.vars.empty());
}

TEST(Args, ReadsAnyVariableNamedWithThePrefix) {
  FakeEnv env;
  env.vars["AWS_SSM_START_SESSION_RESPONSE_2"] = kResponse;
  auto p = parse({"AWS_SSM_START_SESSION_RESPONSE_2", "us-east-1", "StartSession", "", kParams, ""},
                 &env);
  ASSERT_TRUE(std::holds_alternative<StartSessionArgs>(p));
  EXPECT_EQ(env.unset, (std::vector<std::string>{"AWS_SSM_START_SESSION_RESPONSE_2"}));
}

TEST(Args, ReportsAMissingEnvironmentVariableAsAnEmptyResponse) {
  FakeEnv env;
  auto p = parse({"AWS_SSM_START_SESSION_RESPONSE", "us-east-1", "StartSession", "", kParams, ""},
                 &env);
  auto* e = std::get_if<ArgsError>(&p);
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->code, ArgsErrc::malformed_response);
  EXPECT_TRUE(e->to_stdout);
  EXPECT_EQ(e->exit_code, 0);
}

struct BadCase {
  const char* name;
  std::vector<std::string> argv;
  ArgsErrc code;
  bool to_stdout;
};

TEST(Args, ReturnsTypedErrorsForMalformedInput) {
  const std::vector<BadCase> cases = {
      {"response not JSON", {"{not json", "r", "StartSession", "", kParams, ""},
       ArgsErrc::malformed_response, true},
      {"response an array", {"[1]", "r", "StartSession", "", kParams, ""},
       ArgsErrc::malformed_response, true},
      {"SessionId a number", {R"({"SessionId":5,"TokenValue":"t","StreamUrl":"u"})", "r", "StartSession", "", kParams, ""},
       ArgsErrc::malformed_response, true},
      {"TokenValue missing", {R"({"SessionId":"s","StreamUrl":"u"})", "r", "StartSession", "", kParams, ""},
       ArgsErrc::response_missing_field, false},
      {"StreamUrl null", {R"({"SessionId":"s","TokenValue":"t","StreamUrl":null})", "r", "StartSession", "", kParams, ""},
       ArgsErrc::response_missing_field, false},
      {"parameters not JSON", {kResponse, "r", "StartSession", "", "Target=i-1", ""},
       ArgsErrc::malformed_parameters, false},
      {"no Target", {kResponse, "r", "StartSession", "", R"({"DocumentName":"d"})", ""},
       ArgsErrc::missing_target, false},
      {"Target not a string", {kResponse, "r", "StartSession", "", R"({"Target":["i-1"]})", ""},
       ArgsErrc::missing_target, false},
      // The plugin reads Target before it looks at the operation.
      {"bad Target, other operation", {kResponse, "r", "Other", "", "{}", ""},
       ArgsErrc::missing_target, false},
  };
  for (const auto& c : cases) {
    auto p = parse(c.argv);
    auto* e = std::get_if<ArgsError>(&p);
    ASSERT_NE(e, nullptr) << c.name;
    EXPECT_EQ(e->code, c.code) << c.name;
    EXPECT_EQ(e->to_stdout, c.to_stdout) << c.name;
    EXPECT_EQ(e->exit_code, c.to_stdout ? 0 : 2) << c.name;
    EXPECT_FALSE(e->message.empty()) << c.name;
    EXPECT_EQ(e->message.find('\n'), std::string::npos) << c.name;
    if (c.to_stdout) {
      EXPECT_TRUE(e->message.starts_with("Cannot perform start session: ")) << c.name;
    }
  }
}

TEST(Args, MalformedResponseDoesNotMatterForAnotherOperation) {
  EXPECT_EQ(printed(parse({"garbage", "r", "Other", "", kParams, ""})), "Invalid Operation");
}

TEST(Args, StartingLineMatchesThePlugin) {
  EXPECT_EQ(starting_session_line("sess-1"), "\nStarting session with SessionId: sess-1\n");
}

TEST(Version, ComparesFourPartVersionsNumerically) {
  EXPECT_EQ(compare_versions("3.0.196.0", "3.0.196.0"), 0);
  EXPECT_EQ(compare_versions("3.0.1000.0", "3.0.196.0"), 1);
  EXPECT_EQ(compare_versions("3.0", "3.0.0.0"), 0);
  EXPECT_EQ(compare_versions("2.9.9.9", "3.0.0.0"), -1);
  EXPECT_FALSE(compare_versions("3.x", "3.0"));
  EXPECT_FALSE(compare_versions("", "3.0"));
  EXPECT_TRUE(agent_supports_multiplexing("3.0.196.1"));
  EXPECT_FALSE(agent_supports_multiplexing("3.0.196.0"));
  EXPECT_FALSE(agent_supports_multiplexing(""));
  EXPECT_TRUE(agent_supports_disabling_keepalive("3.1.1512.0"));
  EXPECT_FALSE(agent_supports_disabling_keepalive("3.1.1511.0"));
  EXPECT_TRUE(agent_supports_terminate_flag("2.3.723.0"));
  EXPECT_FALSE(agent_supports_terminate_flag("2.3.722.0"));
}

}  // namespace
}  // namespace mocksvc::client
