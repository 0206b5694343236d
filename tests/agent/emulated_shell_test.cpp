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

TEST(Interpreter, ArithmeticExpansionEvaluatesLikeDash) {
  Sh sh;
  // Expected values are dash 0.5.12's output for the same lines.
  sh.run("echo $((6*7)) $(( (2+3)*-4 )) $((7%3)) $((-7/2)) $((1<2)) $((3>=4)) $((2==2)) $((2!=2))\n"
         "echo $((0x10)) $((010)) $((~0)) $((!0)) $((1<<4)) $((5&3)) $((5|3)) $((5^3)) $((- -3))\n"
         "echo $((3&&0)) $((0||7)) $((1?2:3)) $((0?1/0:4)) $((0&&1/0)) $((1||1/0))\n"
         "echo $((9223372036854775807+1)) $((99999999999999999999))\n"
         "echo $(( 1 ? 2 : 3 ? 4 : 5 )) $(( 0 ? 2 : 0 ? 4 : 5 )) $((x = y = 4)) $x $y "
         "$(( 2 + 3 * 4 - 6 / 2 )) $(( 1 - 2 - 3 )) $(( 2 << 1 + 1 ))");
  EXPECT_EQ(sh.out,
            "42 -20 1 -3 1 0 1 0\n"
            "16 8 -1 1 16 1 7 6 3\n"
            "0 1 2 4 0 1\n"
            "-9223372036854775808 9223372036854775807\n"
            "2 5 4 4 4 11 -4 8\n");
  EXPECT_EQ(sh.err, "");
}

TEST(Interpreter, ArithmeticReadsAndAssignsVariables) {
  Sh sh;
  sh.run("y=3; e=; echo $((y*2)) $(($y*2)) $((unset_var+1)) $((e+1)) $((x=5)) $x $((x+=2)) $x\n"
         "h=0x10 s=' 5 ' n=-5; echo $((h)) $((s+1)) $((n+1)) \"q$((2+2))q\" $(( $(echo 3) * 2 ))");
  EXPECT_EQ(sh.out, "6 6 1 1 5 5 7 7\n16 6 -4 q4q 6\n");
  EXPECT_EQ(sh.err, "");
}

TEST(Interpreter, ArithmeticOperatorsDoNotSplitTheLine) {
  Sh sh;
  sh.run("echo $((1||0)) $((6&3)) $(echo a; echo b) `echo c; echo d`; echo end");
  EXPECT_EQ(sh.out, "1 2 a b c d\nend\n");
}

TEST(Interpreter, ArithmeticErrorsEndANonInteractiveShellWithStatus2) {
  struct Case {
    const char* script;
    const char* err;
  };
  const Case cases[] = {
      {"echo a $((1/0)) b; echo after", "sh: 1: arithmetic expression: division by zero: \"1/0\"\n"},
      {"y=3; echo $(( $y % 0 ))", "sh: 1: arithmetic expression: division by zero: \" 3 % 0 \"\n"},
      {"echo $(( 1 + ))", "sh: 1: arithmetic expression: expecting primary: \" 1 + \"\n"},
      {"echo $(( ))", "sh: 1: arithmetic expression: expecting primary: \" \"\n"},
      {"echo $((1 2))", "sh: 1: arithmetic expression: expecting EOF: \"1 2\"\n"},
      {"echo $((08))", "sh: 1: arithmetic expression: expecting EOF: \"08\"\n"},
      {"echo $(( 5 = 3 ))", "sh: 1: arithmetic expression: expecting EOF: \" 5 = 3 \"\n"},
      {"echo $(( 1 ? 2 ))", "sh: 1: arithmetic expression: expecting ':': \" 1 ? 2 \"\n"},
      {"echo $(( (1 2) ))", "sh: 1: arithmetic expression: expecting ')': \" (1 2) \"\n"},
      {"x=abc; echo $((x+1))", "sh: 1: Illegal number: abc\n"},
      {"echo $(( (1+2 ))", "sh: 1: Syntax error: Missing '))'\n"},
  };
  for (const auto& c : cases) {
    Sh sh;
    auto step = sh.run(c.script);
    EXPECT_EQ(step.state, State::exited) << c.script;
    EXPECT_EQ(sh.interp.exit_status(), 2) << c.script;
    EXPECT_EQ(sh.out, "") << c.script;
    EXPECT_EQ(sh.err, c.err) << c.script;
  }
}

