#include "loadgen/system.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

namespace ssmh::loadgen {
namespace {

TEST(System, ParsesResidentMemoryFromProcStatus) {
  const std::string text =
      "Name:\tmocksvc\nVmPeak:\t  900000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\nThreads:\t3\n";
  auto m = parse_proc_status(text);
  ASSERT_TRUE(m);
  EXPECT_EQ(m->rss_bytes, 40960u * 1024);
  EXPECT_EQ(m->hwm_bytes, 51200u * 1024);
  EXPECT_FALSE(parse_proc_status("Name:\tx\n"));
  EXPECT_FALSE(parse_proc_status("VmRSS:\tnothing\n"));
}

TEST(System, ReadsItsOwnMemory) {
  auto m = read_memory(::getpid());
  ASSERT_TRUE(m);
  EXPECT_GT(m->rss_bytes, 0u);
  EXPECT_GE(m->hwm_bytes, m->rss_bytes);
  EXPECT_FALSE(read_memory(-1));
}

SocketPlan port_plan(Placement where, std::uint64_t sessions) {
  SocketPlan p;
  p.service = where;
  p.port_workload = true;
  p.open_sessions = sessions;
  p.api_connections = 16;
  return p;
}

TEST(System, CountsTheSocketsOfEverySessionOnBothSides) {
  const SocketBudget in = plan_sockets(port_plan(Placement::in_process, 1000));
  EXPECT_EQ(in.loadgen_per_session, 1u);
  EXPECT_EQ(in.service_per_session, 3u);
  EXPECT_EQ(in.loadgen_total, 2 * kFixedDescriptors + 2 * 16 + 4000);
  EXPECT_EQ(in.service_total, 0u);

  const SocketBudget apart = plan_sockets(port_plan(Placement::process, 1000));
  EXPECT_EQ(apart.loadgen_total, kFixedDescriptors + 16 + 1000);
  EXPECT_EQ(apart.service_total, kFixedDescriptors + 16 + 3000);

  SocketPlan agents = port_plan(Placement::process, 1000);
  agents.agents = 10;
  const SocketBudget a = plan_sockets(agents);
  EXPECT_EQ(a.loadgen_per_session, 4u);
  EXPECT_EQ(a.service_per_session, 2u);
  EXPECT_EQ(a.loadgen_total, kFixedDescriptors + 16 + 20 + 4000);
}

TEST(System, RefusesARunAboveTheOpenFilesLimit) {
  const std::string why = check_socket_budget(port_plan(Placement::in_process, 10000), 20000);
  ASSERT_FALSE(why.empty());
  EXPECT_NE(why.find("20000"), std::string::npos) << why;
  EXPECT_NE(why.find("separate process"), std::string::npos) << why;
  EXPECT_NE(why.find("At most 4960 sessions"), std::string::npos) << why;
}

TEST(System, AcceptsTenThousandShellSessionsWithASeparateService) {
  SocketPlan p = port_plan(Placement::process, 10000);
  p.port_workload = false;
  p.baseline_connections = 10000;
  EXPECT_EQ(check_socket_budget(p, 20000), "");
  // The port workload's echo connections put the service over the limit.
  p.port_workload = true;
  const std::string why = check_socket_budget(p, 20000);
  EXPECT_NE(why.find("the mocksvc process"), std::string::npos) << why;
  EXPECT_NE(why.find("shell workload"), std::string::npos) << why;
}

TEST(System, FindsTheMostSessionsOneProcessHolds) {
  SocketPlan shell = port_plan(Placement::in_process, 0);
  shell.port_workload = false;
  EXPECT_EQ(max_sessions_within(shell, 20000), (20000 - 2 * kFixedDescriptors - 32) / 2);
  SocketPlan apart = shell;
  apart.service = Placement::process;
  EXPECT_EQ(max_sessions_within(apart, 20000), 20000 - kFixedDescriptors - 16);
  EXPECT_EQ(max_sessions_within(apart, 10), 0u);
}

TEST(System, RefusesABaselineThatDoesNotFit) {
  SocketPlan p = port_plan(Placement::in_process, 100);
  p.baseline_connections = 12000;
  const std::string why = check_socket_budget(p, 20000);
  EXPECT_NE(why.find("baseline"), std::string::npos) << why;
}

TEST(System, RaisesTheSoftLimitToTheHardOne) {
  const FileLimit l = raise_open_files_limit();
  EXPECT_GT(l.soft, 0u);
  EXPECT_LE(l.soft, l.hard);
}

}  // namespace
}  // namespace ssmh::loadgen
