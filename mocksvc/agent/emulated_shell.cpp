#include "mocksvc/agent/emulated_shell.hpp"

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <charconv>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <initializer_list>
#include <limits>
#include <utility>

namespace mocksvc::agent {
namespace {

// The pid $$ reports: fixed so transcripts stay deterministic.
constexpr std::string_view kFakePid = "4242";
constexpr std::string_view kKernelRelease = "6.1.0-mock";
constexpr std::string_view kKernelVersion = "#1 SMP PREEMPT_DYNAMIC";
// $(...) nesting and captured output are bounded so a hostile line cannot exhaust memory.
constexpr int kMaxSubstitutionDepth = 8;
constexpr std::size_t kMaxCapture = 1 << 20;
// Nesting of parentheses and unary operators within one $((...)); the message for going deeper
// is ours (dash has no limit).
constexpr int kMaxArithmeticNesting = 256;
// GNU coreutils quote operands with U+2018/U+2019 under LANG=C.UTF-8.
constexpr std::string_view kLq = "\xE2\x80\x98";
constexpr std::string_view kRq = "\xE2\x80\x99";
constexpr int kSigInt = 2;
constexpr int kSigQuit = 3;

bool is_name_start(char c) { return std::isalpha(static_cast<unsigned char>(c)) || c == '_'; }
bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_blank(char c) { return c == ' ' || c == '\t'; }

std::optional<std::int64_t> parse_int(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  std::int64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || p != s.data() + s.size() || s.empty()) return std::nullopt;
  return v;
}

std::string trim(std::string_view s) {
  while (!s.empty() && is_blank(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_blank(s.back())) s.remove_suffix(1);
  return std::string(s);
}

// Backslash escapes shared by dash's echo, printf formats and printf %b. Returns false when \c
// asks to stop all further output.
bool expand_escapes(std::string_view s, std::string& out, bool octal_needs_zero) {
  for (std::size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '\\' || i + 1 >= s.size()) {
      out += c;
      continue;
    }
    char e = s[++i];
    switch (e) {
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'c': return false;
      case 'e': out += '\x1b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case '\'': out += '\''; break;
      default:
        if (e >= '0' && e <= '7' && (e == '0' || !octal_needs_zero)) {
          int v = 0;
          std::size_t digits = 0;
          std::size_t j = (octal_needs_zero && e == '0') ? i + 1 : i;
          while (j < s.size() && digits < 3 && s[j] >= '0' && s[j] <= '7') {
            v = v * 8 + (s[j] - '0');
            ++j;
            ++digits;
          }
          out += static_cast<char>(v & 0xff);
          i = j - 1;
        } else {
          out += '\\';
          out += e;
        }
    }
  }
  return true;
}

// The index of the ')' that closes the "$(" at text[i], npos if none (quotes inside are skipped).
std::size_t command_substitution_end(std::string_view text, std::size_t i) {
  int level = 0;
  char quote = 0;
  for (std::size_t j = i + 1; j < text.size(); ++j) {
    if (quote) {
      if (text[j] == quote) quote = 0;
      continue;
    }
    if (text[j] == '\'' || text[j] == '"') quote = text[j];
    else if (text[j] == '(') ++level;
    else if (text[j] == ')' && --level == 0) return j;
  }
  return std::string_view::npos;
}

// The index of the second ')' of the "))" that closes the "$((" at text[i], npos if none. As in
// dash's parser, parentheses inside pair up and a lone ')' at depth 0 is part of the expression.
std::size_t arithmetic_end(std::string_view text, std::size_t i) {
  int level = 0;
  for (std::size_t j = i + 3; j < text.size(); ++j) {
    if (text[j] == '(') {
      ++level;
    } else if (text[j] == ')') {
      if (level > 0) --level;
      else if (j + 1 < text.size() && text[j + 1] == ')') return j + 1;
    }
  }
  return std::string_view::npos;
}

// The end of the "$(...)" or "$((...))" starting at text[i]: the index of its last character.
std::size_t substitution_end(std::string_view text, std::size_t i) {
  if (i + 2 < text.size() && text[i + 2] == '(') {
    if (auto end = arithmetic_end(text, i); end != std::string_view::npos) return end;
  }
  return command_substitution_end(text, i);
}

// A variable's value as an arithmetic operand, as dash's atomax(value, 0) reads it: strtoimax
// with base 0 (0x.. hex, 0.. octal), surrounding blanks allowed, empty is 0, and anything else
// (trailing junk, out of range) is not a number.
std::optional<std::int64_t> shell_number(const std::string& value) {
  errno = 0;
  char* end = nullptr;
  const std::intmax_t v = std::strtoimax(value.c_str(), &end, 0);
  if (errno == ERANGE) return std::nullopt;
  while (*end && std::isspace(static_cast<unsigned char>(*end))) ++end;
  if (*end) return std::nullopt;
  return static_cast<std::int64_t>(v);
}

// One $((...)) expression, evaluated as dash does: 64-bit integers (wrapping where C would be
// undefined), C precedence and associativity for ! ~ + - * / % << >> < <= > >= == != & ^ | && ||
// ?: and the assignments = += -= *= /= %= <<= >>= &= ^= |=; operands skipped by && || ?: neither
// assign nor fail. Errors carry dash's text, e.g. arithmetic expression: division by zero: "1/0".
class ArithmeticEvaluator {
 public:
  using Lookup = std::function<std::optional<std::string>(const std::string&)>;
  using Assign = std::function<void(const std::string&, std::int64_t)>;

  ArithmeticEvaluator(std::string_view expr, Lookup lookup, Assign assign)
      : s_(expr), lookup_(std::move(lookup)), assign_(std::move(assign)) {}

  // The value, or nullopt with error() set.
  std::optional<std::int64_t> evaluate() {
    const std::int64_t v = assignment();
    if (error_.empty()) {
      skip_blanks();
      if (pos_ < s_.size()) fail("expecting EOF");
    }
    if (!error_.empty()) return std::nullopt;
    return v;
  }
  const std::string& error() const { return error_; }

 private:
  using U = std::uint64_t;
  static std::int64_t wrap(U v) { return static_cast<std::int64_t>(v); }

  void fail(std::string_view what) {
    if (error_.empty()) error_ = "arithmetic expression: " + std::string(what) + ": \"" + std::string(s_) + "\"";
  }
  bool failed() const { return !error_.empty(); }

  void skip_blanks() {
    while (pos_ < s_.size() && (is_blank(s_[pos_]) || s_[pos_] == '\n')) ++pos_;
  }
  // Takes `op` unless the character after it is in `not_before` (so "<" does not take "<=").
  bool take(std::string_view op, std::string_view not_before = "") {
    skip_blanks();
    if (s_.substr(pos_).substr(0, op.size()) != op) return false;
    const std::size_t after = pos_ + op.size();
    if (after < s_.size() && not_before.find(s_[after]) != std::string_view::npos) return false;
    pos_ = after;
    return true;
  }

