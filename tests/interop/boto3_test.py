"""Debian's python3-boto3 (botocore's own SigV4 signer, retry logic and paginators) against
mocksvc: every Session Manager operation, paginators over many sessions and instances,
credentials with and without session tokens, modelled errors, and https with a private CA.

Each ctest test runs one method here in its own process with its own mocksvc.
"""

import json
import os
import sys
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402
from harness import PORT_INSTANCE, SHELL_INSTANCE  # noqa: E402

try:
    import boto3
    import botocore.auth
    import botocore.awsrequest
    import botocore.config
    import botocore.credentials
    import botocore.exceptions
except ImportError as e:  # pragma: no cover - environment problem, reported clearly
    raise SystemExit("boto3/botocore not importable by %s (%s): run docker/install-deps.sh "
                     "(Debian packages python3-boto3 python3-botocore)" % (sys.executable, e))

# Credentials that need a session token, as STS would hand out (configured in CONFIG below).
TEMP_KEY_ID = "ASIAINTEROPTEMPORARY"
TEMP_SECRET = "interop/temporary/secret/0123456789abcdef"
TEMP_TOKEN = "IQoJb3JpZ2luX2VjEPT//////////wEaCXVzLWVhc3QtMSJIMEYCIQDinterop+token=="
DEFAULT_SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"


