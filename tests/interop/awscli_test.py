"""Debian's awscli v2 (/usr/bin/aws) against mocksvc: every Session Manager operation the CLI
exposes, its output formats, pagination, the start-session hand-off to (and the absence of) a
session-manager-plugin, the AWS error codes it prints, and TLS with a private CA.

Each ctest test runs one method here in its own process with its own mocksvc.
"""

import json
import os
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import PORT_INSTANCE, SHELL_INSTANCE  # noqa: E402

AWS = "/usr/bin/aws"
# The CLI's exit code for an error the service returned (ssm-api.md §4).
EXIT_SERVICE_ERROR = 254
# The CLI's exit code for errors raised on the client side (no plugin, TLS failure, ...).
EXIT_CLIENT_ERROR = 255

# A stand-in for session-manager-plugin: records the hand-off argv and exits 0, so the session
# the CLI started stays active (nobody connects to its data channel).
STUB_PLUGIN = """#!/usr/bin/python3
import json, os, sys
with open(os.environ["SSMH_PLUGIN_ARGV"], "a") as f:
    f.write(json.dumps(sys.argv) + "\\n")
"""


class AwsCliTest(harness.MockSvcTestCase):
    @classmethod
    def setUpClass(cls):
        if not os.access(AWS, os.X_OK):
            raise RuntimeError("%s is missing: run docker/install-deps.sh (Debian package awscli)" % AWS)
        super().setUpClass()
        cls.home = tempfile.mkdtemp(prefix="ssmh-awscli-home-")
        # An empty directory as PATH: no session-manager-plugin can be found.
        cls.empty_bin = os.path.join(cls.home, "empty-bin")
        os.mkdir(cls.empty_bin)
        cls.stub_bin = os.path.join(cls.home, "stub-bin")
        os.mkdir(cls.stub_bin)
        plugin = os.path.join(cls.stub_bin, "session-manager-plugin")
        with open(plugin, "w") as f:
            f.write(STUB_PLUGIN)
        os.chmod(plugin, stat.S_IRWXU)
        cls.plugin_argv = os.path.join(cls.home, "plugin-argv.jsonl")

    @classmethod
    def tearDownClass(cls):
        import shutil
        shutil.rmtree(cls.home, ignore_errors=True)
        super().tearDownClass()

    # ---- running the CLI ----

    def env(self, **overrides):
        env = {
            "PATH": self.empty_bin,
            "HOME": self.home,
            "LANG": "C.UTF-8",
            "AWS_CONFIG_FILE": "/dev/null",
            "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
            "AWS_PAGER": "",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ACCESS_KEY_ID": self.svc.access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.svc.secret_access_key,
            "AWS_DEFAULT_REGION": self.svc.region,
            "SSMH_PLUGIN_ARGV": self.plugin_argv,
        }
        env.update(overrides)
        return {k: v for k, v in env.items() if v is not None}

    def aws(self, *args, endpoint=None, env=None, expect=0):
        """Runs `aws ssm ARGS --endpoint-url E` and checks the exit code."""
        cmd = [AWS, "ssm", *args, "--endpoint-url", endpoint or self.svc.endpoint]
        proc = subprocess.run(cmd, env=env or self.env(), stdin=subprocess.DEVNULL, capture_output=True, text=True,
                              timeout=harness.COMMAND_TIMEOUT_S, preexec_fn=harness.die_with_parent)
        if expect is not None and proc.returncode != expect:
            self.fail("%s exited %d (wanted %d)\n--- stdout ---\n%s\n--- stderr ---\n%s"
                      % (" ".join(args), proc.returncode, expect, proc.stdout, proc.stderr))
        return proc

    def aws_json(self, *args, **kw):
        proc = self.aws(*args, "--output", "json", **kw)
        return json.loads(proc.stdout) if proc.stdout.strip() else {}

    def assert_service_error(self, proc, code, operation):
        self.assertEqual(proc.returncode, EXIT_SERVICE_ERROR, proc.stderr)
        self.assertIn("An error occurred (%s) when calling the %s operation" % (code, operation), proc.stderr)

    def start_with_stub_plugin(self, *extra):
        """start-session handed to the stub plugin; returns (session id, the plugin's argv)."""
        if os.path.exists(self.plugin_argv):
            os.remove(self.plugin_argv)
        self.aws("start-session", "--target", SHELL_INSTANCE, *extra, env=self.env(PATH=self.stub_bin))
        with open(self.plugin_argv) as f:
            argv = json.loads(f.read().splitlines()[-1])
        return json.loads(argv[1])["SessionId"], argv

    # ---- DescribeInstanceInformation ----

    def test_describe_instance_information_lists_both_instances_as_json(self):
        out = self.aws_json("describe-instance-information")
        by_id = {i["InstanceId"]: i for i in out["InstanceInformationList"]}
        self.assertEqual(set(by_id), {SHELL_INSTANCE, PORT_INSTANCE})
        shell = by_id[SHELL_INSTANCE]
        self.assertEqual(shell["PingStatus"], "Online")
        self.assertEqual(shell["PlatformType"], "Linux")
        self.assertEqual(shell["ResourceType"], "EC2Instance")
        # Timestamps are epoch numbers on the wire; the CLI renders them as ISO 8601.
        self.assertRegex(shell["LastPingDateTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d")

    def test_describe_instance_information_renders_a_table(self):
        out = self.aws("describe-instance-information", "--output", "table").stdout
        self.assertIn("DescribeInstanceInformation", out)
        self.assertIn("InstanceInformationList", out)
        self.assertIn(SHELL_INSTANCE, out)
        self.assertIn(PORT_INSTANCE, out)
        text = self.aws("describe-instance-information", "--output", "text",
                        "--query", "InstanceInformationList[].InstanceId").stdout.split()
        self.assertEqual(sorted(text), sorted([SHELL_INSTANCE, PORT_INSTANCE]))

    def test_describe_instance_information_applies_filters(self):
        out = self.aws_json("describe-instance-information",
                            "--instance-information-filter-list", "key=InstanceIds,valueSet=" + PORT_INSTANCE)
        self.assertEqual([i["InstanceId"] for i in out["InstanceInformationList"]], [PORT_INSTANCE])
        out = self.aws_json("describe-instance-information", "--filters", "Key=tag:Name,Values=shell-host")
        self.assertEqual([i["InstanceId"] for i in out["InstanceInformationList"]], [SHELL_INSTANCE])
        self.svc.admin("PUT", "/_mock/instances/%s/ping-status" % PORT_INSTANCE,
                       {"PingStatus": "ConnectionLost"}, expect=200)
        out = self.aws_json("describe-instance-information", "--filters", "Key=PingStatus,Values=Online")
        self.assertEqual([i["InstanceId"] for i in out["InstanceInformationList"]], [SHELL_INSTANCE])
        proc = self.aws("describe-instance-information", "--filters", "Key=Bogus,Values=x", expect=None)
        self.assert_service_error(proc, "InvalidFilterKey", "DescribeInstanceInformation")
        proc = self.aws("describe-instance-information", "--filters", "Key=PingStatus,Values=Sleeping", expect=None)
        self.assert_service_error(proc, "InvalidInstanceInformationFilterValue", "DescribeInstanceInformation")

    def test_describe_instance_information_paginates(self):
        self.svc.add_instances(11)  # 13 in all
        # --page-size sets MaxResults; the CLI follows NextToken by itself.
        out = self.aws_json("describe-instance-information", "--page-size", "5")
        ids = [i["InstanceId"] for i in out["InstanceInformationList"]]
        self.assertEqual(len(ids), 13)
        self.assertEqual(len(set(ids)), 13)
        calls = [e for e in self.svc.audit() if e.get("eventName") == "DescribeInstanceInformation"]
        self.assertEqual(len(calls), 3, "13 instances in pages of 5 take 3 calls")
        # --max-items stops early and hands back a resumable token.
        first = self.aws_json("describe-instance-information", "--max-items", "4", "--page-size", "5")
        self.assertEqual(len(first["InstanceInformationList"]), 4)
        self.assertIn("NextToken", first)
        rest = self.aws_json("describe-instance-information", "--page-size", "5",
                             "--starting-token", first["NextToken"])
        rest_ids = [i["InstanceId"] for i in rest["InstanceInformationList"]]
        self.assertEqual([i["InstanceId"] for i in first["InstanceInformationList"]] + rest_ids, ids)

    # ---- StartSession and the plugin hand-off ----

    def test_start_session_without_plugin_terminates(self):
        proc = self.aws("start-session", "--target", SHELL_INSTANCE, expect=EXIT_CLIENT_ERROR)
        self.assertIn("SessionManagerPlugin is not found", proc.stderr)
        sessions = self.svc.sessions()
        self.assertEqual(len(sessions), 1)
        session_id = sessions[0]["SessionId"]
        # The CLI called TerminateSession itself; the session ends up in History.
        harness.wait_until(lambda: self.svc.session(session_id)["state"] == "History", 10,
                           "session %s to reach History" % session_id)
        events = [e.get("eventName") for e in self.svc.audit()]
        self.assertEqual(events.count("StartSession"), 1)
        self.assertEqual(events.count("TerminateSession"), 1)
        history = self.aws_json("describe-sessions", "--state", "History")["Sessions"]
        self.assertEqual([s["SessionId"] for s in history], [session_id])
        self.assertIn(history[0]["Status"], ("Terminated", "Terminating"))
        self.assertEqual(history[0]["Target"], SHELL_INSTANCE)
        self.assertEqual(self.aws_json("describe-sessions", "--state", "Active")["Sessions"], [])

    def test_start_session_hands_the_response_to_the_plugin(self):
        session_id, argv = self.start_with_stub_plugin("--reason", "interop test")
        self.assertEqual(len(argv), 7, argv)
        response = json.loads(argv[1])
        self.assertEqual(response["SessionId"], session_id)
        self.assertTrue(response["TokenValue"])
        self.assertRegex(response["StreamUrl"], r"^ws://127\.0\.0\.1:\d+/v1/data-channel/" + session_id + r"\?")
        self.assertEqual(argv[2], self.svc.region)
        self.assertEqual(argv[3], "StartSession")
        self.assertEqual(json.loads(argv[5]), {"Target": SHELL_INSTANCE, "Reason": "interop test"})
        self.assertEqual(argv[6], self.svc.endpoint)
        active = self.aws_json("describe-sessions", "--state", "Active")["Sessions"]
        self.assertEqual([s["SessionId"] for s in active], [session_id])
        self.assertEqual(active[0]["Reason"], "interop test")
        self.assertIn("Owner", active[0])

    # ---- DescribeSessions, TerminateSession, ResumeSession, GetConnectionStatus ----

    def test_describe_sessions_filters_active_and_history(self):
        first, _ = self.start_with_stub_plugin()
        second, _ = self.start_with_stub_plugin()
        third, _ = self.start_with_stub_plugin()
        out = self.aws_json("terminate-session", "--session-id", second)
        self.assertEqual(out, {"SessionId": second})
        harness.wait_until(lambda: self.svc.session(second)["state"] == "History", 10, "terminated session in History")

        active = {s["SessionId"] for s in self.aws_json("describe-sessions", "--state", "Active")["Sessions"]}
        self.assertEqual(active, {first, third})
        history = [s["SessionId"] for s in self.aws_json("describe-sessions", "--state", "History")["Sessions"]]
        self.assertEqual(history, [second])

        only = self.aws_json("describe-sessions", "--state", "Active", "--filters", "key=SessionId,value=" + third)
        self.assertEqual([s["SessionId"] for s in only["Sessions"]], [third])
        by_target = self.aws_json("describe-sessions", "--state", "Active", "--filters",
                                  "key=Target,value=" + PORT_INSTANCE)
        self.assertEqual(by_target["Sessions"], [])
        by_status = self.aws_json("describe-sessions", "--state", "History", "--filters", "key=Status,value=Terminated")
        self.assertEqual([s["SessionId"] for s in by_status["Sessions"]], [second])
        # Pages of one, followed by the CLI.
        paged = self.aws_json("describe-sessions", "--state", "Active", "--page-size", "1")
        self.assertEqual({s["SessionId"] for s in paged["Sessions"]}, {first, third})
        limited = self.aws_json("describe-sessions", "--state", "Active", "--max-items", "1")
        self.assertEqual(len(limited["Sessions"]), 1)
        self.assertIn("NextToken", limited)

    def test_resume_session_returns_a_new_token(self):
        session_id, argv = self.start_with_stub_plugin()
        old = json.loads(argv[1])
        out = self.aws_json("resume-session", "--session-id", session_id)
        self.assertEqual(out["SessionId"], session_id)
        self.assertTrue(out["TokenValue"])
        self.assertNotEqual(out["TokenValue"], old["TokenValue"])
        self.assertTrue(out["StreamUrl"].startswith("ws://127.0.0.1:"), out)
        proc = self.aws("resume-session", "--session-id", "tester-0123456789abcdef0", expect=None)
        self.assert_service_error(proc, "DoesNotExistException", "ResumeSession")

    def test_get_connection_status_reports_connected_and_not(self):
        out = self.aws_json("get-connection-status", "--target", SHELL_INSTANCE)
        self.assertEqual(out["Target"], SHELL_INSTANCE)
        self.assertEqual(out["Status"].lower(), "connected")
        out = self.aws_json("get-connection-status", "--target", "i-00000000000000001")
        self.assertEqual(out["Status"].lower(), "notconnected")

    # ---- errors ----

    def test_start_session_on_unknown_target_is_target_not_connected(self):
        proc = self.aws("start-session", "--target", "i-00000000000000001", expect=None)
        self.assert_service_error(proc, "TargetNotConnected", "StartSession")
        self.assertEqual(self.svc.sessions(), [])

    def test_start_session_with_bad_document_is_rejected(self):
        proc = self.aws("start-session", "--target", SHELL_INSTANCE, "--document-name", "No-Such-Document",
                        expect=None)
        self.assert_service_error(proc, "InvalidDocument", "StartSession")
        proc = self.aws("start-session", "--target", SHELL_INSTANCE, "--document-name", "AWS-RunShellScript",
                        expect=None)
        self.assert_service_error(proc, "InvalidDocument", "StartSession")
        proc = self.aws("start-session", "--target", PORT_INSTANCE, "--document-name",
                        "AWS-StartPortForwardingSession", "--parameters", "portNumber=not-a-port", expect=None)
        self.assert_service_error(proc, "InvalidParameters", "StartSession")
        proc = self.aws("start-session", "--target", PORT_INSTANCE, "--document-name",
                        "AWS-StartPortForwardingSession", "--parameters", "bogusParameter=1", expect=None)
        self.assert_service_error(proc, "InvalidParameters", "StartSession")
        self.assertEqual(self.svc.sessions(), [])

    def test_describe_sessions_with_bad_state_or_max_results_is_a_validation_error(self):
        proc = self.aws("describe-sessions", "--state", "Bogus", expect=None)
        self.assert_service_error(proc, "ValidationException", "DescribeSessions")
        self.assertIn("Bogus", proc.stderr)
        proc = self.aws("describe-sessions", "--state", "Active", "--max-results", "500", expect=None)
        self.assert_service_error(proc, "ValidationException", "DescribeSessions")
        proc = self.aws("describe-instance-information", "--max-results", "51", expect=None)
        self.assert_service_error(proc, "ValidationException", "DescribeInstanceInformation")
        proc = self.aws("describe-sessions", "--state", "Active", "--next-token", "not-a-token", expect=None)
        self.assert_service_error(proc, "InvalidNextToken", "DescribeSessions")

    def test_operation_the_service_does_not_serve_is_unknown_operation(self):
        proc = self.aws("list-documents", expect=None)
        self.assert_service_error(proc, "UnknownOperationException", "ListDocuments")

    def test_wrong_credentials_are_rejected(self):
        proc = self.aws("describe-instance-information", env=self.env(AWS_SECRET_ACCESS_KEY="wrong-secret"),
                        expect=None)
        self.assert_service_error(proc, "InvalidSignatureException", "DescribeInstanceInformation")
        proc = self.aws("describe-instance-information", env=self.env(AWS_ACCESS_KEY_ID="AKIAUNKNOWNKEY000000"),
                        expect=None)
        self.assert_service_error(proc, "UnrecognizedClientException", "DescribeInstanceInformation")
        proc = self.aws("start-session", "--target", SHELL_INSTANCE,
                        env=self.env(AWS_SECRET_ACCESS_KEY="wrong-secret"), expect=None)
        self.assert_service_error(proc, "InvalidSignatureException", "StartSession")
        self.assertEqual(self.svc.sessions(), [])

    # ---- TLS ----

    def test_tls_endpoint_works_with_the_ca_bundle(self):
        env = self.env(AWS_CA_BUNDLE=self.svc.ca_bundle)
        out = self.aws_json("describe-instance-information", endpoint=self.svc.endpoint_tls, env=env)
        self.assertEqual(len(out["InstanceInformationList"]), 2)
        if os.path.exists(self.plugin_argv):
            os.remove(self.plugin_argv)
        self.aws("start-session", "--target", SHELL_INSTANCE, endpoint=self.svc.endpoint_tls,
                 env=self.env(AWS_CA_BUNDLE=self.svc.ca_bundle, PATH=self.stub_bin))
        with open(self.plugin_argv) as f:
            argv = json.loads(f.read().splitlines()[-1])
        self.assertTrue(json.loads(argv[1])["StreamUrl"].startswith("wss://"), argv[1])
        self.assertEqual(argv[6], self.svc.endpoint_tls)
        # Without the bundle the private CA is not trusted: verification really happens.
        proc = self.aws("describe-instance-information", endpoint=self.svc.endpoint_tls, expect=None)
        self.assertEqual(proc.returncode, EXIT_CLIENT_ERROR, proc.stderr)
        self.assertIn("SSL", proc.stderr)


if __name__ == "__main__":
    harness.main()