  // a op b for the binary and compound-assignment operators (0 after a failure).
  std::int64_t apply(std::string_view op, std::int64_t a, std::int64_t b) {
    if (op == "*") return wrap(static_cast<U>(a) * static_cast<U>(b));
    if (op == "/" || op == "%") {
      if (b == 0) {
        if (noeval_ == 0) fail("division by zero");
        return 0;
      }
      if (b == -1) return op == "/" ? wrap(U{0} - static_cast<U>(a)) : 0;
      return op == "/" ? a / b : a % b;
    }
    if (op == "+") return wrap(static_cast<U>(a) + static_cast<U>(b));
    if (op == "-") return wrap(static_cast<U>(a) - static_cast<U>(b));
    if (op == "<<") return wrap(static_cast<U>(a) << (static_cast<U>(b) & 63));
    if (op == ">>") return a >> (static_cast<U>(b) & 63);
    if (op == "&") return a & b;
    if (op == "^") return a ^ b;
    if (op == "|") return a | b;
    return b;  // plain "="
  }

  // Bounds the recursion of nested parentheses and unary operators, which hostile input could
  // otherwise drive deep enough to exhaust the stack.
  class Nesting {
   public:
    explicit Nesting(ArithmeticEvaluator& e) : e_(e) {
      if (++e_.depth_ > kMaxArithmeticNesting) e_.fail("nested too deeply");
    }
    ~Nesting() { --e_.depth_; }
    Nesting(const Nesting&) = delete;
    Nesting& operator=(const Nesting&) = delete;

   private:
    ArithmeticEvaluator& e_;
  };

  std::int64_t assignment() {
    Nesting nesting(*this);
    if (failed()) return 0;
    skip_blanks();
    const std::size_t start = pos_;
    if (pos_ < s_.size() && is_name_start(s_[pos_])) {
      std::size_t j = pos_;
      while (j < s_.size() && is_name_char(s_[j])) ++j;
      const std::string name(s_.substr(pos_, j - pos_));
      pos_ = j;
      static constexpr std::string_view kOps[] = {"<<=", ">>=", "+=", "-=", "*=", "/=",
                                                  "%=",  "&=",  "^=", "|=", "="};
      for (std::string_view op : kOps) {
        if (!take(op, op == "=" ? "=" : "")) continue;
        const std::int64_t rhs = assignment();
        if (failed()) return 0;
        std::int64_t v = rhs;
        if (op != "=") {
          const std::int64_t cur = variable(name);
          v = apply(op.substr(0, op.size() - 1), cur, rhs);
        }
        if (failed()) return 0;
        if (noeval_ == 0) assign_(name, v);
        return v;
      }
      pos_ = start;
    }
    return conditional();
  }

  std::int64_t conditional() {
    const std::int64_t c = logical_or();
    if (failed() || !take("?")) return c;
    if (c == 0) ++noeval_;
    const std::int64_t then_value = assignment();
    if (c == 0) --noeval_;
    if (failed()) return 0;
    if (!take(":")) {
      fail("expecting ':'");
      return 0;
    }
    if (c != 0) ++noeval_;
    const std::int64_t else_value = conditional();
    if (c != 0) --noeval_;
    return c != 0 ? then_value : else_value;
  }

  std::int64_t logical_or() {
    std::int64_t v = logical_and();
    while (!failed() && take("||")) {
      if (v != 0) ++noeval_;
      const std::int64_t rhs = logical_and();
      if (v != 0) --noeval_;
      v = (v != 0 || rhs != 0) ? 1 : 0;
    }
    return v;
  }

  std::int64_t logical_and() {
    std::int64_t v = bit_or();
    while (!failed() && take("&&")) {
      if (v == 0) ++noeval_;
      const std::int64_t rhs = bit_or();
      if (v == 0) --noeval_;
      v = (v != 0 && rhs != 0) ? 1 : 0;
    }
    return v;
  }

  std::int64_t bit_or() {
    std::int64_t v = bit_xor();
    while (!failed() && take("|", "|=")) v |= bit_xor();
    return v;
  }
  std::int64_t bit_xor() {
    std::int64_t v = bit_and();
    while (!failed() && take("^", "=")) v ^= bit_and();
    return v;
  }
  std::int64_t bit_and() {
    std::int64_t v = equality();
    while (!failed() && take("&", "&=")) v &= equality();
    return v;
  }

  std::int64_t equality() {
    std::int64_t v = relational();
    for (;;) {
      if (failed()) return 0;
      if (take("==")) v = v == relational() ? 1 : 0;
      else if (take("!=")) v = v != relational() ? 1 : 0;
      else return v;
    }
  }

  std::int64_t relational() {
    std::int64_t v = shift();
    for (;;) {
      if (failed()) return 0;
      if (take("<=")) v = v <= shift() ? 1 : 0;
      else if (take(">=")) v = v >= shift() ? 1 : 0;
      else if (take("<", "<")) v = v < shift() ? 1 : 0;
      else if (take(">", ">")) v = v > shift() ? 1 : 0;
      else return v;
    }
  }

  // One left-associative level of binary operators over `next`.
  template <typename Next>
  std::int64_t binary_level(std::initializer_list<std::string_view> ops, Next next) {
    std::int64_t v = next();
    for (;;) {
      if (failed()) return 0;
      bool matched = false;
      for (std::string_view op : ops) {
        if (!take(op, "=")) continue;
        const std::int64_t rhs = next();
        if (failed()) return 0;
        v = apply(op, v, rhs);
        matched = true;
        break;
      }
      if (!matched) return v;
    }
  }

  std::int64_t shift() { return binary_level({"<<", ">>"}, [this] { return additive(); }); }
  std::int64_t additive() { return binary_level({"+", "-"}, [this] { return multiplicative(); }); }
  std::int64_t multiplicative() { return binary_level({"*", "/", "%"}, [this] { return unary(); }); }

  std::int64_t unary() {
    Nesting nesting(*this);
    if (failed()) return 0;
    if (take("!")) return unary() == 0 ? 1 : 0;
    if (take("~")) return ~unary();
    if (take("+")) return unary();
    if (take("-")) return wrap(U{0} - static_cast<U>(unary()));
    return primary();
  }

  std::int64_t primary() {
    skip_blanks();
    if (pos_ >= s_.size()) {
      fail("expecting primary");
      return 0;
    }
    const char c = s_[pos_];
    if (c == '(') {
      ++pos_;
      const std::int64_t v = assignment();
      if (!failed() && !take(")")) fail("expecting ')'");
      return v;
    }
    if (std::isdigit(static_cast<unsigned char>(c))) {
      // strtoimax with base 0, saturating as dash's lexer does: "08" reads as 0, then "8".
      const std::string rest(s_.substr(pos_));
      char* end = nullptr;
      const std::intmax_t v = std::strtoimax(rest.c_str(), &end, 0);
      pos_ += static_cast<std::size_t>(end - rest.c_str());
      return static_cast<std::int64_t>(v);
    }
    if (is_name_start(c)) {
      std::size_t j = pos_;
      while (j < s_.size() && is_name_char(s_[j])) ++j;
      const std::string name(s_.substr(pos_, j - pos_));
      pos_ = j;
      return variable(name);
    }
    fail("expecting primary");
    return 0;
  }

