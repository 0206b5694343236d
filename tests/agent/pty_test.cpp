// pty mode: a real /bin/sh on a pseudo-terminal, and NonInteractiveCommands exec'd as real
// processes with pipes. The terminal tests are skipped only when the machine cannot open a pty at
// all (no /dev/ptmx, e.g. a container without devpts).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>
#include <utility>
#include <vector>

#include "tests/agent/harness.hpp"

namespace mocksvc::agent::test {
namespace {

using wire::PayloadType;

bool pty_available() {
  int fd = posix_openpt(O_RDWR | O_NOCTTY);
  if (fd < 0) return false;
  close(fd);
  return true;
}

InstanceProfile pty_profile() {
  InstanceProfile p;
  p.shell = InstanceProfile::Shell::pty;
  return p;
}

#define REQUIRE_PTY() \
  if (!pty_available()) GTEST_SKIP() << "posix_openpt failed: this machine cannot open a pty"

TEST(PtyShell, RunsARealShellUntilExit) {
  REQUIRE_PTY();
  Harness h;
  h.start(pty_profile(), document("Standard_Stream"));
  h.send(PayloadType::size, R"({"cols":120,"rows":40})");
  // Arithmetic proves a real shell ran it: the echoed input shows $((6*7)), the output 42.
  h.type("echo pty-$((6*7)); stty size\r");
  ASSERT_TRUE(h.run_until([&] { return h.text().find("pty-42") != std::string::npos; }, 10s));
  ASSERT_TRUE(h.run_until([&] { return h.text().find("40 120") != std::string::npos; }, 10s));
  h.type("exit\r");
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }, 10s));
  EXPECT_EQ(h.end->final_status, "Success");
  EXPECT_TRUE(h.has_session_state("Terminating"));
}

TEST(PtyShell, ProfileIsTypedFirst) {
  REQUIRE_PTY();
  Harness h;
  h.start(pty_profile(), document("Standard_Stream", "{}", R"j({"shellProfile":{"linux":"echo PROF-$((1+1))"}})j"));
  ASSERT_TRUE(h.run_until([&] { return h.text().find("PROF-2") != std::string::npos; }, 10s));
}

TEST(PtyShell, InteractiveCommandsEndWithTheCommand) {
  REQUIRE_PTY();
  Harness h;
  h.start(pty_profile(), document("InteractiveCommands", R"j({"linux":{"commands":"echo ic-$((2+3))"}})j"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }, 10s));
  EXPECT_NE(h.text().find("ic-5\r\n"), std::string::npos);
}

TEST(PtyShell, StopKillsTheShell) {
  REQUIRE_PTY();
  Harness h;
  h.start(pty_profile(), document("Standard_Stream"));
  h.type("echo $$ > /dev/null; echo ready\r");
  ASSERT_TRUE(h.run_until([&] { return h.text().find("ready\r\n") != std::string::npos; }, 10s));
  h.agent().stop();
  h.run_for(std::chrono::milliseconds(100));
  EXPECT_FALSE(h.end.has_value());
}

std::string commands_doc(std::string_view commands_json, bool separate = true) {
  return document("NonInteractiveCommands", std::string(R"({"linux":{"commands":")") +
                                                std::string(commands_json) + R"(","separateOutputStream":)" +
                                                (separate ? "true" : "false") + "}}");
}

// A scratch directory under /tmp, removed with its files.
class ScratchDir {
 public:
  ScratchDir() {
    char tmpl[] = "/tmp/ssmh-agent-test-XXXXXX";
    if (mkdtemp(tmpl)) path_ = tmpl;
  }
  ~ScratchDir() {
    for (const auto& f : files_) unlink(f.c_str());
    if (!path_.empty()) rmdir(path_.c_str());
  }
  ScratchDir(const ScratchDir&) = delete;
  ScratchDir& operator=(const ScratchDir&) = delete;
  std::string file(const std::string& name, std::string_view content, mode_t mode) {
    std::string p = path_ + "/" + name;
    const int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) return p;
    if (write(fd, content.data(), content.size()) < 0) {
      close(fd);
      return p;
    }
    close(fd);
    chmod(p.c_str(), mode);
    files_.push_back(p);
    return p;
  }
  bool ok() const { return !path_.empty(); }

 private:
  std::string path_;
  std::vector<std::string> files_;
};

TEST(PtyCommands, RealShStreamsStdoutStderrAndTheExitCode) {
  Harness h;
  h.start(pty_profile(), commands_doc("sh -c 'echo out-$((1+1)); echo err >&2; exit 3'"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }, 10s));
  EXPECT_EQ(h.text(PayloadType::output), "out-2\n");
  EXPECT_EQ(h.text(PayloadType::std_err), "err\n");
  EXPECT_EQ(h.text(PayloadType::exit_code), "EXIT_CODE: 3");
}

TEST(PtyCommands, TheCommandIsExecdWithoutAShell) {
  Harness h;
  h.start(pty_profile(), commands_doc("echo out; echo err >&2; exit 3 $HOME 'a  b'"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }, 10s));
  EXPECT_EQ(h.text(PayloadType::output), "out; echo err >&2; exit 3 $HOME a  b\n");
  EXPECT_EQ(h.text(PayloadType::std_err), "");
  EXPECT_EQ(h.text(PayloadType::exit_code), "EXIT_CODE: 0");
  EXPECT_EQ(h.end->final_status, "Success");
}

