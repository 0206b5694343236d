#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "mocksvc/backend/documents.hpp"

namespace mocksvc::backend {
namespace {

using json = nlohmann::json;

ResolvedDocument resolve_ok(std::string_view name, const ParameterValues& params = {},
                            const SessionPreferences& prefs = {}) {
  auto r = resolve_session_document(name, params, prefs);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? *r : ResolvedDocument{};
}

AwsError resolve_error(std::string_view name, const ParameterValues& params) {
  auto r = resolve_session_document(name, params, {});
  EXPECT_FALSE(r);
  return r ? AwsError{} : r.error();
}

TEST(Documents, DefaultDocumentIsTheShellPreferencesDocument) {
  auto d = resolve_ok("");
  EXPECT_EQ(d.name, "SSM-SessionManagerRunShell");
  EXPECT_EQ(d.session_type, "Standard_Stream");
  json c = json::parse(d.content_json);
  EXPECT_EQ(c["schemaVersion"], "1.0");
  EXPECT_EQ(c["sessionType"], "Standard_Stream");
  EXPECT_EQ(c["parameters"], json::object());
  EXPECT_EQ(c["properties"], json::object());
  EXPECT_EQ(c["inputs"]["idleSessionTimeout"], "20");
  EXPECT_EQ(c["inputs"]["kmsKeyId"], "");
  EXPECT_EQ(d.parameters_json, "{}");
}

TEST(Documents, ContentKeysComeInTheDocumentOrder) {
  auto d = resolve_ok("AWS-StartSSHSession");
  EXPECT_EQ(d.content_json.find(R"({"schemaVersion":"1.0","description":)"), 0u) << d.content_json;
}

TEST(Documents, PortForwardingTakesDefaultsAndSubstitutesProperties) {
  auto d = resolve_ok("AWS-StartPortForwardingSession", {{"portNumber", {"8080"}}});
  EXPECT_EQ(d.session_type, "Port");
  EXPECT_EQ(d.properties_json,
            R"({"portNumber":"8080","type":"LocalPortForwarding","localPortNumber":"0"})");
  EXPECT_EQ(d.parameters_json, R"({"portNumber":"8080","localPortNumber":"0"})");
  json c = json::parse(d.content_json);
  EXPECT_EQ(c["parameters"]["portNumber"]["default"], "80");
  EXPECT_EQ(c["parameters"]["portNumber"]["type"], "String");
  EXPECT_EQ(c["parameters"]["localPortNumber"]["allowedPattern"],
            "^([0-9]|[1-9][0-9]{1,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|"
            "6553[0-5])$");
}

TEST(Documents, SshSessionDefaultsToPort22WithoutType) {
  auto d = resolve_ok("AWS-StartSSHSession");
  EXPECT_EQ(d.properties_json, R"({"portNumber":"22"})");
}

TEST(Documents, RemoteHostRequiresHost) {
  auto e = resolve_error("AWS-StartPortForwardingSessionToRemoteHost", {{"portNumber", {"5432"}}});
  EXPECT_EQ(e.code, "InvalidParameters");
  EXPECT_EQ(e.http_status, 400);
  EXPECT_EQ(e.message, R"(Parameter "host" is required but was not provided.)");

  auto d = resolve_ok(
      "AWS-StartPortForwardingSessionToRemoteHost",
      {{"host", {"db.internal"}}, {"portNumber", {"5432"}}, {"localPortNumber", {"15432"}}});
  EXPECT_EQ(json::parse(d.properties_json)["host"], "db.internal");
  EXPECT_EQ(json::parse(d.properties_json)["localPortNumber"], "15432");
}

TEST(Documents, PatternMismatchIsWordedLikeTheService) {
  auto e = resolve_error("AWS-StartPortForwardingSessionToRemoteHost", {{"host", {"[db]"}}});
  EXPECT_EQ(e.code, "InvalidParameters");
  EXPECT_EQ(e.message,
            "Parameter \"host\" has value \"[db]\" not matching "
            "\"^[^,$^&\\(\\)!;'\"<>\\`{}\\[\\]\\|#=]{3,}$\".");
}

TEST(Documents, PortPatternAcceptsExactlyTheValidPorts) {
  for (const char* good : {"1", "22", "80", "443", "8080", "65535"}) {
    EXPECT_TRUE(resolve_session_document("AWS-StartSSHSession", {{"portNumber", {good}}}, {}))
        << good;
  }
  for (const char* bad : {"0", "65536", "080", "-1", "22a", "", "99999"}) {
    EXPECT_FALSE(resolve_session_document("AWS-StartSSHSession", {{"portNumber", {bad}}}, {}))
        << bad;
  }
  EXPECT_TRUE(
      resolve_session_document("AWS-StartPortForwardingSession", {{"localPortNumber", {"0"}}}, {}));
}

TEST(Documents, RejectsUnknownParameters) {
  auto e = resolve_error("AWS-StartSSHSession",
                         {{"portNumber", {"22"}}, {"bogus", {"1"}}, {"other", {"2"}}});
  EXPECT_EQ(e.code, "InvalidParameters");
  EXPECT_EQ(e.message, "Document AWS-StartSSHSession does not support parameters: [bogus, other].");
  EXPECT_EQ(resolve_error("", {{"command", {"ls"}}}).code, "InvalidParameters");
}

TEST(Documents, StringParametersTakeExactlyOneValue) {
  auto e = resolve_error("AWS-StartSSHSession", {{"portNumber", {"22", "23"}}});
  EXPECT_EQ(e.message,
            "Parameter \"portNumber\" is of type String and takes exactly one value, but 2 were "
            "provided.");
  EXPECT_EQ(resolve_error("AWS-StartSSHSession", {{"portNumber", {}}}).code, "InvalidParameters");
}

TEST(Documents, UnknownAndNonSessionDocumentsAreInvalidDocument) {
  auto e = resolve_error("My-Document", {});
  EXPECT_EQ(e.code, "InvalidDocument");
  EXPECT_EQ(e.message, "Document with name My-Document does not exist.");
  auto c = resolve_error("AWS-RunShellScript", {});
  EXPECT_EQ(c.code, "InvalidDocument");
  EXPECT_EQ(c.message,
            "Document type: 'Command' is not supported. Only type: 'Session' is supported for "
            "Session Manager.");
}

TEST(Documents, AcceptsTheDocumentArnForm) {
  auto d = resolve_ok("arn:aws:ssm:us-east-1::document/AWS-StartSSHSession");
  EXPECT_EQ(d.name, "AWS-StartSSHSession");
}

TEST(Documents, CommandDocumentsRequireAndSubstituteTheCommand) {
  EXPECT_EQ(resolve_error("AWS-StartInteractiveCommand", {}).message,
            R"(Parameter "command" is required but was not provided.)");
  auto d = resolve_ok("AWS-StartNonInteractiveCommand", {{"command", {"echo {{ x }} && uptime"}}});
  EXPECT_EQ(d.session_type, "NonInteractiveCommands");
  json p = json::parse(d.properties_json);
  EXPECT_EQ(p["linux"]["commands"], "echo {{ x }} && uptime");
  EXPECT_EQ(p["linux"]["runAsElevated"], false);
  EXPECT_EQ(resolve_ok("AWS-StartInteractiveCommand", {{"command", {"top"}}}).session_type,
            "InteractiveCommands");
}

TEST(Documents, PreferencesBecomeInputs) {
  SessionPreferences prefs;
  prefs.idle_timeout_minutes = 5;
  prefs.max_session_duration_minutes = 90;
  prefs.run_as_enabled = true;
  prefs.run_as_default_user = "nobody";
  prefs.shell_profile_linux = "echo hi";
  json in = json::parse(resolve_ok("", {}, prefs).content_json)["inputs"];
  EXPECT_EQ(in["idleSessionTimeout"], "5");
  EXPECT_EQ(in["maxSessionDuration"], "90");
  EXPECT_EQ(in["runAsEnabled"], true);
  EXPECT_EQ(in["runAsDefaultUser"], "nobody");
  EXPECT_EQ(in["shellProfile"]["linux"], "echo hi");
  EXPECT_EQ(in["s3EncryptionEnabled"], false);
}

TEST(Documents, HugeParameterValuesAreRejectedWithoutCrashing) {
  std::string big(65535, 'a');
  EXPECT_TRUE(resolve_session_document("AWS-StartPortForwardingSessionToRemoteHost",
                                       {{"host", {big}}}, {}));
  EXPECT_FALSE(resolve_session_document("AWS-StartSSHSession", {{"portNumber", {big}}}, {}));
}

TEST(Documents, CatalogueListsEverySessionDocument) {
  auto names = session_document_names();
  EXPECT_EQ(names.size(), 6u);
  EXPECT_EQ(names.front(), "SSM-SessionManagerRunShell");
}

}  // namespace
}  // namespace mocksvc::backend
