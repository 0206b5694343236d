#include "loadgen/service_target.hpp"

#include <unistd.h>

#include <filesystem>
#include <thread>

#include <nlohmann/json.hpp>

#include "mocksvc/app/config.hpp"
#include "mocksvc/app/service.hpp"

namespace ssmh::loadgen {
namespace {

namespace fs = std::filesystem;
using R = boost::system::result<ServiceTarget, std::string>;

R failure(std::string why) { return R(boost::system::in_place_error, std::move(why)); }

// A mocksvc started for the run comes up with certificates and the default instances; this long
// covers creating the local CA on a busy machine.
constexpr auto kReadyTimeout = std::chrono::seconds(60);

std::string make_state_dir() {
  std::string tmpl = (fs::temp_directory_path() / "loadgen-mocksvc-XXXXXX").string();
  if (!::mkdtemp(tmpl.data())) return {};
  return tmpl;
}

unsigned effective_threads(unsigned requested) {
  return requested ? requested : std::max(1u, std::thread::hardware_concurrency());
}

}  // namespace

ServiceHandle::ServiceHandle() = default;
ServiceHandle::~ServiceHandle() { stop(); }

R ServiceHandle::start(const Options& o) {
  ServiceTarget t;
  if (!o.endpoint.empty()) {
    t.placement = Placement::external;
    t.endpoint = o.endpoint;
    t.ca_bundle = o.ca_bundle;
    t.region = o.region.empty() ? "us-east-1" : o.region;
    t.access_key_id = o.access_key_id;
    t.secret_access_key = o.secret_access_key;
    t.session_token = o.session_token;
    t.pid = o.mocksvc_pid;
    return t;
  }
  state_dir_ = make_state_dir();
  if (state_dir_.empty()) return failure("cannot create a state directory under " + fs::temp_directory_path().string());
  t.threads = effective_threads(o.service_threads);

  if (!o.mocksvc_binary.empty()) {
    std::vector<std::string> argv = {o.mocksvc_binary, "--listen", "127.0.0.1:0", "--state-dir", state_dir_,
                                     "--audit-log", "-", "--log-level", o.log_level, "--threads",
                                     std::to_string(t.threads)};
    if (auto err = child_.spawn(argv)) return failure(*err);
    auto line = child_.read_json_line(kReadyTimeout);
    if (!line) return failure(o.mocksvc_binary + " did not print its ready line");
    auto j = nlohmann::json::parse(*line, nullptr, false);
    if (!j.is_object() || j.value("event", "") != "ready")
      return failure(o.mocksvc_binary + " printed something else than its ready line: " + *line);
    t.placement = Placement::process;
    t.endpoint = o.tls ? j.value("endpoint_tls", "") : j.value("endpoint", "");
    t.ca_bundle = j.value("ca_bundle", "");
    t.region = j.value("region", "us-east-1");
    t.access_key_id = j.value("access_key_id", "");
    t.secret_access_key = j.value("secret_access_key", "");
    t.pid = child_.pid();
  } else {
    auto config = mocksvc::app::default_config();
    config.listen_host = "127.0.0.1";
    config.listen_port = 0;
    config.state_dir = state_dir_;
    config.threads = t.threads;
    config.log_level = o.log_level;
    // One flushed line per API call would measure the disk; the separate-process run does the same.
    config.audit_log = "-";
    service_ = std::make_unique<mocksvc::app::Service>(std::move(config));
    auto started = service_->start();
    if (!started) return failure("mocksvc: " + started.error());
    t.placement = Placement::in_process;
    t.endpoint = o.tls ? started->endpoint_tls : started->endpoint;
    t.ca_bundle = started->ca_bundle;
    t.region = started->region;
    t.access_key_id = started->access_key_id;
    t.secret_access_key = started->secret_access_key;
    t.pid = ::getpid();
  }
  if (t.endpoint.empty()) return failure("the mocksvc started has no " + std::string(o.tls ? "TLS " : "") + "endpoint");
  if (!o.region.empty()) t.region = o.region;
  return t;
}

void ServiceHandle::stop() {
  if (service_) {
    service_->stop();
    service_.reset();
  }
  child_.stop();
  if (!state_dir_.empty()) {
    std::error_code ec;
    fs::remove_all(state_dir_, ec);
    state_dir_.clear();
  }
}

}  // namespace ssmh::loadgen