  std::int64_t variable(const std::string& name) {
    auto value = lookup_(name);
    if (!value) return 0;
    auto v = shell_number(*value);
    if (!v) {
      if (noeval_ == 0 && error_.empty()) error_ = "Illegal number: " + *value;
      return 0;
    }
    return *v;
  }

  std::string_view s_;
  Lookup lookup_;
  Assign assign_;
  std::size_t pos_ = 0;
  int noeval_ = 0;
  int depth_ = 0;
  std::string error_;
};

}  // namespace

ShellIdentity make_shell_identity(std::string hostname, std::string user) {
  ShellIdentity id;
  id.hostname = std::move(hostname);
  id.user = std::move(user);
  if (id.user == "root") {
    id.uid = 0;
    id.gid = 0;
    id.home = "/root";
  } else {
    id.home = "/home/" + id.user;
  }
  return id;
}

// ---------------------------------------------------------------------------------------------
// Interpreter

Interpreter::Interpreter(ShellIdentity identity, bool interactive, Writer out, Writer err)
    : id_(std::move(identity)), interactive_(interactive), out_(std::move(out)), err_(std::move(err)) {
  vars_["HOME"] = id_.home;
  vars_["USER"] = id_.user;
  vars_["LOGNAME"] = id_.user;
  vars_["PWD"] = id_.cwd;
  vars_["SHELL"] = "/bin/sh";
  vars_["PATH"] = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  vars_["TERM"] = "xterm-256color";
  vars_["LANG"] = "C.UTF-8";
}

void Interpreter::submit(std::string_view text) {
  if (text.empty()) {
    lines_.emplace_back();  // an empty line still counts for $LINENO-style numbering
    return;
  }
  while (!text.empty()) {
    auto nl = text.find('\n');
    lines_.emplace_back(text.substr(0, nl));
    if (nl == std::string_view::npos) break;
    text.remove_prefix(nl + 1);
  }
}

namespace {

// The commands run_builtin knows that are programs on a real system, and where those live.
constexpr std::string_view kPrograms[] = {"echo",  "printf", "seq",  "sleep", "cat", "hostname",
                                          "whoami", "id",    "pwd",  "uname", "tty", "stty",
                                          "env",   "true",   "false", "sh",   "bash", "dash"};
constexpr std::string_view kBinDirs[] = {"/bin/", "/usr/bin/", "/sbin/", "/usr/sbin/", "/usr/local/bin/"};

// The program a name or path runs ("echo" for "/usr/bin/echo"), empty if none.
std::string_view program_name(std::string_view name) {
  for (std::string_view dir : kBinDirs) {
    if (name.starts_with(dir)) {
      name.remove_prefix(dir.size());
      break;
    }
  }
  for (std::string_view p : kPrograms) {
    if (name == p) return p;
  }
  return {};
}

}  // namespace

bool Interpreter::is_program(std::string_view name) { return !program_name(name).empty(); }

void Interpreter::submit_program(std::vector<std::string> argv) {
  if (argv.empty()) return;
  const std::string_view name = program_name(argv[0]);
  if (name == "sh" || name == "bash" || name == "dash") {
    // Options come first; a cluster holding 'c' (-c, -ec) takes the first operand as the script.
    bool script = false;
    std::size_t k = 1;
    for (; k < argv.size() && argv[k].size() > 1 && argv[k][0] == '-'; ++k) {
      if (argv[k] == "--") {
        ++k;
        break;
      }
      if (argv[k][1] != '-' && argv[k].find('c') != std::string::npos) script = true;
    }
    if (script && k >= argv.size()) {
      write(Fd::err, "sh: 0: -c requires an argument\n");
      exit_shell(2);
    } else if (script) {
      // The words after the script are $0, $1, ...
      if (k + 1 < argv.size()) params_.assign(argv.begin() + static_cast<std::ptrdiff_t>(k) + 1, argv.end());
      submit(argv[k]);
    } else if (k < argv.size()) {
      write(Fd::err, "sh: 0: cannot open " + argv[k] + ": No such file\n");
      exit_shell(2);
    }
    // Otherwise the shell reads its script from stdin, which holds nothing here.
    return;
  }
  Segment seg;
  seg.program = std::move(argv);
  segments_.push_back(std::move(seg));
}

int Interpreter::run_program(std::vector<std::string> argv) {
  const std::string_view name = program_name(argv[0]);
  if (name.empty()) return 127;
  argv[0] = std::string(name);
  if (name == "echo") return cmd_echo_program(argv, Fd::out);
  return run_builtin(argv, Fd::out, Fd::err);
}

bool Interpreter::busy() const { return active_ != Active::none || !segments_.empty(); }

void Interpreter::write(Fd fd, std::string_view s) {
  if (s.empty()) return;
  produced_ += s.size();
  if (fd == Fd::out && out_) out_(s);
  else if (fd == Fd::err && err_) err_(s);
}

void Interpreter::error(Fd fd2, std::string_view text) {
  write(fd2, "sh: " + std::to_string(line_no_) + ": " + std::string(text) + "\n");
}

Interpreter::Step Interpreter::run(std::size_t budget) {
  budget_ = budget;
  produced_ = 0;
  for (;;) {
    if (exited_) return {State::exited, {}};
    switch (active_) {
      case Active::seq:
        if (!continue_seq()) return {State::running, {}};
        active_ = Active::none;
        last_status_ = 0;
        break;
      case Active::sleep:
        return {State::sleeping, sleep_for_, sleep_id_};
      case Active::cat:
        if (!stdin_buf_.empty()) {
          std::string data;
          data.swap(stdin_buf_);
          write(active_fd_, data);
        }
        if (!stdin_eof_) return {State::reading_stdin, {}};
        // A terminal's ^D is one EOF; a closed pipe stays closed.
        if (interactive_) stdin_eof_ = false;
        active_ = Active::none;
        last_status_ = 0;
        break;
      case Active::none:
        break;
    }
    if (!segments_.empty()) {
      exec_next_segment();
      continue;
    }
    if (!lines_.empty()) {
      std::string line = std::move(lines_.front());
      lines_.pop_front();
      start_line(line);
      continue;
    }
    return {State::idle, {}};
  }
}

void Interpreter::wake(std::uint64_t sleep_id) {
  if (active_ != Active::sleep || (sleep_id != 0 && sleep_id != sleep_id_)) return;
  active_ = Active::none;
  last_status_ = 0;
}

void Interpreter::stdin_data(std::string_view data) { stdin_buf_.append(data); }
void Interpreter::stdin_eof() { stdin_eof_ = true; }

