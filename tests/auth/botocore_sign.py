#!/usr/bin/env python3
"""Signs a fixed set of requests with botocore's SigV4Auth / SigV4QueryAuth and prints them as
JSON, exactly as they would arrive on the wire, for auth_test to verify. botocore is the
independent implementation: nothing here reuses the code under test.

Exit status 3 (with the reason on stderr) means botocore is not importable; anything else
non-zero is a real failure."""

import calendar
import datetime
import hashlib
import json
import sys
from urllib.parse import urlsplit

try:
    import botocore
    import botocore.auth
    from botocore.auth import SigV4Auth, SigV4QueryAuth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
except ImportError as e:
    print(f"botocore is not importable by {sys.executable}: {e}", file=sys.stderr)
    sys.exit(3)

# 2026-11-24T05:54:23Z, the time in ssm-api.md's example.
FIXED = datetime.datetime(2026, 11, 24, 5, 54, 23)
EPOCH = calendar.timegm(FIXED.timetuple())


class _FrozenDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return FIXED

    @classmethod
    def now(cls, tz=None):
        return FIXED.replace(tzinfo=tz) if tz else FIXED


class _FrozenModule:
    datetime = _FrozenDatetime


# botocore 1.29 calls datetime.datetime.utcnow(); newer ones call get_current_datetime().
botocore.auth.datetime = _FrozenModule
if hasattr(botocore.auth, "get_current_datetime"):
    botocore.auth.get_current_datetime = lambda *a, **k: FIXED


class _Capture:
    def string_to_sign(self, request, canonical_request):
        sts = super().string_to_sign(request, canonical_request)
        self.captured = (canonical_request, sts)
        return sts


class HeaderSigner(_Capture, SigV4Auth):
    pass


class QuerySigner(_Capture, SigV4QueryAuth):
    pass


AKID = "AKIAIOSFODNN7EXAMPLE"
SECRET = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
TOKEN = ("IQoJb3JpZ2luX2VjEJr//////////wEaCXVzLWVhc3QtMSJHMEUCIQD6Lm+/s0mE="
         "FwoGZXIvYXdzEJr//////////wEaDHNlc3Npb24tdG9rZW4=")

AWSCLI_BODY = ('{"Target": "i-0123456789abcdef0", "DocumentName": "AWS-StartPortForwardingSession", '
               '"Parameters": {"portNumber": ["80"], "localPortNumber": ["56789"]}}')


def wire_target(url):
    parts = urlsplit(url)
    return parts.path + ("?" + parts.query if parts.query else "")


def host_from_canonical(canonical):
    for line in canonical.split("\n"):
        if line.startswith("host:"):
            return line[len("host:"):]
    raise RuntimeError("botocore signed no host header")


def header_case(name, service, url, headers, body, token=None, method="POST",
                extra_after=(), region="us-east-1"):
    """A request signed in the Authorization header; extra_after are unsigned headers the HTTP
    stack adds after signing (User-Agent is on botocore's never-sign list)."""
    creds = Credentials(AKID, SECRET, token)
    request = AWSRequest(method=method, url=url, headers=dict(headers), data=body.encode())
    signer = HeaderSigner(creds, service, region)
    signer.add_auth(request)
    canonical, sts = signer.captured
    wire = [(k, v) for k, v in request.headers.items()]
    host = host_from_canonical(canonical)
    if not any(k.lower() == "host" for k, _ in wire):
        wire.insert(0, ("Host", host))
    wire.extend(extra_after)
    return {
        "name": name, "kind": "header", "service": service, "region": region,
        "access_key": AKID, "secret": SECRET, "token": token or "", "epoch": EPOCH,
        "method": method, "target": wire_target(request.url), "sign_target": wire_target(url),
        "headers": wire, "body": body, "canonical_request": canonical, "string_to_sign": sts,
        "authorization": request.headers["Authorization"],
    }


def presign_case(name, service, url, token=None, expires=300, region="us-east-1"):
    creds = Credentials(AKID, SECRET, token)
    request = AWSRequest(method="GET", url=url)
    signer = QuerySigner(creds, service, region, expires=expires)
    signer.add_auth(request)
    canonical, sts = signer.captured
    host = host_from_canonical(canonical)
    wire = [("Host", host), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
            ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="), ("Sec-WebSocket-Version", "13"),
            ("User-Agent", "Go-http-client/1.1")]
    return {
        "name": name, "kind": "presign", "service": service, "region": region,
        "access_key": AKID, "secret": SECRET, "token": token or "", "epoch": EPOCH,
        "method": "GET", "target": wire_target(request.url), "sign_target": wire_target(url),
        "host": host, "expires": expires, "headers": wire, "body": "",
        "canonical_request": canonical, "string_to_sign": sts,
    }


def go_unsigned(body):
    return [("Content-Length", str(len(body))), ("Accept-Encoding", "gzip"),
            ("User-Agent", "Go-http-client/1.1")]


def python_unsigned(body):
    return [("Content-Length", str(len(body))), ("Accept-Encoding", "identity")]


