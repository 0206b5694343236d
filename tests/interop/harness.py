"""Shared harness for the interop tests: starts one mocksvc per test process, reads its ready
line, talks to its /_mock admin API and stops it cleanly. Standard library only, so it runs
under Debian's /usr/bin/python3 next to the real clients it drives.

Every wait has a deadline; nothing sleeps to wait for readiness (the ready line is the signal).
The mocksvc binary comes from $SSMH_MOCKSVC (CMake passes $<TARGET_FILE:mocksvc>).
"""

import json
import os
import selectors
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.error
import urllib.request
import warnings

# mocksvc generates its CA and server certificate on first start: allow for a loaded machine.
READY_TIMEOUT_S = 30
# A clean stop closes every session and listener; anything slower is a shutdown bug.
STOP_TIMEOUT_S = 15
# One client command (an awscli run is a fresh Python interpreter: about a second when idle).
COMMAND_TIMEOUT_S = 60
ADMIN_TIMEOUT_S = 10

SHELL_INSTANCE = "i-0123456789abcdef0"
PORT_INSTANCE = "i-0fedcba9876543210"


def die_with_parent():
    """preexec_fn: the child gets SIGTERM when this harness dies (a ctest timeout kills only the
    harness), so no mocksvc or client outlives its test."""
    import ctypes
    pr_set_pdeathsig = 1
    ctypes.CDLL(None, use_errno=True).prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)