void Interpreter::interrupt(int signo) {
  if (!interactive_) {
    exited_ = true;
    exit_status_ = 128 + signo;
    terminating_signal_ = signo;
    active_ = Active::none;
    segments_.clear();
    lines_.clear();
    return;
  }
  if (!busy()) return;
  active_ = Active::none;
  segments_.clear();
  lines_.clear();
  stdin_buf_.clear();
  last_status_ = 128 + signo;
}

void Interpreter::exit_shell(int status) {
  exited_ = true;
  exit_status_ = status;
  active_ = Active::none;
  segments_.clear();
}

void Interpreter::set_window_size(unsigned rows, unsigned cols) {
  rows_ = rows;
  cols_ = cols;
}

// Splits one line into `;` / `&&` / `||` separated segments, respecting quotes and comments.
void Interpreter::start_line(const std::string& line) {
  ++line_no_;
  std::vector<Segment> segs;
  std::string cur;
  Link link = Link::always;
  bool in_single = false;
  bool in_double = false;
  auto push = [&](Link next) -> bool {
    std::string t = trim(cur);
    cur.clear();
    if (t.empty()) {
      if (link != Link::always || next != Link::always) return false;
    } else {
      segs.push_back(Segment{std::move(t), link, {}});
    }
    link = next;
    return true;
  };
  std::string syntax;
  for (std::size_t i = 0; i < line.size() && syntax.empty(); ++i) {
    const char c = line[i];
    if (in_single) {
      cur += c;
      if (c == '\'') in_single = false;
      continue;
    }
    if (in_double) {
      cur += c;
      if (c == '\\' && i + 1 < line.size()) cur += line[++i];
      else if (c == '"') in_double = false;
      continue;
    }
    switch (c) {
      case '\\':
        cur += c;
        if (i + 1 < line.size()) cur += line[++i];
        break;
      case '\'': in_single = true; cur += c; break;
      case '"': in_double = true; cur += c; break;
      case '$':
      case '`': {
        // A substitution is one piece of the word: its ; && || ( ) belong to it.
        std::size_t end = std::string::npos;
        if (c == '`') end = line.find('`', i + 1);
        else if (i + 1 < line.size() && line[i + 1] == '(') end = substitution_end(line, i);
        else end = i;
        if (end == std::string::npos) end = line.size() - 1;
        cur.append(line, i, end - i + 1);
        i = end;
        break;
      }
      case '#':
        if (cur.empty() || is_blank(cur.back())) i = line.size();
        else cur += c;
        break;
      case ';':
        if (!push(Link::always)) syntax = "Syntax error: \";\" unexpected";
        break;
      case '&':
        if (!cur.empty() && (cur.back() == '>' || cur.back() == '<')) {
          cur += c;  // part of a redirection such as 2>&1
        } else if (i + 1 < line.size() && line[i + 1] == '&') {
          ++i;
          if (!push(Link::and_then)) syntax = "Syntax error: \"&&\" unexpected";
        } else if (!push(Link::always)) {
          syntax = "Syntax error: \"&\" unexpected";
        }
        break;
      case '|':
        if (i + 1 < line.size() && line[i + 1] == '|') {
          ++i;
          if (!push(Link::or_else)) syntax = "Syntax error: \"||\" unexpected";
        } else {
          syntax = "pipelines are not supported by this emulated shell";
        }
        break;
      default:
        cur += c;
    }
  }
  if (syntax.empty() && (in_single || in_double)) syntax = "Syntax error: Unterminated quoted string";
  if (syntax.empty() && link != Link::always && trim(cur).empty()) {
    syntax = "Syntax error: end of file unexpected";
  }
  if (syntax.empty()) push(Link::always);
  if (!syntax.empty()) {
    error(Fd::err, syntax);
    last_status_ = 2;
    if (!interactive_) exit_shell(2);
    return;
  }
  segments_.assign(segs.begin(), segs.end());
}

void Interpreter::exec_next_segment() {
  Segment seg = std::move(segments_.front());
  segments_.pop_front();
  if (!seg.program.empty()) {
    last_status_ = run_program(std::move(seg.program));
    return;
  }
  if (seg.link == Link::and_then && last_status_ != 0) return;
  if (seg.link == Link::or_else && last_status_ == 0) return;
  Expanded e = expand(seg.text, 0);
  if (!e.ok) {
    last_status_ = 2;
    segments_.clear();
    if (!interactive_) exit_shell(2);
    return;
  }
  if (e.argv.empty()) {
    last_status_ = 0;
    return;
  }
  // NAME=value words before the command set variables (kept for the shell, which dash does only
  // for assignments without a command; harmless here).
  std::size_t first = 0;
  while (first < e.argv.size()) {
    const std::string& w = e.argv[first];
    auto eq = w.find('=');
    if (eq == std::string::npos || eq == 0 || !is_name_start(w[0]) ||
        !std::all_of(w.begin(), w.begin() + static_cast<std::ptrdiff_t>(eq), is_name_char)) {
      break;
    }
    vars_[w.substr(0, eq)] = w.substr(eq + 1);
    ++first;
  }
  if (first == e.argv.size()) {
    last_status_ = 0;
    return;
  }
  std::vector<std::string> argv(e.argv.begin() + static_cast<std::ptrdiff_t>(first), e.argv.end());
  last_status_ = run_builtin(argv, e.fd1, e.fd2);
}

