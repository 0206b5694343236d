#include "plugin/aws_environment.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <map>

namespace ssmh::plugin {
namespace {

using mocksvc::client::Environment;

Environment fake_env(std::map<std::string, std::string> vars) {
  auto shared = std::make_shared<std::map<std::string, std::string>>(std::move(vars));
  return Environment{
      [shared](const std::string& name) -> std::optional<std::string> {
        auto it = shared->find(name);
        if (it == shared->end()) return std::nullopt;
        return it->second;
      },
      [shared](const std::string& name) { shared->erase(name); },
  };
}

class TempDir {
 public:
  TempDir() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "plugin-env-XXXXXX").string();
    path_ = ::mkdtemp(tmpl.data());
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  std::string write(const std::string& name, const std::string& text) const {
    const auto p = path_ / name;
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p.string();
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

constexpr const char* kCredentialsFile = R"(# comment
[default]
aws_access_key_id = AKIDDEFAULT
aws_secret_access_key=secret-default

[dev]
; another comment
aws_access_key_id	=  AKIDDEV
aws_secret_access_key = secret/dev+x=
aws_session_token = token-dev
[broken
aws_access_key_id = AKIDBROKEN
)";

TEST(CredentialsIni, ReadsTheNamedProfile) {
  auto c = parse_credentials_ini(kCredentialsFile, "dev", false);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "AKIDDEV");
  EXPECT_EQ(c->secret_access_key, "secret/dev+x=");
  EXPECT_EQ(c->session_token, "token-dev");
  auto d = parse_credentials_ini(kCredentialsFile, "default", false);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->access_key_id, "AKIDDEFAULT");
  EXPECT_EQ(d->secret_access_key, "secret-default");
  EXPECT_TRUE(d->session_token.empty());
}

TEST(CredentialsIni, RejectsMissingProfilesAndIncompleteKeys) {
  EXPECT_FALSE(parse_credentials_ini(kCredentialsFile, "prod", false));
  EXPECT_FALSE(parse_credentials_ini("[x]\naws_access_key_id = A\n", "x", false));
  EXPECT_FALSE(parse_credentials_ini("", "default", false));
  EXPECT_FALSE(parse_credentials_ini("\x01\x02[[[]]]==\n=\n[", "default", false));
}

TEST(CredentialsIni, UsesProfilePrefixedSectionsInTheConfigFile) {
  const char* config = "[profile dev]\naws_access_key_id=A\naws_secret_access_key=S\n"
                       "[dev]\naws_access_key_id=WRONG\naws_secret_access_key=WRONG\n"
                       "[default]\naws_access_key_id=D\naws_secret_access_key=DS\n";
  auto c = parse_credentials_ini(config, "dev", true);
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "A");
  auto d = parse_credentials_ini(config, "default", true);
  ASSERT_TRUE(d);
  EXPECT_EQ(d->access_key_id, "D");
  EXPECT_FALSE(parse_credentials_ini("[profiledev]\naws_access_key_id=A\naws_secret_access_key=S\n", "dev", true));
}

TEST(Credentials, PrefersTheEnvironment) {
  TempDir dir;
  const auto file = dir.write("credentials", kCredentialsFile);
  auto c = load_credentials("dev", fake_env({{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                             {"AWS_SECRET_ACCESS_KEY", "secret-env"},
                                             {"AWS_SESSION_TOKEN", "tok"},
                                             {"AWS_SHARED_CREDENTIALS_FILE", file}}));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "AKIDENV");
  EXPECT_EQ(c->secret_access_key, "secret-env");
  EXPECT_EQ(c->session_token, "tok");
}

TEST(Credentials, FallsBackToTheSharedFileForTheArgvProfile) {
  TempDir dir;
  const auto file = dir.write("credentials", kCredentialsFile);
  // Only half of the environment pair: the SDK's environment provider skips it.
  auto c = load_credentials("dev", fake_env({{"AWS_ACCESS_KEY_ID", "AKIDENV"},
                                             {"AWS_SHARED_CREDENTIALS_FILE", file},
                                             {"AWS_CONFIG_FILE", "/nonexistent"}}));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "AKIDDEV");
  EXPECT_EQ(c->session_token, "token-dev");
}

TEST(Credentials, PicksTheProfileFromArgvThenAwsProfileThenDefault) {
  EXPECT_EQ(effective_profile("argv", fake_env({{"AWS_PROFILE", "env"}})), "argv");
  EXPECT_EQ(effective_profile("", fake_env({{"AWS_PROFILE", "env"}, {"AWS_DEFAULT_PROFILE", "old"}})), "env");
  EXPECT_EQ(effective_profile("", fake_env({{"AWS_DEFAULT_PROFILE", "old"}})), "old");
  EXPECT_EQ(effective_profile("", fake_env({})), "default");
}

TEST(Credentials, ReadsHomeFilesAndTheConfigFile) {
  TempDir dir;
  dir.write(".aws/config", "[profile cfg]\naws_access_key_id=AKIDCFG\naws_secret_access_key=S\n");
  auto c = load_credentials("", fake_env({{"HOME", dir.path().string()}, {"AWS_PROFILE", "cfg"}}));
  ASSERT_TRUE(c);
  EXPECT_EQ(c->access_key_id, "AKIDCFG");
  EXPECT_FALSE(load_credentials("", fake_env({{"HOME", dir.path().string()}})));
  EXPECT_FALSE(load_credentials("", fake_env({{"AWS_SHARED_CREDENTIALS_FILE", "/dev/null"},
                                              {"AWS_CONFIG_FILE", "/dev/null"}})));
}

TEST(CaBundle, PrefersAwsCaBundleOverSslCertFile) {
  EXPECT_EQ(ca_bundle_path(fake_env({{"AWS_CA_BUNDLE", "/a.pem"}, {"SSL_CERT_FILE", "/b.pem"}})), "/a.pem");
  EXPECT_EQ(ca_bundle_path(fake_env({{"AWS_CA_BUNDLE", ""}, {"SSL_CERT_FILE", "/b.pem"}})), "/b.pem");
  EXPECT_EQ(ca_bundle_path(fake_env({})), "");
}

}  // namespace
}  // namespace ssmh::plugin
