// pty mode: a real /bin/sh on a pseudo-terminal, and real `sh -c` with pipes. Skipped only when
// the machine cannot open a pty at all (no /dev/ptmx, e.g. a container without devpts).
#include <gtest/gtest.h>

#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

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

TEST(PtyCommands, RealShStreamsStdoutStderrAndTheExitCode) {
  Harness h;
  h.start(pty_profile(),
          document("NonInteractiveCommands",
                   R"({"linux":{"commands":"echo out-$((1+1)); echo err >&2; exit 3","separateOutputStream":"true"}})"));
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }, 10s));
  EXPECT_EQ(h.text(PayloadType::output), "out-2\n");
  EXPECT_EQ(h.text(PayloadType::std_err), "err\n");
  EXPECT_EQ(h.text(PayloadType::exit_code), "EXIT_CODE: 3");
}

TEST(PtyCommands, StdinReachesTheCommandAndCtrlCInterruptsIt) {
  Harness h;
  h.start(pty_profile(),
          document("NonInteractiveCommands",
                   R"({"linux":{"commands":"read line; echo got-$line; sleep 30","separateOutputStream":true}})"));
  ASSERT_TRUE(h.run_until([&] {
    return !h.delivered.empty() && h.delivered.back().payload_type == PayloadType::handshake_complete;
  }, 10s));
  h.type("abc\n");
  ASSERT_TRUE(h.run_until([&] { return h.text() == "got-abc\n"; }, 10s));
  h.type("\x03");
  ASSERT_TRUE(h.run_until([&] { return h.end.has_value(); }, 10s));
  EXPECT_EQ(h.text(PayloadType::exit_code), "EXIT_CODE: -1");
}

}  // namespace
}  // namespace mocksvc::agent::test