// Word expansion: quotes, backslashes, parameters and command substitution, field splitting of
// unquoted expansions, and fd 1/2 redirections.
Interpreter::Expanded Interpreter::expand(std::string_view text, int depth) {
  Expanded e;
  std::string word;
  bool have_word = false;
  auto finish_word = [&] {
    if (have_word) e.argv.push_back(std::move(word));
    word.clear();
    have_word = false;
  };
  auto append_split = [&](std::string_view v) {
    for (char ch : v) {
      if (is_blank(ch) || ch == '\n') {
        finish_word();
      } else {
        word += ch;
        have_word = true;
      }
    }
  };
  // Expansion errors go to the shell's stderr: redirections apply only once expansion succeeded.
  auto failed_expansion = [&] {
    error(Fd::err, expansion_error_);
    expansion_error_.clear();
    e.ok = false;
    return e;
  };
  const std::size_t n = text.size();
  for (std::size_t i = 0; i < n; ++i) {
    const char c = text[i];
    if (is_blank(c)) {
      finish_word();
      continue;
    }
    if (c == '\'') {
      auto close = text.find('\'', i + 1);
      if (close == std::string_view::npos) close = n;
      word.append(text.substr(i + 1, close - i - 1));
      have_word = true;
      i = close;
      continue;
    }
    if (c == '"') {
      have_word = true;
      ++i;
      for (; i < n && text[i] != '"'; ++i) {
        if (text[i] == '\\' && i + 1 < n &&
            (text[i + 1] == '$' || text[i + 1] == '`' || text[i + 1] == '"' || text[i + 1] == '\\')) {
          word += text[++i];
        } else if (text[i] == '$' || text[i] == '`') {
          word += expand_dollar(text, i, depth);
          if (!expansion_error_.empty()) break;
        } else {
          word += text[i];
        }
      }
      if (!expansion_error_.empty()) return failed_expansion();
      continue;
    }
    if (c == '\\') {
      if (i + 1 < n) word += text[++i];
      have_word = true;
      continue;
    }
    if (c == '$' || c == '`') {
      append_split(expand_dollar(text, i, depth));
      if (!expansion_error_.empty()) return failed_expansion();
      continue;
    }
    // Redirections: [n]>target, [n]>>target, [n]>&m, <target (input is ignored).
    const bool digit_redirect = !have_word && (c == '1' || c == '2') && i + 1 < n && text[i + 1] == '>';
    if (c == '>' || c == '<' || digit_redirect) {
      finish_word();
      int fd = c == '<' ? 0 : 1;
      if (digit_redirect) {
        fd = c - '0';
        ++i;
      }
      ++i;  // past '>' or '<'
      if (i < n && text[i] == '>') ++i;
      std::optional<Fd> target;
      if (i < n && text[i] == '&') {
        ++i;
        if (i < n && text[i] == '1') target = e.fd1;
        else if (i < n && text[i] == '2') target = e.fd2;
        else if (i < n && text[i] == '-') target = Fd::null;
        else {
          error(e.fd2, "Syntax error: Bad fd number");
          e.ok = false;
          return e;
        }
      } else {
        while (i < n && is_blank(text[i])) ++i;
        std::size_t start = i;
        while (i < n && !is_blank(text[i])) ++i;
        if (start == i) {
          error(e.fd2, "Syntax error: newline unexpected");
          e.ok = false;
          return e;
        }
        // There is no file system: every file target swallows the output.
        target = Fd::null;
        --i;
      }
      if (fd == 1) e.fd1 = *target;
      else if (fd == 2) e.fd2 = *target;
      continue;
    }
    word += c;
    have_word = true;
  }
  finish_word();
  return e;
}

// Expands the parameter or substitution starting at text[i] ('$' or '`'); leaves i on its last
// character.
std::string Interpreter::expand_dollar(std::string_view text, std::size_t& i, int depth) {
  const std::size_t n = text.size();
  if (text[i] == '`') {
    auto close = text.find('`', i + 1);
    if (close == std::string_view::npos) close = n;
    std::string_view cmd = text.substr(i + 1, close - i - 1);
    i = close;
    return capture(cmd, depth + 1);
  }
  if (i + 1 >= n) return "$";
  const char c = text[i + 1];
  if (c == '?') {
    ++i;
    return std::to_string(last_status_);
  }
  if (c == '$') {
    ++i;
    return std::string(kFakePid);
  }
  if (c == '#') {
    ++i;
    return std::to_string(params_.size() - 1);
  }
  if (std::isdigit(static_cast<unsigned char>(c))) {
    ++i;
    const auto k = static_cast<std::size_t>(c - '0');
    return k < params_.size() ? params_[k] : std::string{};
  }
  if (c == '@' || c == '*') {
    ++i;
    std::string all;
    for (std::size_t k = 1; k < params_.size(); ++k) all += (k > 1 ? " " : "") + params_[k];
    return all;
  }
  if (c == '(' && i + 2 < n && text[i + 2] == '(') {
    const std::size_t end = arithmetic_end(text, i);
    if (end == std::string_view::npos) {
      fail_expansion("Syntax error: Missing '))'");
      i = n - 1;
      return {};
    }
    std::string_view body = text.substr(i + 3, end - 1 - (i + 3));
    i = end;
    return arithmetic(body, depth);
  }
  if (c == '(') {
    const std::size_t j = std::min(command_substitution_end(text, i), n);
    std::string_view cmd = text.substr(i + 2, j - i - 2);
    i = j < n ? j : n - 1;
    return capture(cmd, depth + 1);
  }
  if (c == '{') {
    auto close = text.find('}', i + 2);
    if (close == std::string_view::npos) {
      i = n - 1;
      return {};
    }
    std::string inner(text.substr(i + 2, close - i - 2));
    i = close;
    std::string fallback;
    bool has_fallback = false;
    if (auto p = inner.find(":-"); p != std::string::npos) {
      fallback = inner.substr(p + 2);
      inner.resize(p);
      has_fallback = true;
    }
    if (inner == "?") return std::to_string(last_status_);
    auto it = vars_.find(inner);
    if (it == vars_.end() || (has_fallback && it->second.empty())) return fallback;
    return it->second;
  }
  if (is_name_start(c)) {
    std::size_t j = i + 1;
    while (j < n && is_name_char(text[j])) ++j;
    std::string name(text.substr(i + 1, j - i - 1));
    i = j - 1;
    auto it = vars_.find(name);
    return it == vars_.end() ? std::string{} : it->second;
  }
  return "$";
}

// $((body)): parameters and substitutions in the body are expanded first, then the text is
// evaluated (dash quotes that text in its error messages).
std::string Interpreter::arithmetic(std::string_view body, int depth) {
  if (depth > kMaxSubstitutionDepth) return {};
  std::string expr;
  for (std::size_t k = 0; k < body.size(); ++k) {
    if (body[k] == '$' || body[k] == '`') {
      expr += expand_dollar(body, k, depth + 1);
      if (!expansion_error_.empty()) return {};
    } else {
      expr += body[k];
    }
  }
  ArithmeticEvaluator eval(
      expr,
      [this](const std::string& name) -> std::optional<std::string> {
        auto it = vars_.find(name);
        if (it == vars_.end()) return std::nullopt;
        return it->second;
      },
      [this](const std::string& name, std::int64_t v) { vars_[name] = std::to_string(v); });
  const auto value = eval.evaluate();
  if (!value) {
    fail_expansion(eval.error());
    return {};
  }
  return std::to_string(*value);
}

void Interpreter::fail_expansion(std::string message) {
  if (expansion_error_.empty()) expansion_error_ = std::move(message);
}

// Command substitution for instant commands: sleeps do not wait and stdin is empty.
std::string Interpreter::capture(std::string_view command, int depth) {
  if (depth > kMaxSubstitutionDepth) return {};
  std::string captured;
  Interpreter sub(id_, false, [&captured](std::string_view s) {
    if (captured.size() < kMaxCapture) captured.append(s.substr(0, kMaxCapture - captured.size()));
  }, err_);
  sub.vars_ = vars_;
  sub.params_ = params_;
  sub.last_status_ = last_status_;
  sub.line_no_ = line_no_ - 1;
  sub.rows_ = rows_;
  sub.cols_ = cols_;
  sub.submit(command);
  for (;;) {
    auto step = sub.run(kDefaultBudget);
    if (step.state == State::sleeping) sub.wake(step.sleep_id);
    else if (step.state == State::reading_stdin) sub.stdin_eof();
    else if (step.state == State::running && captured.size() < kMaxCapture) continue;
    else break;
  }
  while (!captured.empty() && captured.back() == '\n') captured.pop_back();
  return captured;
}