TEST(PtyCommands, ArgvZeroEnvironmentAndStdinAreWhatExecGives) {
  Harness h;
  // $0 is the word after the script; TERM is the agent's; stdin is /dev/null, so cat ends at once.
  h.start(pty_profile(),
          commands_doc(R"(sh -c 'echo $0 $1 $TERM; cat; echo cat-done; readlink /proc/self/fd/0' zero one)"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }, 10s));
  EXPECT_EQ(h.text(PayloadType::output), "zero one xterm-256color\ncat-done\n/dev/null\n");
  EXPECT_EQ(h.text(PayloadType::exit_code), "EXIT_CODE: 0");
}

TEST(PtyCommands, MergedStreamsKeepTheirOrder) {
  Harness h;
  h.start(pty_profile(), commands_doc("sh -c 'echo 1; echo 2 >&2; echo 3; echo 4 >&2'", false));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }, 10s));
  EXPECT_EQ(h.text(PayloadType::output), "1\n2\n3\n4\n");
  EXPECT_EQ(h.text(PayloadType::std_err), "");
  EXPECT_EQ(h.text(PayloadType::exit_code), "");
}

TEST(PtyCommands, InputIsDroppedAndCtrlCInterruptsTheCommand) {
  Harness h;
  h.start(pty_profile(), commands_doc("sh -c 'echo started; sleep 30; echo never'"));
  ASSERT_TRUE(h.run_until([&] { return h.text() == "started\n"; }, 10s));
  h.type("typed\n");
  h.run_for(std::chrono::milliseconds(200));
  EXPECT_FALSE(h.end.has_value());
  h.type("x\x03");
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }, 10s));
  EXPECT_EQ(h.text(), "started\n");
  EXPECT_EQ(h.text(PayloadType::exit_code), "EXIT_CODE: -1");
}

TEST(PtyCommands, AMissingProgramFailsWithExecsError) {
  Harness h;
  h.start(pty_profile(), commands_doc("ssmh-no-such-program-7f3a --flag"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }, 10s));
  EXPECT_EQ(h.text(PayloadType::exit_code), "EXIT_CODE: 1");
  EXPECT_EQ(h.text(PayloadType::std_err),
            "exec: \"ssmh-no-such-program-7f3a\": executable file not found in $PATH");
  EXPECT_EQ(h.end->final_status, "Failed");
  EXPECT_TRUE(h.has_session_state("Terminating"));
}

TEST(PtyCommands, ExecFailuresCarryTheErrno) {
  ScratchDir dir;
  ASSERT_TRUE(dir.ok());
  const std::string no_exec_bit = dir.file("data.txt", "hello\n", 0644);
  // No shebang: execve refuses it and, as in Go, no shell runs it instead.
  const std::string no_shebang = dir.file("script", "echo should-not-run\n", 0755);
  const std::pair<std::string, std::string> cases[] = {
      {"/nonexistent-ssmh/prog", "fork/exec /nonexistent-ssmh/prog: no such file or directory"},
      {no_exec_bit, "fork/exec " + no_exec_bit + ": permission denied"},
      {no_shebang, "fork/exec " + no_shebang + ": exec format error"},
  };
  for (const auto& [program, text] : cases) {
    Harness h;
    h.start(pty_profile(), commands_doc(program, false));
    ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }, 10s)) << program;
    EXPECT_EQ(h.text(PayloadType::std_err), text);
    EXPECT_EQ(h.text(PayloadType::output), "");
    EXPECT_EQ(h.end->final_status, "Failed");
  }
}

// The same commands through the emulated interpreter and as real processes: the client sees
// the same output, stderr, exit code and outcome.
TEST(PtyCommands, EmulatedAndRealAgree) {
  const char* const commands[] = {
      "echo out; echo err >&2; exit 3 'a  b'",
      R"(sh -c 'echo $0 $1 $#; echo err >&2; exit 5' zero one)",
      R"(sh -c 'x=6; echo $((x*7)); false || exit $((2+1))')",
      R"(printf '%s-%d\n' x 7)",
      R"(sh -c 'cat; echo cat-done')",
      "false",
      "/bin/echo -e 'tab\\there'",
      "ssmh-missing-7f3a --flag",
      "/nonexistent-ssmh/prog",
      "'' x",
      "echo 'open",
  };
  for (const char* command : commands) {
    std::string seen[2];
    for (int pty : {0, 1}) {
      Harness h;
      h.start(pty ? pty_profile() : InstanceProfile{}, commands_doc(command));
      ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }, 10s)) << command;
      seen[pty] = "out=" + h.text(PayloadType::output) + "|err=" + h.text(PayloadType::std_err) +
                  "|" + h.text(PayloadType::exit_code) + "|" + h.end->final_status + "|" + h.end->output;
    }
    EXPECT_EQ(seen[0], seen[1]) << command;
  }
}

}  // namespace
}  // namespace mocksvc::agent::test