def main():
    py_ua = ("User-Agent", "aws-cli/2.9.19 Python/3.11.2 Linux/6.1.0 source/x86_64.debian.12 "
                           "prompt/off command/ssm.start-session")
    json_headers = {"Content-Type": "application/x-amz-json-1.1",
                    "X-Amz-Target": "AmazonSSM.StartSession", "User-Agent": py_ua[1]}
    compact = '{"Target":"i-0123456789abcdef0"}'
    get_messages = ('{"Destination":"mi-0123456789abcdef0","MessagesRequestId":'
                    '"5f0d4d2a-9bb4-4e8b-9a41-0c1f6c2d7e11","VisibilityTimeoutInSeconds":10}')
    control = '{"MessageSchemaVersion":"1.0","RequestId":"9c3e54bf-cdf0-4b19-9771-a7f523ee5669"}'
    data = ('{"MessageSchemaVersion":"1.0","RequestId":"2cdec8ee-d098-4649-bf3a-119c94853b13",'
            '"ClientId":""}')
    cases = [
        header_case("ssm-json-python", "ssm", "https://ssm.us-east-1.amazonaws.com/",
                    json_headers, AWSCLI_BODY, extra_after=python_unsigned(AWSCLI_BODY)),
        header_case("ssm-json-python-token-port", "ssm", "http://127.0.0.1:18080/",
                    json_headers, AWSCLI_BODY, token=TOKEN,
                    extra_after=python_unsigned(AWSCLI_BODY)),
        header_case("ec2messages-json-go", "ec2messages", "https://127.0.0.1:18443/",
                    {"Content-Type": "application/x-amz-json-1.1",
                     "X-Amz-Target": "EC2WindowsMessageDeliveryService.GetMessages",
                     "Content-Length": str(len(get_messages))},
                    get_messages, token=TOKEN,
                    extra_after=[("Accept-Encoding", "gzip"),
                                 ("User-Agent", "aws-sdk-go/1.44.0 (go1.20; linux; amd64)")]),
        header_case("ssm-json-js-sdk", "ssm", "https://127.0.0.1:18443/",
                    {"amz-sdk-invocation-id": "0b7c1a43-1b06-4d5c-9d53-3f7d1c0e2a11",
                     "amz-sdk-request": "attempt=1; max=3",
                     "Content-Length": str(len(compact)),
                     "Content-Type": "application/x-amz-json-1.1",
                     "X-Amz-Content-Sha256": hashlib.sha256(compact.encode()).hexdigest(),
                     "X-Amz-Target": "AmazonSSM.StartSession",
                     "X-Amz-User-Agent": "aws-sdk-js/3.300.0   ua/2.0  api/ssm#3.300.0"},
                    compact, token=TOKEN,
                    extra_after=[("User-Agent", "aws-sdk-js/3.300.0 ua/2.0 os/linux")]),
        header_case("ssmmessages-control-channel", "ssmmessages",
                    "https://127.0.0.1:8443/v1/control-channel/mi-0123456789abcdef0",
                    {"Content-Type": "application/json"}, control, token=TOKEN,
                    extra_after=go_unsigned(control)),
        header_case("ssmmessages-data-channel", "ssmmessages",
                    "https://ssmmessages.eu-west-1.amazonaws.com/v1/data-channel/user-0a1b2c3d4e5f67890",
                    {"Content-Type": "application/json"}, data, region="eu-west-1",
                    extra_after=go_unsigned(data)),
        header_case("websocket-upgrade", "ssmmessages",
                    "https://127.0.0.1:8443/v1/control-channel/mi-0123456789abcdef0"
                    "?role=subscribe&stream=input", {}, "", token=TOKEN, method="GET",
                    extra_after=[("Upgrade", "websocket"), ("Connection", "Upgrade"),
                                 ("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ=="),
                                 ("Sec-WebSocket-Version", "13"),
                                 ("User-Agent", "Go-http-client/1.1")]),
        header_case("odd-path-and-spaced-header", "ssmmessages",
                    "http://Example.TEST:8080/v1/data-channel/user%40example.com%2Fa%20b~c!%24'()*",
                    {"Content-Type": "application/json",
                     "X-Amz-Meta-Note": "  several   spaces\tand\t tabs  "},
                    "{}", extra_after=go_unsigned("{}")),
        header_case("dot-segments-and-double-slashes", "ssmmessages",
                    "http://127.0.0.1:18080/v1/./junk/../data-channel//s-1/", {}, "", method="GET"),
        header_case("query-sorting-and-encoding", "ssm",
                    "http://127.0.0.1:18080/v1/x?b=2&a=%2F%20z&A=1&a=0&flag&empty=&u=%E1%88%B4",
                    {}, "", method="GET", token=TOKEN),
        header_case("date-header", "ssm", "https://127.0.0.1:18443/",
                    {"Content-Type": "application/x-amz-json-1.1",
                     "X-Amz-Target": "AmazonSSM.DescribeSessions",
                     "Date": "Thu, 01 Jan 1970 00:00:00 GMT"},
                    '{"State": "Active"}', extra_after=python_unsigned('{"State": "Active"}')),
        presign_case("presigned-stream-url", "ssmmessages",
                     "https://127.0.0.1:8443/v1/data-channel/user-0a1b2c3d4e5f67890"
                     "?role=publish_subscribe&cell-number=AAEAAQ", token=TOKEN),
        presign_case("presigned-default-port", "ssmmessages",
                     "https://ssmmessages.us-east-1.amazonaws.com:443/v1/data-channel/s-2"
                     "?role=publish_subscribe", expires=60),
    ]
    # One line, so a reader that also captures stderr can pick it out.
    print(json.dumps({"botocore_version": botocore.__version__, "python": sys.executable,
                      "cases": cases}))


if __name__ == "__main__":
    main()