int Interpreter::run_builtin(const std::vector<std::string>& argv, Fd fd1, Fd fd2) {
  const std::string& cmd = argv[0];
  if (cmd == "echo") return cmd_echo(argv, fd1);
  if (cmd == "printf") return cmd_printf(argv, fd1, fd2);
  if (cmd == "true" || cmd == ":") return 0;
  if (cmd == "false") return 1;
  if (cmd == "hostname") {
    write(fd1, id_.hostname + "\n");
    return 0;
  }
  if (cmd == "whoami") {
    write(fd1, id_.user + "\n");
    return 0;
  }
  if (cmd == "pwd") {
    write(fd1, id_.cwd + "\n");
    return 0;
  }
  if (cmd == "id") return cmd_id(argv, fd1, fd2);
  if (cmd == "uname") return cmd_uname(argv, fd1, fd2);
  if (cmd == "cd") return cmd_cd(argv);
  if (cmd == "exit") return cmd_exit(argv, fd2);
  if (cmd == "seq") return cmd_seq(argv, fd1, fd2);
  if (cmd == "sleep") return cmd_sleep(argv, fd2);
  if (cmd == "cat") return cmd_cat(argv, fd1, fd2);
  if (cmd == "tty") {
    if (interactive_) {
      write(fd1, "/dev/pts/0\n");
      return 0;
    }
    write(fd1, "not a tty\n");
    return 1;
  }
  if (cmd == "stty") {
    if (argv.size() >= 2 && argv[1] == "size") {
      if (!interactive_) {
        write(fd2, "stty: 'standard input': Inappropriate ioctl for device\n");
        return 1;
      }
      write(fd1, std::to_string(rows_) + " " + std::to_string(cols_) + "\n");
    }
    return 0;
  }
  if (cmd == "env" || (cmd == "export" && argv.size() == 1)) {
    std::string all;
    for (const auto& [k, v] : vars_) all += (cmd == "export" ? "export " : "") + k + "=" + v + "\n";
    write(fd1, all);
    return 0;
  }
  if (cmd == "export") {
    for (std::size_t i = 1; i < argv.size(); ++i) {
      auto eq = argv[i].find('=');
      if (eq != std::string::npos) vars_[argv[i].substr(0, eq)] = argv[i].substr(eq + 1);
      else vars_.try_emplace(argv[i]);
    }
    return 0;
  }
  if (cmd == "unset") {
    for (std::size_t i = 1; i < argv.size(); ++i) vars_.erase(argv[i]);
    return 0;
  }
  error(fd2, cmd + ": not found");
  return 127;
}

int Interpreter::cmd_echo(const std::vector<std::string>& argv, Fd fd1) {
  std::size_t i = 1;
  bool newline = true;
  while (i < argv.size() && argv[i] == "-n") {
    newline = false;
    ++i;
  }
  std::string out;
  bool go_on = true;
  for (std::size_t k = i; k < argv.size() && go_on; ++k) {
    if (k > i) out += ' ';
    go_on = expand_escapes(argv[k], out, /*octal_needs_zero=*/true);
  }
  if (go_on && newline) out += '\n';
  write(fd1, out);
  return 0;
}

// GNU coreutils' echo: leading -n/-e/-E clusters are options; escapes only with -e.
int Interpreter::cmd_echo_program(const std::vector<std::string>& argv, Fd fd1) {
  bool newline = true;
  bool escapes = false;
  std::size_t i = 1;
  for (; i < argv.size(); ++i) {
    const std::string& a = argv[i];
    if (a.size() < 2 || a[0] != '-' || a.find_first_not_of("neE", 1) != std::string::npos) break;
    for (char f : std::string_view(a).substr(1)) {
      if (f == 'n') newline = false;
      else escapes = f == 'e';
    }
  }
  std::string out;
  bool go_on = true;
  for (std::size_t k = i; k < argv.size() && go_on; ++k) {
    if (k > i) out += ' ';
    if (escapes) go_on = expand_escapes(argv[k], out, /*octal_needs_zero=*/true);
    else out += argv[k];
  }
  if (go_on && newline) out += '\n';
  write(fd1, out);
  return 0;
}

int Interpreter::cmd_printf(const std::vector<std::string>& argv, Fd fd1, Fd fd2) {
  if (argv.size() < 2) {
    error(fd2, "printf: usage: printf format [arg ...]");
    return 2;
  }
  const std::string& fmt = argv[1];
  std::size_t next_arg = 2;
  int status = 0;
  std::string out;
  auto take = [&]() -> std::optional<std::string> {
    if (next_arg < argv.size()) return argv[next_arg++];
    return std::nullopt;
  };
  bool stop = false;
  do {
    const std::size_t consumed_before = next_arg;
    for (std::size_t i = 0; i < fmt.size() && !stop; ++i) {
      const char c = fmt[i];
      if (c == '\\') {
        std::size_t j = i + 1;
        std::string piece = "\\";
        if (j < fmt.size()) piece += fmt[j];
        // Octal escapes in formats take up to three digits after the backslash.
        if (j < fmt.size() && fmt[j] >= '0' && fmt[j] <= '7') {
          std::size_t k = j + 1;
          while (k < fmt.size() && k < j + 3 && fmt[k] >= '0' && fmt[k] <= '7') piece += fmt[k++];
          j = k - 1;
        }
        if (!expand_escapes(piece, out, false)) stop = true;
        i = j;
        continue;
      }
      if (c != '%') {
        out += c;
        continue;
      }
      std::size_t j = i + 1;
      std::string spec = "%";
      while (j < fmt.size() && std::string_view("-+ #0").find(fmt[j]) != std::string_view::npos) spec += fmt[j++];
      // Width and precision are capped at three digits so snprintf stays within its buffer.
      auto digits = [&] {
        std::size_t k = 0;
        while (j < fmt.size() && std::isdigit(static_cast<unsigned char>(fmt[j]))) {
          if (++k > 3) return false;
          spec += fmt[j++];
        }
        return true;
      };
      bool sane = digits();
      if (sane && j < fmt.size() && fmt[j] == '.') {
        spec += fmt[j++];
        sane = digits();
      }
      if (!sane) {
        error(fd2, "printf: " + spec + ": invalid directive");
        write(fd1, out);
        return 1;
      }
      if (j >= fmt.size()) {
        out += spec;
        break;
      }
      const char conv = fmt[j];
      i = j;
      char buf[512];
      switch (conv) {
        case '%': out += '%'; break;
        case 's': {
          std::string a = take().value_or("");
          std::snprintf(buf, sizeof buf, (spec + "s").c_str(), a.c_str());
          out += buf;
          break;
        }
        case 'b': {
          if (!expand_escapes(take().value_or(""), out, true)) stop = true;
          break;
        }
        case 'c': {
          std::string a = take().value_or("");
          if (!a.empty()) out += a[0];
          break;
        }
        case 'd': case 'i': case 'u': case 'x': case 'X': case 'o': {
          std::string a = take().value_or("0");
          std::int64_t v = 0;
          if (!a.empty() && (a[0] == '\'' || a[0] == '"')) {
            v = a.size() > 1 ? static_cast<unsigned char>(a[1]) : 0;
          } else if (auto p = parse_int(a)) {
            v = *p;
          } else {
            error(fd2, "printf: " + a + ": expected numeric value");
            status = 1;
          }
          std::snprintf(buf, sizeof buf, (spec + "ll" + conv).c_str(), static_cast<long long>(v));
          out += buf;
          break;
        }
        case 'f': case 'e': case 'g': case 'E': case 'G': {
          std::string a = take().value_or("0");
          char* end = nullptr;
          double v = std::strtod(a.c_str(), &end);
          if (end == a.c_str() || *end != '\0') {
            error(fd2, "printf: " + a + ": expected numeric value");
            status = 1;
            v = 0;
          }
          std::snprintf(buf, sizeof buf, (spec + conv).c_str(), v);
          out += buf;
          break;
        }
        default:
          error(fd2, std::string("printf: %") + conv + ": invalid directive");
          write(fd1, out);
          return 1;
      }
    }
    if (next_arg == consumed_before) break;
  } while (next_arg < argv.size() && !stop);
  write(fd1, out);
  return status;
}

