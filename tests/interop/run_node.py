"""Runs one case of a Node interop script against its own mocksvc:

    run_node.py <script.js> <case>

Starts mocksvc (harness.MockSvc), runs $SSMH_NODE with the service's coordinates in SSMH_* and
NODE_EXTRA_CA_CERTS set to its CA bundle, then stops the service and checks it shut down
cleanly. Fails with a clear message when node or the npm packages are missing (never skips).
"""

import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import harness  # noqa: E402

NODE_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), "node")
REQUIRED_PACKAGES = ("@aws-sdk/client-ssm", "ssm-session", "ws")
# A Node case makes dozens of calls; the ctest TIMEOUT (a little longer) is the outer bound.
NODE_TIMEOUT_S = 90


def fail(message):
    sys.stderr.write("interop: %s\n" % message)
    return 1


def main(argv):
    if len(argv) != 3:
        return fail("usage: run_node.py <script.js> <case>")
    script, case = argv[1], argv[2]
    node = os.environ.get("SSMH_NODE", "")
    if not node or not os.access(node, os.X_OK):
        return fail("Node.js not found (SSMH_NODE=%r): run docker/install-deps.sh, then re-run cmake" % node)
    missing = [p for p in REQUIRED_PACKAGES
               if not os.path.isfile(os.path.join(NODE_DIR, "node_modules", p, "package.json"))]
    if missing:
        return fail("npm packages %s are not installed in %s/node_modules: run docker/install-deps.sh "
                    "(it runs `npm ci` there)" % (", ".join(missing), NODE_DIR))

    harness.isolate_environment()
    svc = harness.MockSvc()
    try:
        svc.start()
        env = dict(os.environ)
        env.update({
            "SSMH_ENDPOINT": svc.endpoint,
            "SSMH_ENDPOINT_TLS": svc.endpoint_tls,
            "SSMH_REGION": svc.region,
            "SSMH_ACCESS_KEY_ID": svc.access_key_id,
            "SSMH_SECRET_ACCESS_KEY": svc.secret_access_key,
            "NODE_EXTRA_CA_CERTS": svc.ca_bundle,
        })
        try:
            proc = subprocess.run([node, os.path.join(NODE_DIR, script), case], env=env, cwd=NODE_DIR,
                                  stdin=subprocess.DEVNULL, timeout=NODE_TIMEOUT_S,
                                  preexec_fn=harness.die_with_parent)
            status = proc.returncode
        except subprocess.TimeoutExpired:
            status = fail("%s %s did not finish within %d s" % (script, case, NODE_TIMEOUT_S))
    except Exception as e:  # startup failures carry mocksvc's stderr
        status = fail(str(e))
    finally:
        stopped = svc.stop()
        log = svc.stderr_text()
        svc.cleanup()
    if status != 0:
        sys.stderr.write("--- mocksvc stderr (tail) ---\n%s\n" % log)
        return 1
    if stopped != 0:
        return fail("mocksvc did not shut down cleanly (exit %s)\n--- stderr ---\n%s" % (stopped, log))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
