#include "tests/client/fake_service.hpp"

#include <gtest/gtest.h>

#include <utility>

#include "mocksvc/base/uuid.hpp"
#include "mocksvc/wire/payloads.hpp"

namespace mocksvc::client::testing {

FakeService::FakeService(Scheduler& scheduler, std::uint32_t seed)
    : scheduler_(scheduler), rng_(seed), agent_(stream::Settings::agent()) {
  down_.timer = scheduler.make_timer();
  up_.timer = scheduler.make_timer();
  tick_timer_ = scheduler.make_timer();
  tick_timer_->start(stream::kTickInterval, [this] { on_tick(); });
}

FakeService::~FakeService() = default;

Dialer FakeService::dialer() {
  return [this](const std::string& url, std::shared_ptr<ConnectionEvents> events) {
    dialed_urls_.push_back(url);
    if (fail_next_dials > 0) {
      --fail_next_dials;
      scheduler_.post([events] { events->failed("connection refused"); });
      return;
    }
    scheduler_.post([this, events] {
      events_ = events;
      connected_ = true;
      const int conn = ++connection_;
      Transport t;
      t.send_text = [this, conn](std::string text) {
        if (conn == connection_ && connected_) open_frames_.push_back(std::move(text));
      };
      t.send_binary = [this, conn](wire::Bytes bytes) {
        if (conn != connection_ || !connected_) return;
        write(up_, to_agent, std::move(bytes), false);
      };
      t.close = [this, conn] {
        ++transport_closes_;
        if (conn == connection_) connected_ = false;
      };
      events->opened(std::move(t));
    });
  };
}

ControlPlane FakeService::control_plane() {
  ControlPlane c;
  c.resume_session = [this](const std::string&, std::function<void(ResumeResult)> done) {
    resume_calls_.push_back(scheduler_.now());
    ResumeResult r;
    if (!resume_replies.empty()) {
      r = std::move(resume_replies.front());
      resume_replies.pop_front();
    } else {
      r.token_value = "token-" + std::to_string(++tokens_issued_);
    }
    scheduler_.post([done = std::move(done), r = std::move(r)] { done(r); });
  };
  c.terminate_session = [this](const std::string&) { ++terminate_calls_; };
  return c;
}

bool FakeService::chance(double p) {
  return p > 0 && std::uniform_real_distribution<double>(0, 1)(rng_) < p;
}

void FakeService::write(Link& link, const LinkFaults& faults, wire::Bytes bytes,
                        bool to_client_side) {
  if (!to_client_side) {
    auto d = wire::decode(bytes);
    EXPECT_TRUE(d) << "the client wrote an invalid frame: " << d.error().message();
    if (d) client_frames_.push_back({scheduler_.now(), connection_, std::move(d->message)});
  }
  if (chance(faults.loss)) return;
  const int copies = chance(faults.duplicate) ? 2 : 1;
  for (int i = 0; i < copies; ++i) {
    const auto span = (faults.max_delay - faults.min_delay).count();
    const Duration delay =
        faults.min_delay +
        Duration(span > 0 ? std::uniform_int_distribution<std::int64_t>(0, span)(rng_) : 0);
    link.in_flight.emplace(std::tuple{scheduler_.now() + delay, order_++}, bytes);
  }
  arm(link, to_client_side);
}

void FakeService::arm(Link& link, bool to_client_side) {
  if (link.in_flight.empty()) return;
  const TimePoint due = std::get<0>(link.in_flight.begin()->first);
  link.timer->start(std::max(Duration::zero(), due - scheduler_.now()),
                    [this, &link, to_client_side] { deliver_due(link, to_client_side); });
}

void FakeService::deliver_due(Link& link, bool to_client_side) {
  const TimePoint now = scheduler_.now();
  while (!link.in_flight.empty() && std::get<0>(link.in_flight.begin()->first) <= now) {
    wire::Bytes bytes = std::move(link.in_flight.begin()->second);
    link.in_flight.erase(link.in_flight.begin());
    if (to_client_side) {
      if (connected_ && events_) events_->received(bytes);
    } else {
      on_client_frame(bytes);
    }
  }
  arm(link, to_client_side);
}

void FakeService::on_client_frame(const wire::Bytes& bytes) {
  auto d = wire::decode(bytes);
  if (!d) return;
  wire::Message& m = d->message;
  if (m.message_type == wire::msg::kAcknowledge) {
    agent_.on_ack(m, scheduler_.now());
    return;
  }
  if (!agent_acks) return;
  auto in = agent_.on_incoming(std::move(m));
  if (in.ack) send_raw(*in.ack);
  for (auto& msg : in.deliver) {
    agent_received_.push_back(msg);
    if (on_agent_input) on_agent_input(msg.payload_type, msg.payload_text());
  }
}

void FakeService::on_tick() {
  if (agent_resends) {
    auto t = agent_.on_tick(scheduler_.now());
    if (t.resend && connected_) write(down_, to_client, wire::encode(*t.resend), true);
  }
  tick_timer_->start(stream::kTickInterval, [this] { on_tick(); });
}

wire::Message FakeService::send(wire::PayloadType type, std::string_view payload) {
  auto sent = agent_.send(type, payload, scheduler_.now());
  EXPECT_TRUE(sent);
  if (!sent) return {};
  if (connected_) write(down_, to_client, wire::encode(sent->message), true);
  return sent->message;
}

void FakeService::send_raw(const wire::Message& m) {
  if (connected_) write(down_, to_client, wire::encode(m), true);
}

void FakeService::send_bytes(wire::Bytes bytes) {
  if (connected_) write(down_, to_client, std::move(bytes), true);
}

void FakeService::send_handshake_request(std::string_view session_type,
                                         std::string_view properties_json,
                                         std::string_view agent_version,
                                         std::vector<std::pair<std::string, std::string>> extra) {
  wire::HandshakeRequest r;
  r.agent_version = std::string(agent_version);
  r.requested_client_actions.push_back(
      {"SessionType", wire::session_type_action_parameters(session_type, properties_json)});
  for (auto& [type, params] : extra) r.requested_client_actions.push_back({type, params});
  send(wire::PayloadType::handshake_request, r.to_json());
}

void FakeService::send_handshake_complete(std::string_view customer_message) {
  wire::HandshakeComplete c;
  c.handshake_time_to_complete_ns = 12'000'000;
  c.customer_message = std::string(customer_message);
  send(wire::PayloadType::handshake_complete, c.to_json());
}

void FakeService::send_channel_closed(std::string_view output) {
  wire::ChannelClosed c;
  c.message_id = base::random_uuid_string();
  c.created_date = "2026-11-24T05:54:23.000Z";
  c.destination_id = "i-0123456789abcdef0";
  c.session_id = "sess-1";
  c.output = std::string(output);
  send_raw(wire::make_message(wire::msg::kChannelClosed, 0, 0, wire::PayloadType::none, c.to_json()));
}

void FakeService::drop_connection() {
  down_.in_flight.clear();
  up_.in_flight.clear();
  connected_ = false;
  if (events_) scheduler_.post([events = events_] { events->closed(); });
}

void FakeService::fail_read() {
  if (events_) scheduler_.post([events = events_] { events->read_failed(); });
}

std::string FakeService::agent_received_output() const {
  std::string s;
  for (const auto& m : agent_received_) {
    if (m.payload_type == wire::PayloadType::output) s += m.payload_text();
  }
  return s;
}

std::vector<SeenFrame> FakeService::client_stream_frames(std::int64_t seq) const {
  std::vector<SeenFrame> out;
  for (const auto& f : client_frames_) {
    if (f.message.message_type == wire::msg::kInputStreamData && f.message.sequence_number == seq) {
      out.push_back(f);
    }
  }
  return out;
}

std::vector<std::int64_t> FakeService::client_acks() const {
  std::vector<std::int64_t> out;
  for (const auto& f : client_frames_) {
    if (f.message.message_type != wire::msg::kAcknowledge) continue;
    auto a = wire::parse_acknowledge(f.message.payload_text());
    EXPECT_TRUE(a);
    if (a) out.push_back(a->acknowledged_message_sequence_number);
  }
  return out;
}

}  // namespace mocksvc::client::testing