class Boto3Test(harness.MockSvcTestCase):
    CONFIG = {
        "credentials": [
            {"access_key_id": "AKIAIOSFODNN7EXAMPLE", "secret_access_key": DEFAULT_SECRET,
             "account_id": "123456789012", "user_name": "tester"},
            {"access_key_id": TEMP_KEY_ID, "secret_access_key": TEMP_SECRET, "session_token": TEMP_TOKEN,
             "account_id": "123456789012", "user_name": "temporary"},
        ],
    }

    def client(self, endpoint=None, verify=None, key=None, secret=None, token=None, retries=None):
        cfg = botocore.config.Config(retries={"max_attempts": retries or 1, "mode": "standard"},
                                     connect_timeout=10, read_timeout=30)
        return boto3.session.Session().client(
            "ssm", endpoint_url=endpoint or self.svc.endpoint, region_name=self.svc.region,
            aws_access_key_id=key or self.svc.access_key_id,
            aws_secret_access_key=secret or self.svc.secret_access_key,
            aws_session_token=token, verify=verify, config=cfg)

    def assert_client_error(self, call, code, status=400):
        with self.assertRaises(botocore.exceptions.ClientError) as cm:
            call()
        err = cm.exception.response
        self.assertEqual(err["Error"]["Code"], code, err)
        self.assertEqual(err["ResponseMetadata"]["HTTPStatusCode"], status, err)
        self.assertTrue(err["Error"].get("Message"), err)
        self.assertTrue(err["ResponseMetadata"].get("RequestId"), err)
        return err

    # ---- every operation ----

    def test_session_operations_round_trip(self):
        ssm = self.client()
        started = ssm.start_session(Target=SHELL_INSTANCE, Reason="boto3 interop")
        session_id = started["SessionId"]
        self.assertTrue(started["TokenValue"])
        self.assertRegex(started["StreamUrl"], r"^ws://127\.0\.0\.1:\d+/v1/data-channel/" + session_id)
        self.assertTrue(started["ResponseMetadata"]["RequestId"])
        self.assertEqual(started["ResponseMetadata"]["HTTPHeaders"]["content-type"], "application/x-amz-json-1.1")

        active = ssm.describe_sessions(State="Active")["Sessions"]
        self.assertEqual([s["SessionId"] for s in active], [session_id])
        s = active[0]
        self.assertEqual(s["Target"], SHELL_INSTANCE)
        self.assertEqual(s["Reason"], "boto3 interop")
        self.assertEqual(s["DocumentName"], "SSM-SessionManagerRunShell")
        self.assertTrue(s["Owner"].startswith("arn:aws:iam::123456789012:"), s["Owner"])
        # botocore parses the epoch-seconds timestamp into an aware datetime.
        self.assertIsNotNone(s["StartDate"].tzinfo)

        resumed = ssm.resume_session(SessionId=session_id)
        self.assertEqual(resumed["SessionId"], session_id)
        self.assertNotEqual(resumed["TokenValue"], started["TokenValue"])

        status = ssm.get_connection_status(Target=SHELL_INSTANCE)
        self.assertEqual((status["Target"], status["Status"].lower()), (SHELL_INSTANCE, "connected"))
        status = ssm.get_connection_status(Target="i-00000000000000001")
        self.assertEqual(status["Status"].lower(), "notconnected")

        info = ssm.describe_instance_information(
            InstanceInformationFilterList=[{"key": "InstanceIds", "valueSet": [SHELL_INSTANCE]}])
        self.assertEqual([i["InstanceId"] for i in info["InstanceInformationList"]], [SHELL_INSTANCE])
        info = ssm.describe_instance_information(Filters=[{"Key": "tag:Name", "Values": ["web-host"]}])
        self.assertEqual([i["InstanceId"] for i in info["InstanceInformationList"]], [PORT_INSTANCE])

        self.assertEqual(ssm.terminate_session(SessionId=session_id)["SessionId"], session_id)
        harness.wait_until(lambda: self.svc.session(session_id)["state"] == "History", 10, "session in History")
        self.assertEqual(ssm.describe_sessions(State="Active")["Sessions"], [])
        history = ssm.describe_sessions(State="History")["Sessions"]
        self.assertEqual([h["SessionId"] for h in history], [session_id])
        self.assertIn("EndDate", history[0])
        # Terminating an unknown or ended session succeeds, as on AWS.
        self.assertEqual(ssm.terminate_session(SessionId=session_id)["SessionId"], session_id)

    # ---- paginators ----

    def test_paginators_walk_many_sessions_and_instances(self):
        extra = self.svc.add_instances(57)  # 59 instances in all
        ssm = self.client()
        pages = list(ssm.get_paginator("describe_instance_information").paginate(PaginationConfig={"PageSize": 10}))
        self.assertEqual(len(pages), 6)
        ids = [i["InstanceId"] for p in pages for i in p["InstanceInformationList"]]
        self.assertEqual(len(ids), 59)
        self.assertEqual(set(ids), set(extra) | {SHELL_INSTANCE, PORT_INSTANCE})
        # MaxItems with a resume token, across a page boundary.
        first = ssm.get_paginator("describe_instance_information").paginate(
            PaginationConfig={"PageSize": 10, "MaxItems": 15}).build_full_result()
        self.assertEqual(len(first["InstanceInformationList"]), 15)
        rest = ssm.get_paginator("describe_instance_information").paginate(
            PaginationConfig={"PageSize": 10, "StartingToken": first["NextToken"]}).build_full_result()
        self.assertEqual([i["InstanceId"] for i in first["InstanceInformationList"] + rest["InstanceInformationList"]],
                         ids)

        targets = [SHELL_INSTANCE] + extra[:9]
        started = [ssm.start_session(Target=targets[n % len(targets)])["SessionId"] for n in range(45)]
        paginator = ssm.get_paginator("describe_sessions")
        pages = list(paginator.paginate(State="Active", PaginationConfig={"PageSize": 7}))
        self.assertEqual(len(pages), 7)
        seen = [s["SessionId"] for p in pages for s in p["Sessions"]]
        self.assertEqual(len(seen), 45)
        self.assertEqual(set(seen), set(started))
        filtered = paginator.paginate(State="Active", Filters=[{"key": "Target", "value": extra[0]}],
                                      PaginationConfig={"PageSize": 2}).build_full_result()
        self.assertEqual({s["SessionId"] for s in filtered["Sessions"]},
                         {sid for n, sid in enumerate(started) if targets[n % len(targets)] == extra[0]})

        for sid in started[:20]:
            ssm.terminate_session(SessionId=sid)
        harness.wait_until(
            lambda: sum(1 for s in self.svc.sessions() if s["state"] == "History") == 20, 20, "20 sessions in History")
        history = paginator.paginate(State="History", PaginationConfig={"PageSize": 3}).build_full_result()
        self.assertEqual({s["SessionId"] for s in history["Sessions"]}, set(started[:20]))
        active = paginator.paginate(State="Active", PaginationConfig={"PageSize": 200}).build_full_result()
        self.assertEqual({s["SessionId"] for s in active["Sessions"]}, set(started[20:]))

    # ---- credentials ----

    def test_sigv4_with_a_session_token_is_accepted(self):
        ssm = self.client(key=TEMP_KEY_ID, secret=TEMP_SECRET, token=TEMP_TOKEN)
        sid = ssm.start_session(Target=SHELL_INSTANCE)["SessionId"]
        self.assertTrue(sid.startswith("temporary-"), sid)
        owner = ssm.describe_sessions(State="Active")["Sessions"][0]["Owner"]
        self.assertTrue(owner.endswith("/temporary"), owner)
        # The same key without its token, or with another token, is not recognised.
        self.assert_client_error(lambda: self.client(key=TEMP_KEY_ID, secret=TEMP_SECRET).describe_sessions(
            State="Active"), "UnrecognizedClientException")
        self.assert_client_error(lambda: self.client(key=TEMP_KEY_ID, secret=TEMP_SECRET, token="other").describe_sessions(
            State="Active"), "UnrecognizedClientException")
        # Long-term keys keep working without a token.
        self.assertEqual(len(self.client().describe_sessions(State="Active")["Sessions"]), 1)

    def test_wrong_credentials_are_rejected(self):
        err = self.assert_client_error(
            lambda: self.client(secret="not-the-secret").start_session(Target=SHELL_INSTANCE),
            "InvalidSignatureException")
        self.assertIn("signature", err["Error"]["Message"].lower())
        self.assert_client_error(lambda: self.client(key="AKIAUNKNOWNKEY000000").describe_sessions(State="Active"),
                                 "UnrecognizedClientException")
        self.assertEqual(self.svc.sessions(), [])

    # ---- errors ----

    def test_modelled_errors_carry_their_codes(self):
        ssm = self.client()
        err = self.assert_client_error(lambda: ssm.start_session(Target="i-00000000000000001"), "TargetNotConnected")
        self.assertIn("i-00000000000000001", err["Error"]["Message"])
        # The modelled exception classes match too.
        with self.assertRaises(ssm.exceptions.TargetNotConnected):
            ssm.start_session(Target="i-00000000000000001")
        with self.assertRaises(ssm.exceptions.InvalidDocument):
            ssm.start_session(Target=SHELL_INSTANCE, DocumentName="No-Such-Document")
        self.assert_client_error(
            lambda: ssm.start_session(Target=PORT_INSTANCE, DocumentName="AWS-StartPortForwardingSession",
                                      Parameters={"portNumber": ["not-a-port"]}), "InvalidParameters")
        with self.assertRaises(ssm.exceptions.DoesNotExistException):
            ssm.resume_session(SessionId="tester-0123456789abcdef0")
        self.assert_client_error(lambda: ssm.describe_sessions(State="Bogus"), "ValidationException")
        self.assert_client_error(lambda: ssm.describe_sessions(State="Active", MaxResults=500), "ValidationException")
        self.assert_client_error(lambda: ssm.describe_sessions(State="Active", Filters=[{"key": "Colour", "value": "x"}]),
                                 "ValidationException")
        with self.assertRaises(ssm.exceptions.InvalidNextToken):
            ssm.describe_sessions(State="Active", NextToken="garbage")
        with self.assertRaises(ssm.exceptions.InvalidNextToken):
            ssm.describe_instance_information(NextToken="garbage")
        with self.assertRaises(ssm.exceptions.InvalidFilterKey):
            ssm.describe_instance_information(Filters=[{"Key": "Colour", "Values": ["x"]}])
        with self.assertRaises(ssm.exceptions.InvalidInstanceId):
            ssm.describe_instance_information(
                InstanceInformationFilterList=[{"key": "InstanceIds", "valueSet": ["i-00000000000000001"]}])
        self.assertEqual(self.svc.sessions(), [])

    def test_unknown_operation_sent_raw_is_rejected(self):
        # A correctly signed AWS JSON 1.1 request for an operation the service does not serve.
        creds = botocore.credentials.Credentials(self.svc.access_key_id, self.svc.secret_access_key)
        for target, status in (("AmazonSSM.ListDocuments", 400), ("AmazonSSM.NoSuchOperation", 400),
                               ("AmazonEC2.DescribeInstances", 400)):
            req = botocore.awsrequest.AWSRequest(
                method="POST", url=self.svc.endpoint + "/", data=b"{}",
                headers={"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": target})
            botocore.auth.SigV4Auth(creds, "ssm", self.svc.region).add_auth(req)
            prepared = req.prepare()
            http = urllib.request.Request(prepared.url, data=prepared.body, method="POST",
                                          headers=dict(prepared.headers.items()))
            try:
                with urllib.request.urlopen(http, timeout=harness.ADMIN_TIMEOUT_S) as resp:
                    self.fail("%s answered %d" % (target, resp.status))
            except urllib.error.HTTPError as e:
                body = json.loads(e.read())
                self.assertEqual(e.code, status, (target, body))
                self.assertTrue(body["__type"].endswith("UnknownOperationException"), (target, body))

    # ---- TLS ----

    def test_https_with_the_ca_bundle_verifies(self):
        ssm = self.client(endpoint=self.svc.endpoint_tls, verify=self.svc.ca_bundle)
        started = ssm.start_session(Target=SHELL_INSTANCE)
        self.assertTrue(started["StreamUrl"].startswith("wss://127.0.0.1:"), started["StreamUrl"])
        self.assertEqual(len(ssm.describe_instance_information()["InstanceInformationList"]), 2)
        # The private CA is not trusted by default.
        with self.assertRaises(botocore.exceptions.SSLError):
            self.client(endpoint=self.svc.endpoint_tls).describe_sessions(State="Active")


if __name__ == "__main__":
    harness.main()
