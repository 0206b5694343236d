// How NonInteractiveCommands' commands become argv (Go's shlex rules) and how a start that
// failed is worded (Go's os/exec texts).
#include <gtest/gtest.h>

#include <cerrno>
#include <string>
#include <vector>

#include "mocksvc/agent/command_line.hpp"

namespace mocksvc::agent {
namespace {

using Words = std::vector<std::string>;

struct SplitCase {
  std::string input;
  Words words;
};

// Each row follows shlex's documented rules: blanks separate, quotes group and join, backslash
// escapes, '#' at a word's start comments, nothing else is special.
TEST(Shlex, SplitsAsGoShlexDoes) {
  const SplitCase cases[] = {
      {"", {}},
      {" \t\r\n ", {}},
      {"one two  three", {"one", "two", "three"}},
      {"one \"two three\" four", {"one", "two three", "four"}},
      {"echo out; echo err >&2; exit 3", {"echo", "out;", "echo", "err", ">&2;", "exit", "3"}},
      {"sh -c 'echo out; echo err >&2; exit 3'", {"sh", "-c", "echo out; echo err >&2; exit 3"}},
      {"a && b || c | d > e < f & g", {"a", "&&", "b", "||", "c", "|", "d", ">", "e", "<", "f", "&", "g"}},
      {"$HOME ${X} $(id) `id` ~ *.txt", {"$HOME", "${X}", "$(id)", "`id`", "~", "*.txt"}},
      {"a'b c'd", {"ab cd"}},
      {"x\"y z\"'w'v", {"xy zwv"}},
      {"\"a\\\"b\"", {"a\"b"}},
      {"\"a\\b\\\\c\\$d\"", {"ab\\c$d"}},  // in "...", a backslash escapes any character
      {"'a\\b' 'c\"d'", {"a\\b", "c\"d"}},
      {"'it'\\''s'", {"it's"}},
      {"a\\ b \\'c\\\" \\#d \\\\", {"a b", "'c\"", "#d", "\\"}},
      {"'' \"\" a''b", {"", "", "ab"}},
      {"x # a comment 'with quotes", {"x"}},
      {"x#y 'a#b' \"#c\"", {"x#y", "a#b", "#c"}},
      {"# only a comment", {}},
      {"a # first\nb # second\n  c", {"a", "b", "c"}},
      {"\"multi\nline\" 'tab\there'", {"multi\nline", "tab\there"}},
      {"a\\\nb", {"a\nb"}},  // no line continuation: the newline is kept
      {"a\vb\fc", {"a\vb\fc"}},  // only space, tab, CR and LF separate
      {"h\xC3\xA9llo \"w\xC3\xB6rld\" \xE2\x82\xAC", {"h\xC3\xA9llo", "w\xC3\xB6rld", "\xE2\x82\xAC"}},
      {"a\xFF" "b \xC3", {"a\xEF\xBF\xBD" "b", "\xEF\xBF\xBD"}},  // invalid bytes read as U+FFFD
  };
  for (const auto& c : cases) {
    auto words = shlex_split(c.input);
    ASSERT_TRUE(words) << c.input;
    EXPECT_EQ(*words, c.words) << c.input;
  }
}

TEST(Shlex, UnterminatedQuotesAndTrailingEscapesAreErrors) {
  const std::pair<std::string, Error> cases[] = {
      {"echo 'abc", Error::unterminated_quote},
      {"echo \"abc", Error::unterminated_quote},
      {"a \"b 'c\" 'd", Error::unterminated_quote},
      {"echo abc\\", Error::trailing_escape},
      {"echo \"abc\\", Error::trailing_escape},
      {"\\", Error::trailing_escape},
  };
  for (const auto& [input, error] : cases) {
    auto words = shlex_split(input);
    ASSERT_FALSE(words) << input;
    EXPECT_EQ(words.error(), make_error_code(error)) << input;
  }
  EXPECT_EQ(make_error_code(Error::unterminated_quote).message(), "EOF found when expecting closing quote");
  EXPECT_EQ(make_error_code(Error::trailing_escape).message(), "EOF found after escape character");
}

TEST(CommandLine, BlankCommandsRunPlainSh) {
  for (const char* blank : {"", "   ", "\t\r\n", "\xC2\xA0", " \xE2\x80\x83 "}) {
    auto argv = command_argv(blank);
    ASSERT_TRUE(argv);
    EXPECT_EQ(*argv, Words{"sh"});
  }
  auto comment = command_argv("# nothing to run");
  ASSERT_TRUE(comment);
  EXPECT_TRUE(comment->empty());
  auto words = command_argv("  ls -l  ");
  ASSERT_TRUE(words);
  EXPECT_EQ(*words, (Words{"ls", "-l"}));
}

TEST(CommandLine, ParseFailureIsWrappedTwiceAsTheAgentWrapsIt) {
  auto argv = command_argv("echo 'open");
  ASSERT_FALSE(argv);
  EXPECT_EQ(parse_failure_text(argv.error()),
            "Unable to start command: Failed to parse commands input: EOF found when expecting "
            "closing quote\n\n");
}

TEST(CommandLine, StartFailuresReadAsGoExecErrors) {
  using Kind = StartFailure::Kind;
  EXPECT_EQ((StartFailure{Kind::no_command, "", 0}).text(), "exec: no command");
  EXPECT_EQ((StartFailure{Kind::not_found, "nosuch", 0}).text(),
            "exec: \"nosuch\": executable file not found in $PATH");
  EXPECT_EQ((StartFailure{Kind::relative_path, "prog", 0}).text(),
            "exec: \"prog\": cannot run executable found relative to current directory");
  EXPECT_EQ((StartFailure{Kind::exec_failed, "/opt/x", ENOENT}).text(),
            "fork/exec /opt/x: no such file or directory");
  EXPECT_EQ((StartFailure{Kind::exec_failed, "/etc/passwd", EACCES}).text(),
            "fork/exec /etc/passwd: permission denied");
  EXPECT_EQ((StartFailure{Kind::exec_failed, "./script", ENOEXEC}).text(),
            "fork/exec ./script: exec format error");
}

TEST(CommandLine, GoQuoteEscapesLikeStrconvQuote) {
  EXPECT_EQ(go_quote("plain"), "\"plain\"");
  EXPECT_EQ(go_quote("a\"b\\c"), "\"a\\\"b\\\\c\"");
  EXPECT_EQ(go_quote("t\tn\nr\r\x01\x7f"), "\"t\\tn\\nr\\r\\x01\\x7f\"");
  EXPECT_EQ(go_quote("h\xC3\xA9" "\xFF"), "\"h\xC3\xA9\\xff\"");
  EXPECT_EQ(go_quote(""), "\"\"");
}

}  // namespace
}  // namespace mocksvc::agent