int Interpreter::cmd_seq(const std::vector<std::string>& argv, Fd fd1, Fd fd2) {
  if (argv.size() < 2) {
    write(fd2, "seq: missing operand\nTry 'seq --help' for more information.\n");
    return 1;
  }
  if (argv.size() > 4) {
    write(fd2, "seq: extra operand " + std::string(kLq) + argv[4] + std::string(kRq) +
                   "\nTry 'seq --help' for more information.\n");
    return 1;
  }
  std::int64_t v[3] = {0, 0, 0};
  for (std::size_t k = 1; k < argv.size(); ++k) {
    auto p = parse_int(argv[k]);
    if (!p) {
      write(fd2, "seq: invalid floating point argument: " + std::string(kLq) + argv[k] +
                     std::string(kRq) + "\nTry 'seq --help' for more information.\n");
      return 1;
    }
    v[k - 1] = *p;
  }
  seq_next_ = 1;
  seq_step_ = 1;
  if (argv.size() == 2) {
    seq_last_ = v[0];
  } else if (argv.size() == 3) {
    seq_next_ = v[0];
    seq_last_ = v[1];
  } else {
    seq_next_ = v[0];
    seq_step_ = v[1];
    seq_last_ = v[2];
  }
  if (seq_step_ == 0) {
    write(fd2, "seq: invalid Zero increment value: " + std::string(kLq) + argv[2] + std::string(kRq) +
                   "\nTry 'seq --help' for more information.\n");
    return 1;
  }
  active_ = Active::seq;
  active_fd_ = fd1;
  return 0;
}

// Emits the next lines of a running seq; true when it has finished.
bool Interpreter::continue_seq() {
  std::string chunk;
  for (;;) {
    const bool done = seq_step_ > 0 ? seq_next_ > seq_last_ : seq_next_ < seq_last_;
    if (done) {
      write(active_fd_, chunk);
      return true;
    }
    chunk += std::to_string(seq_next_);
    chunk += '\n';
    if (seq_step_ > 0 && seq_next_ > std::numeric_limits<std::int64_t>::max() - seq_step_) {
      seq_next_ = seq_last_ + 1;  // would overflow: this was the last one
      seq_step_ = 1;
    } else if (seq_step_ < 0 && seq_next_ < std::numeric_limits<std::int64_t>::min() - seq_step_) {
      seq_next_ = seq_last_ - 1;
      seq_step_ = -1;
    } else {
      seq_next_ += seq_step_;
    }
    if (produced_ + chunk.size() >= budget_) {
      write(active_fd_, chunk);
      return false;
    }
  }
}

int Interpreter::cmd_sleep(const std::vector<std::string>& argv, Fd fd2) {
  if (argv.size() < 2) {
    write(fd2, "sleep: missing operand\nTry 'sleep --help' for more information.\n");
    return 1;
  }
  double total = 0;
  for (std::size_t k = 1; k < argv.size(); ++k) {
    std::string a = argv[k];
    double mult = 1;
    if (!a.empty() && std::string_view("smhd").find(a.back()) != std::string_view::npos) {
      mult = a.back() == 's' ? 1 : a.back() == 'm' ? 60 : a.back() == 'h' ? 3600 : 86400;
      a.pop_back();
    }
    char* end = nullptr;
    double v = std::strtod(a.c_str(), &end);
    if (a.empty() || end != a.c_str() + a.size() || !(v >= 0) || std::isinf(v)) {
      write(fd2, "sleep: invalid time interval " + std::string(kLq) + argv[k] + std::string(kRq) +
                     "\nTry 'sleep --help' for more information.\n");
      return 1;
    }
    total += v * mult;
  }
  // Capped at a day: a virtual instance never needs longer and the timer arithmetic stays sane.
  total = std::min(total, 86400.0);
  sleep_for_ = std::chrono::milliseconds(static_cast<std::int64_t>(std::llround(total * 1000)));
  ++sleep_id_;
  active_ = Active::sleep;
  return 0;
}

int Interpreter::cmd_cat(const std::vector<std::string>& argv, Fd fd1, Fd fd2) {
  bool read_stdin = argv.size() == 1;
  int status = 0;
  for (std::size_t k = 1; k < argv.size(); ++k) {
    if (argv[k] == "-") {
      read_stdin = true;
      continue;
    }
    write(fd2, "cat: " + argv[k] + ": No such file or directory\n");
    status = 1;
  }
  if (read_stdin) {
    active_ = Active::cat;
    active_fd_ = fd1;
  }
  return status;
}

int Interpreter::cmd_id(const std::vector<std::string>& argv, Fd fd1, Fd fd2) {
  bool u = false, g = false, name = false;
  for (std::size_t k = 1; k < argv.size(); ++k) {
    const std::string& a = argv[k];
    if (a.size() < 2 || a[0] != '-') {
      if (a == id_.user) continue;
      write(fd2, "id: " + std::string(kLq) + a + std::string(kRq) + ": no such user\n");
      return 1;
    }
    for (std::size_t c = 1; c < a.size(); ++c) {
      if (a[c] == 'u') u = true;
      else if (a[c] == 'g') g = true;
      else if (a[c] == 'n') name = true;
      else {
        write(fd2, std::string("id: invalid option -- '") + a[c] + "'\n");
        return 1;
      }
    }
  }
  const std::string group = id_.user;
  if (u) write(fd1, (name ? id_.user : std::to_string(id_.uid)) + "\n");
  else if (g) write(fd1, (name ? group : std::to_string(id_.gid)) + "\n");
  else {
    write(fd1, "uid=" + std::to_string(id_.uid) + "(" + id_.user + ") gid=" + std::to_string(id_.gid) +
                   "(" + group + ") groups=" + std::to_string(id_.gid) + "(" + group + ")\n");
  }
  return 0;
}