TEST(Interpreter, ArithmeticErrorGoesToTheShellsStderrNotTheCommands) {
  Sh sh;
  sh.run("echo $((1/0)) 2>/dev/null");
  EXPECT_EQ(sh.err, "sh: 1: arithmetic expression: division by zero: \"1/0\"\n");
}

TEST(Interpreter, HostileArithmeticStaysBounded) {
  Sh sh;
  sh.run("echo $((" + std::string(100000, '(') + "1" + std::string(100000, ')') + "))");
  EXPECT_NE(sh.err.find("nested too deeply"), std::string::npos);
  Sh sh2;
  sh2.run("echo $((" + std::string(100000, '-') + "1))");
  EXPECT_NE(sh2.err.find("nested too deeply"), std::string::npos);
  Sh sh3;
  sh3.run("echo $((" + std::string(100000, '(') + "1))");
  EXPECT_EQ(sh3.err, "sh: 1: Syntax error: Missing '))'\n");
}

TEST(Interpreter, AProgramRunsWithoutExpansionOrShellSyntax) {
  Sh sh;
  sh.interp.submit_program({"echo", "out;", "echo", "err", ">&2;", "exit", "3", "$HOME", "$((1+1))"});
  sh.run("");
  EXPECT_EQ(sh.out, "out; echo err >&2; exit 3 $HOME $((1+1))\n");
  EXPECT_EQ(sh.err, "");
  EXPECT_EQ(sh.interp.last_status(), 0);
}

TEST(Interpreter, EchoAsAProgramIsCoreutilsEcho) {
  Sh sh;
  sh.interp.submit_program({"/bin/echo", "a\\tb"});
  sh.interp.submit_program({"/usr/bin/echo", "-ne", "x\\ty\\n"});
  sh.interp.submit_program({"echo", "-n", "-E", "-x", "z\\n"});
  sh.run("");
  EXPECT_EQ(sh.out, "a\\tb\nx\ty\n-x z\\n");
}

TEST(Interpreter, ShellProgramsRunTheirScript) {
  Sh sh;
  sh.interp.submit_program({"sh", "-c", "echo out; echo err >&2; exit 3"});
  auto step = sh.run("");
  EXPECT_EQ(step.state, State::exited);
  EXPECT_EQ(sh.out, "out\n");
  EXPECT_EQ(sh.err, "err\n");
  EXPECT_EQ(sh.interp.exit_status(), 3);

  Sh bash;
  bash.interp.submit_program({"/bin/bash", "-ec", "echo $((6*7)) $0 $1 $# \"$@\" $(echo $2)", "zero", "a", "b"});
  bash.run("");
  EXPECT_EQ(bash.out, "42 zero a 2 a b b\n");

  Sh missing;
  missing.interp.submit_program({"sh", "-c"});
  EXPECT_EQ(missing.run("").state, State::exited);
  EXPECT_EQ(missing.err, "sh: 0: -c requires an argument\n");
  EXPECT_EQ(missing.interp.exit_status(), 2);

  Sh file;
  file.interp.submit_program({"dash", "script.sh"});
  EXPECT_EQ(file.run("").state, State::exited);
  EXPECT_EQ(file.err, "sh: 0: cannot open script.sh: No such file\n");

  Sh bare;  // reads its script from stdin, which is empty
  bare.interp.submit_program({"sh"});
  EXPECT_EQ(bare.run("").state, State::idle);
  EXPECT_EQ(bare.out + bare.err, "");
}

TEST(Interpreter, ProgramsAreTheExecutablesOfARealSystem) {
  for (const char* name : {"echo", "/bin/echo", "/usr/bin/seq", "sleep", "cat", "sh", "/bin/sh",
                           "bash", "env", "true", "printf", "id", "uname"}) {
    EXPECT_TRUE(Interpreter::is_program(name)) << name;
  }
  for (const char* name : {"exit", "cd", "export", "unset", ":", "nosuch", "/opt/echo", "bin/echo",
                           "./echo", "", "/bin/"}) {
    EXPECT_FALSE(Interpreter::is_program(name)) << name;
  }
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
