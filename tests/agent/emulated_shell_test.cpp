#include <gtest/gtest.h>

#include <string>

#include "mocksvc/agent/emulated_shell.hpp"

namespace mocksvc::agent {
namespace {

using State = Interpreter::State;

struct Sh {
  std::string out;
  std::string err;
  Interpreter interp{make_shell_identity("ip-10-0-0-1", "ssm-user"), false,
                     [this](std::string_view s) { out.append(s); },
                     [this](std::string_view s) { err.append(s); }};
  // Runs a script to its end, waking sleeps at once and closing stdin when asked.
  Interpreter::Step run(std::string_view script) {
    interp.submit(script);
    for (;;) {
      auto step = interp.run(1 << 20);
      if (step.state == State::sleeping) interp.wake(step.sleep_id);
      else if (step.state == State::reading_stdin) interp.stdin_eof();
      else if (step.state != State::running) return step;
    }
  }
};

TEST(Interpreter, EchoHandlesQuotesVariablesAndStatus) {
  Sh sh;
  sh.run(R"(echo "a  b" 'c $HOME' $HOME; false; echo "st=$?" ${USER}x; echo -n no; echo)");
  EXPECT_EQ(sh.out, "a  b c $HOME /home/ssm-user\nst=1 ssm-userx\nno\n");
  EXPECT_EQ(sh.err, "");
}

TEST(Interpreter, EchoInterpretsEscapesLikeDash) {
  Sh sh;
  sh.run(R"(echo 'a\tb\nc'; echo 'x\cy'; echo z)");
  EXPECT_EQ(sh.out, "a\tb\nc\nxz\n");
}

TEST(Interpreter, IdentityCommandsDescribeTheProfile) {
  Sh sh;
  sh.run("hostname; whoami; id; pwd; uname; uname -a; id -un");
  EXPECT_EQ(sh.out,
            "ip-10-0-0-1\nssm-user\nuid=1001(ssm-user) gid=1001(ssm-user) groups=1001(ssm-user)\n"
            "/usr/bin\nLinux\nLinux ip-10-0-0-1 6.1.0-mock #1 SMP PREEMPT_DYNAMIC x86_64 GNU/Linux\n"
            "ssm-user\n");
}

TEST(Interpreter, RootGetsUidZero) {
  std::string out;
  Interpreter in(make_shell_identity("h", "root"), false, [&](std::string_view s) { out.append(s); }, {});
  in.submit("id; cd; pwd");
  in.run();
  EXPECT_EQ(out, "uid=0(root) gid=0(root) groups=0(root)\n/root\n");
}

TEST(Interpreter, UnknownCommandIsNotFoundWithStatus127) {
  Sh sh;
  sh.run("nosuch arg; echo $?\nalso-missing");
  EXPECT_EQ(sh.err, "sh: 1: nosuch: not found\nsh: 2: also-missing: not found\n");
  EXPECT_EQ(sh.out, "127\n");
  EXPECT_EQ(sh.interp.last_status(), 127);
}

TEST(Interpreter, AndOrSequencing) {
  Sh sh;
  sh.run("false && echo no; true && echo yes; false || echo alt; true || echo never; echo end");
  EXPECT_EQ(sh.out, "yes\nalt\nend\n");
}

TEST(Interpreter, RedirectionsRouteStdoutAndStderr) {
  Sh sh;
  sh.run("echo e1 >&2; echo e2 1>&2; nosuch 2>/dev/null; echo gone >/dev/null; echo both 2>&1; "
         "nosuch 2>&1");
  EXPECT_EQ(sh.err, "e1\ne2\n");
  EXPECT_EQ(sh.out, "both\nsh: 1: nosuch: not found\n");
}

TEST(Interpreter, ExitStopsTheScriptWithItsStatus) {
  Sh sh;
  auto step = sh.run("echo before; exit 3; echo after");
  EXPECT_EQ(step.state, State::exited);
  EXPECT_EQ(sh.interp.exit_status(), 3);
  EXPECT_EQ(sh.out, "before\n");
}

TEST(Interpreter, PrintfFormatsAndReusesTheFormat) {
  Sh sh;
  sh.run(R"(printf '%s=%d\n' a 1 b 2; printf '[%5s|%-3s|%03d|%x]\n' hi x 7 255; printf 'no newline')");
  EXPECT_EQ(sh.out, "a=1\nb=2\n[   hi|x  |007|ff]\nno newline");
}

TEST(Interpreter, CommandSubstitution) {
  Sh sh;
  sh.run("echo \"host=$(hostname)\" `whoami`; echo $(seq 3)");
  EXPECT_EQ(sh.out, "host=ip-10-0-0-1 ssm-user\n1 2 3\n");
}

TEST(Interpreter, SeqStreamsInBudgetedSteps) {
  std::string out;
  Interpreter in(make_shell_identity("h", "u"), false, [&](std::string_view s) { out.append(s); }, {});
  in.submit("seq 100000");
  int steps = 0;
  Interpreter::Step step;
  do {
    step = in.run(4096);
    ++steps;
    ASSERT_LT(steps, 10000);
  } while (step.state == State::running);
  EXPECT_GT(steps, 100);  // ~589 KB of output in 4 KB steps
  std::string expected;
  for (int i = 1; i <= 100000; ++i) expected += std::to_string(i) + "\n";
  EXPECT_EQ(out, expected);
}

TEST(Interpreter, SleepWaitsForWakeOfItsOwnId) {
  Sh sh;
  sh.interp.submit("sleep 1.5; echo woke");
  auto step = sh.interp.run();
  ASSERT_EQ(step.state, State::sleeping);
  EXPECT_EQ(step.sleep_for, std::chrono::milliseconds(1500));
  sh.interp.wake(step.sleep_id + 1);  // a stale timer
  EXPECT_EQ(sh.interp.run().state, State::sleeping);
  sh.interp.wake(step.sleep_id);
  sh.interp.run();
  EXPECT_EQ(sh.out, "woke\n");
}

TEST(Interpreter, InterruptEndsANonInteractiveShellBySignal) {
  Sh sh;
  sh.interp.submit("sleep 10; echo never");
  ASSERT_EQ(sh.interp.run().state, State::sleeping);
  sh.interp.interrupt(2);
  EXPECT_EQ(sh.interp.run().state, State::exited);
  EXPECT_EQ(sh.interp.exit_status(), 130);
  EXPECT_EQ(sh.interp.terminating_signal(), 2);
  EXPECT_EQ(sh.out, "");
}

TEST(Interpreter, CatCopiesStdinUntilEof) {
  Sh sh;
  sh.interp.submit("cat; echo done");
  EXPECT_EQ(sh.interp.run().state, State::reading_stdin);
  sh.interp.stdin_data("line1\n");
  EXPECT_EQ(sh.interp.run().state, State::reading_stdin);
  sh.interp.stdin_eof();
  sh.interp.run();
  EXPECT_EQ(sh.out, "line1\ndone\n");
}

TEST(Interpreter, SyntaxErrorsAreReportedNotThrown) {
  Sh sh;
  sh.run("echo 'unterminated");
  EXPECT_EQ(sh.err, "sh: 1: Syntax error: Unterminated quoted string\n");
  EXPECT_EQ(sh.interp.exit_status(), 2);
  Sh sh2;
  sh2.run("echo a | cat");
  EXPECT_NE(sh2.err.find("pipelines are not supported"), std::string::npos);
  Sh sh3;
  sh3.run("&& echo x");
  EXPECT_EQ(sh3.err, "sh: 1: Syntax error: \"&&\" unexpected\n");
}

TEST(Interpreter, HostileInputStaysBounded) {
  Sh sh;
  sh.run("printf '%99999d' 1; echo $($($($($($($($($($(echo deep))))))))))");
  EXPECT_NE(sh.err.find("invalid directive"), std::string::npos);
  Sh sh2;
  sh2.run(std::string(5000, '$') + "(" + std::string(3000, '(') + "\"'`\\");
  SUCCEED();
}

// ---------------------------------------------------------------------------------------------

struct Term {
  EmulatedTerminal term;
  explicit Term(EmulatedTerminal::Config c) : term(std::move(c)) {}
  std::string feed(std::string_view keys) {
    term.input(keys);
    term.advance();
    return term.take_output();
  }
};

EmulatedTerminal::Config interactive(std::string profile = "") {
  EmulatedTerminal::Config c;
  c.identity = make_shell_identity("ip-10-0-0-1", "ssm-user");
  c.profile = std::move(profile);
  return c;
}

TEST(EmulatedTerminal, PromptsEchoesAndTranslatesNewlines) {
  Term t(interactive());
  t.term.start();
  t.term.advance();
  EXPECT_EQ(t.term.take_output(), "$ ");
  EXPECT_EQ(t.feed("echo hi\r"), "echo hi\r\nhi\r\n$ ");
  EXPECT_EQ(t.feed("\r"), "\r\n$ ");
  EXPECT_EQ(t.feed("true\n"), "true\r\n$ ");
}

TEST(EmulatedTerminal, ProfileIsEchoedBeforeThePromptLikeTheAgentTypesIt) {
  Term t(interactive("echo PROFILE-RAN"));
  t.term.start();
  t.term.advance();
  // The transcript of agent.md §6.1: echo, prompt, output, prompt.
  EXPECT_EQ(t.term.take_output(), "echo PROFILE-RAN\r\n$ PROFILE-RAN\r\n$ ");
}

TEST(EmulatedTerminal, BackspaceAndControlCharacters) {
  Term t(interactive());
  t.term.start();
  t.term.advance();
  t.term.take_output();
  EXPECT_EQ(t.feed("echo abx\x7f"), "echo abx\b \b");
  EXPECT_EQ(t.feed("c\r"), "c\r\nabc\r\n$ ");
  EXPECT_EQ(t.feed("\x1b[A"), "^[[A");
  EXPECT_EQ(t.feed("\x7f\x7f\x7f\r"), "\b \b\b \b\b \b\b \b\r\n$ ");
}

TEST(EmulatedTerminal, CtrlCAbortsTheLineOrTheCommand) {
  Term t(interactive());
  t.term.start();
  t.term.advance();
  t.term.take_output();
  EXPECT_EQ(t.feed("half a line\x03"), "half a line^C\r\n$ ");
  t.term.input("sleep 100\r");
  EXPECT_EQ(t.term.advance().state, State::sleeping);
  EXPECT_EQ(t.term.take_output(), "sleep 100\r\n");
  EXPECT_EQ(t.feed("\x03"), "^C\r\n$ ");
  EXPECT_EQ(t.feed("echo $?\r"), "echo $?\r\n130\r\n$ ");
}

TEST(EmulatedTerminal, CtrlDOnAnEmptyLineExits) {
  Term t(interactive());
  t.term.start();
  t.term.advance();
  t.term.input("false\r\x04");
  EXPECT_EQ(t.term.advance().state, State::exited);
  EXPECT_EQ(t.term.exit_status(), 1);
}

TEST(EmulatedTerminal, TypeaheadDuringASleepRunsAfterIt) {
  Term t(interactive());
  t.term.start();
  t.term.advance();
  t.term.take_output();
  t.term.input("sleep 1\r");
  auto step = t.term.advance();
  ASSERT_EQ(step.state, State::sleeping);
  EXPECT_EQ(t.term.take_output(), "sleep 1\r\n");
  EXPECT_EQ(t.feed("echo next\r"), "echo next\r\n");  // echoed at once, run later
  t.term.wake(step.sleep_id);
  t.term.advance();
  EXPECT_EQ(t.term.take_output(), "$ next\r\n$ ");
}

TEST(EmulatedTerminal, CatEchoesLinesUntilCtrlD) {
  Term t(interactive());
  t.term.start();
  t.term.advance();
  t.term.take_output();
  EXPECT_EQ(t.feed("cat\r"), "cat\r\n");
  EXPECT_EQ(t.feed("abc\r"), "abc\r\nabc\r\n");
  EXPECT_EQ(t.feed("\x04"), "$ ");
}

TEST(EmulatedTerminal, SttySizeReportsTheResize) {
  Term t(interactive());
  t.term.start();
  t.term.resize(30, 100);
  t.term.advance();
  t.term.take_output();
  EXPECT_EQ(t.feed("stty size\r"), "stty size\r\n30 100\r\n$ ");
}

TEST(EmulatedTerminal, ScriptModeRunsCommandsThenExits) {
  EmulatedTerminal::Config c;
  c.identity = make_shell_identity("ip-10-0-0-1", "ssm-user");
  c.interactive_shell = false;
  c.script = "echo one\nexit 4";
  Term t(std::move(c));
  t.term.start();
  EXPECT_EQ(t.term.advance().state, State::exited);
  EXPECT_EQ(t.term.take_output(), "one\r\n");
  EXPECT_EQ(t.term.exit_status(), 4);
}

}  // namespace
}  // namespace mocksvc::agent