int Interpreter::cmd_uname(const std::vector<std::string>& argv, Fd fd1, Fd fd2) {
  bool s = false, nn = false, r = false, v = false, m = false, o = false;
  for (std::size_t k = 1; k < argv.size(); ++k) {
    const std::string& a = argv[k];
    if (a.size() < 2 || a[0] != '-') {
      write(fd2, "uname: extra operand " + std::string(kLq) + a + std::string(kRq) + "\n");
      return 1;
    }
    for (std::size_t c = 1; c < a.size(); ++c) {
      switch (a[c]) {
        case 'a': s = nn = r = v = m = o = true; break;
        case 's': s = true; break;
        case 'n': nn = true; break;
        case 'r': r = true; break;
        case 'v': v = true; break;
        case 'm': case 'p': case 'i': m = true; break;
        case 'o': o = true; break;
        default:
          write(fd2, std::string("uname: invalid option -- '") + a[c] + "'\n");
          return 1;
      }
    }
  }
  if (!(s || nn || r || v || m || o)) s = true;
  std::vector<std::string> parts;
  if (s) parts.emplace_back("Linux");
  if (nn) parts.push_back(id_.hostname);
  if (r) parts.emplace_back(kKernelRelease);
  if (v) parts.emplace_back(kKernelVersion);
  if (m) parts.emplace_back("x86_64");
  if (o) parts.emplace_back("GNU/Linux");
  std::string line;
  for (const auto& p : parts) line += (line.empty() ? "" : " ") + p;
  write(fd1, line + "\n");
  return 0;
}

int Interpreter::cmd_cd(const std::vector<std::string>& argv) {
  std::string target = argv.size() >= 2 ? argv[1] : id_.home;
  if (target.empty()) return 0;
  std::vector<std::string> parts;
  std::string path = target[0] == '/' ? target : id_.cwd + "/" + target;
  std::size_t i = 0;
  while (i <= path.size()) {
    auto slash = path.find('/', i);
    if (slash == std::string::npos) slash = path.size();
    std::string part = path.substr(i, slash - i);
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
    } else if (!part.empty() && part != ".") {
      parts.push_back(part);
    }
    i = slash + 1;
  }
  std::string norm;
  for (const auto& p : parts) norm += "/" + p;
  id_.cwd = norm.empty() ? "/" : norm;
  vars_["PWD"] = id_.cwd;
  return 0;
}

int Interpreter::cmd_exit(const std::vector<std::string>& argv, Fd fd2) {
  int status = last_status_;
  if (argv.size() >= 2) {
    auto p = parse_int(argv[1]);
    if (!p || *p < 0) {
      error(fd2, "exit: Illegal number: " + argv[1]);
      return 2;
    }
    status = static_cast<int>(*p & 0xff);
  }
  exit_shell(status);
  return status;
}

// ---------------------------------------------------------------------------------------------
// EmulatedTerminal

EmulatedTerminal::EmulatedTerminal(Config config)
    : config_(std::move(config)),
      interp_(config_.identity, config_.interactive_shell,
              [this](std::string_view s) { program_output(s); },
              [this](std::string_view s) { program_output(s); }) {}

void EmulatedTerminal::start() {
  if (!config_.profile.empty()) input(config_.profile + "\n");
  if (!config_.interactive_shell) interp_.submit(config_.script);
}

void EmulatedTerminal::program_output(std::string_view s) {
  for (char c : s) {
    if (c == '\n') out_ += "\r\n";
    else out_ += c;
  }
}

std::string EmulatedTerminal::take_output() {
  std::string out;
  out.swap(out_);
  return out;
}

void EmulatedTerminal::erase_last_char() {
  if (line_.empty()) return;
  std::size_t start = line_.size() - 1;
  while (start > 0 && (static_cast<unsigned char>(line_[start]) & 0xC0) == 0x80) --start;
  const auto c = static_cast<unsigned char>(line_[start]);
  const bool caret = c < 0x20 && c != '\t';
  line_.resize(start);
  out_ += caret ? "\b \b\b \b" : "\b \b";
}

void EmulatedTerminal::input(std::string_view bytes) {
  if (interp_.exited()) return;
  for (char ch : bytes) {
    const auto c = static_cast<unsigned char>(ch);
    switch (c) {
      case 0x0D:  // Enter arrives as CR (data-channel.md §7.5); ICRNL makes it a newline
      case 0x0A:
        out_ += "\r\n";
        typed_.emplace_back(std::move(line_));
        line_.clear();
        break;
      case 0x7F:
      case 0x08:
        erase_last_char();
        break;
      case 0x15:  // ^U: kill the line
        while (!line_.empty()) erase_last_char();
        break;
      case 0x03:    // ^C: SIGINT to the foreground
      case 0x1C: {  // ^\: SIGQUIT
        const int sig = c == 0x03 ? kSigInt : kSigQuit;
        out_ += c == 0x03 ? "^C" : "^\\";
        line_.clear();
        typed_.clear();
        if (!config_.interactive_shell) {
          interp_.interrupt(sig);
          return;
        }
        // An idle interactive shell ignores SIGQUIT; SIGINT aborts the line and re-prompts.
        if (interp_.busy() || sig == kSigInt) {
          interp_.interrupt(sig);
          out_ += "\r\n";
          need_prompt_ = true;
        }
        break;
      }
      case 0x04:  // ^D: EOF on an empty line, otherwise pushes the partial line
        if (line_.empty()) typed_.emplace_back(std::nullopt);
        else typed_.emplace_back(std::move(line_));
        line_.clear();
        break;
      case 0x1A:  // ^Z: no job control here
        out_ += "^Z";
        break;
      default:
        if (c < 0x20 && c != '\t') {
          out_ += '^';
          out_ += static_cast<char>(c + 0x40);
        } else {
          out_ += ch;
        }
        line_ += ch;
    }
  }
}

Interpreter::Step EmulatedTerminal::advance(std::size_t budget) {
  for (;;) {
    Interpreter::Step step = interp_.run(budget);
    switch (step.state) {
      case Interpreter::State::exited:
      case Interpreter::State::running:
      case Interpreter::State::sleeping:
        return step;
      case Interpreter::State::reading_stdin: {
        if (typed_.empty()) return step;
        auto line = std::move(typed_.front());
        typed_.pop_front();
        if (line) interp_.stdin_data(*line + "\n");
        else interp_.stdin_eof();
        continue;
      }
      case Interpreter::State::idle: {
        if (!config_.interactive_shell) {
          interp_.exit_shell(interp_.last_status());
          continue;
        }
        if (need_prompt_) {
          out_ += config_.identity.uid == 0 ? "# " : "$ ";
          need_prompt_ = false;
        }
        if (typed_.empty()) return step;
        auto line = std::move(typed_.front());
        typed_.pop_front();
        if (!line) {
          interp_.exit_shell(interp_.last_status());
          continue;
        }
        interp_.submit(*line);
        need_prompt_ = true;
        continue;
      }
    }
  }
}

}  // namespace mocksvc::agent