class MockSvc:
    """One mocksvc process on 127.0.0.1:0 with its own state directory."""

    def __init__(self, config=None, extra_args=()):
        binary = os.environ.get("SSMH_MOCKSVC", "")
        if not binary or not os.access(binary, os.X_OK):
            raise RuntimeError("SSMH_MOCKSVC must name the built mocksvc binary (got %r)" % binary)
        self.binary = binary
        self.config = config
        self.extra_args = list(extra_args)
        self.state_dir = tempfile.mkdtemp(prefix="ssmh-interop-")
        self.log_path = os.path.join(self.state_dir, "mocksvc.stderr")
        self.proc = None
        self.ready = None
        self._stdout_tail = []

    # ---- lifecycle ----

    def start(self):
        args = [self.binary, "--listen", "127.0.0.1:0", "--state-dir", self.state_dir,
                "--log-level", "warn"]
        if self.config is not None:
            path = os.path.join(self.state_dir, "config.json")
            with open(path, "w") as f:
                json.dump(self.config, f)
            args += ["--config", path]
        args += self.extra_args
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=self._log, preexec_fn=die_with_parent)
        line = self._read_first_line(READY_TIMEOUT_S)
        try:
            ready = json.loads(line)
        except ValueError:
            self._abort("the first stdout line is not JSON: %r" % line)
        if ready.get("event") != "ready":
            self._abort("the first stdout line is not the ready event: %r" % line)
        self.ready = ready
        # The rest of stdout (how-to-connect text) is drained so the service never blocks on it.
        threading.Thread(target=self._drain_stdout, daemon=True).start()
        return ready

    def _read_first_line(self, timeout):
        deadline = time.monotonic() + timeout
        fd = self.proc.stdout.fileno()
        buf = b""
        sel = selectors.DefaultSelector()
        sel.register(fd, selectors.EVENT_READ)
        try:
            while b"\n" not in buf:
                left = deadline - time.monotonic()
                if left <= 0:
                    self._abort("no ready line within %d s" % timeout)
                if not sel.select(left):
                    continue
                chunk = os.read(fd, 4096)
                if not chunk:
                    self.proc.wait(timeout=STOP_TIMEOUT_S)
                    self._abort("mocksvc exited with %s before it was ready" % self.proc.returncode)
                buf += chunk
        finally:
            sel.close()
        first, _, rest = buf.partition(b"\n")
        self._stdout_tail.append(rest)
        return first.decode("utf-8", "replace")

    def _drain_stdout(self):
        try:
            for chunk in iter(lambda: self.proc.stdout.read1(4096), b""):
                self._stdout_tail = (self._stdout_tail + [chunk])[-16:]
        except (OSError, ValueError):
            pass

    def _abort(self, why):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(timeout=STOP_TIMEOUT_S)
        raise RuntimeError("mocksvc did not start: %s\n--- mocksvc stderr ---\n%s" % (why, self.stderr_text()))

    def stderr_text(self, limit=4000):
        try:
            with open(self.log_path, "rb") as f:
                data = f.read()
        except OSError:
            return ""
        return data[-limit:].decode("utf-8", "replace")

    def stop(self):
        """SIGTERM, then wait; returns the exit status. Kills (and reports) a hung service."""
        if self.proc is None:
            return 0
        status = self.proc.poll()
        if status is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                status = self.proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=STOP_TIMEOUT_S)
                status = "hung"
        self.proc.stdout.close()
        self._log.close()
        self.proc = None
        return status

    def cleanup(self):
        shutil.rmtree(self.state_dir, ignore_errors=True)

    # ---- what the ready line says ----

    @property
    def endpoint(self):
        return self.ready["endpoint"]

    @property
    def endpoint_tls(self):
        return self.ready["endpoint_tls"]

    @property
    def ca_bundle(self):
        return self.ready["ca_bundle"]

    @property
    def region(self):
        return self.ready["region"]

    @property
    def access_key_id(self):
        return self.ready["access_key_id"]

    @property
    def secret_access_key(self):
        return self.ready["secret_access_key"]

    # ---- the /_mock admin API ----

    def admin(self, method, path, body=None, expect=None):
        """Returns (status, parsed JSON or None). `expect` asserts the status."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.endpoint + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        try:
            with urllib.request.urlopen(req, timeout=ADMIN_TIMEOUT_S) as resp:
                status, raw = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        parsed = json.loads(raw) if raw else None
        if expect is not None and status != expect:
            raise AssertionError("%s %s: HTTP %d (wanted %d): %s" % (method, path, status, expect, raw[:500]))
        return status, parsed

    def sessions(self):
        return self.admin("GET", "/_mock/sessions", expect=200)[1]["sessions"]

    def session(self, session_id):
        return self.admin("GET", "/_mock/sessions/" + session_id, expect=200)[1]

    def add_instances(self, count, first=1, **fields):
        """Adds `count` emulated Linux instances i-00000000000000NNN (hex) and returns their ids."""
        ids = []
        for n in range(first, first + count):
            instance_id = "i-%017x" % (0xa000 + n)
            spec = {"InstanceId": instance_id, "Name": "extra-%d" % n,
                    "Tags": [{"Key": "env", "Value": "bulk"}], "PlatformName": "Amazon Linux",
                    "PlatformVersion": "2023", "AgentVersion": "3.3.987.0",
                    "IPAddress": "10.1.%d.%d" % (n // 250, n % 250 + 1)}
            spec.update(fields)
            self.admin("POST", "/_mock/instances", spec, expect=201)
            ids.append(instance_id)
        return ids

    def audit(self, limit=1000):
        events = self.admin("GET", "/_mock/audit?limit=%d" % limit, expect=200)[1]["events"]
        return [e if isinstance(e, dict) else json.loads(e) for e in events]


def wait_until(predicate, timeout, what):
    """Polls `predicate` (state owned by another process) until true or the deadline."""
    deadline = time.monotonic() + timeout
    delay = 0.02
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %.0f s waiting for %s" % (timeout, what))
        time.sleep(delay)
        delay = min(delay * 2, 0.25)


class MockSvcTestCase(unittest.TestCase):
    """Starts one mocksvc for the class (one ctest test runs one class method in its own
    process) and resets it before each test. Subclasses may set CONFIG (a config-file object)."""

    CONFIG = None

    @classmethod
    def setUpClass(cls):
        cls.svc = MockSvc(config=cls.CONFIG)
        try:
            cls.svc.start()
        except Exception:
            cls.svc.cleanup()
            raise

    @classmethod
    def tearDownClass(cls):
        status = cls.svc.stop()
        log = cls.svc.stderr_text()
        cls.svc.cleanup()
        if status != 0:
            raise AssertionError("mocksvc did not shut down cleanly (exit %s)\n--- stderr ---\n%s" % (status, log))

    def setUp(self):
        self.svc.admin("POST", "/_mock/reset", {}, expect=200)

    def run(self, result=None):
        # On failure, show what the service logged: it is usually the quickest explanation.
        before = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > before:
            sys.stderr.write("\n--- mocksvc stderr (tail) ---\n%s\n" % self.svc.stderr_text())
        return out


def isolate_environment():
    """Keeps the developer's AWS settings (profiles, CA bundles, endpoints) out of the tests."""
    for name in list(os.environ):
        if name.startswith("AWS_"):
            del os.environ[name]
    os.environ.update({"AWS_CONFIG_FILE": "/dev/null", "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
                       "AWS_EC2_METADATA_DISABLED": "true", "AWS_PAGER": ""})


def main():
    """`python3 test_x.py Class.test_name ...`: runs the named tests, exit 0 only if all pass."""
    isolate_environment()
    # Clients left to the garbage collector close their sockets there; that is not a finding.
    # (Naming a filter in sys.warnoptions also stops unittest from resetting the filters.)
    sys.warnoptions.append("ignore::ResourceWarning")
    warnings.simplefilter("ignore", ResourceWarning)
    unittest.main(module="__main__", verbosity=2)
