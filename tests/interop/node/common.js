// What the Node interop tests share: the mocksvc coordinates the Python runner (run_node.py)
// passes in the environment, the /_mock admin API over fetch, a tiny case runner, and the one
// place that explains a missing node_modules.
"use strict";

const path = require("node:path");

function requireInstalled(name) {
  try {
    return require(name);
  } catch (e) {
    if (e.code === "MODULE_NOT_FOUND") {
      console.error(
        `interop: cannot load npm package '${name}' from ${path.join(__dirname, "node_modules")}.\n` +
          "Run docker/install-deps.sh (it runs `npm ci` in tests/interop/node) and try again.");
      process.exit(1);
    }
    throw e;
  }
}

function env(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run this through tests/interop/run_node.py`);
  return v;
}

const svc = {
  endpoint: env("SSMH_ENDPOINT"),
  endpointTls: env("SSMH_ENDPOINT_TLS"),
  region: env("SSMH_REGION"),
  accessKeyId: env("SSMH_ACCESS_KEY_ID"),
  secretAccessKey: env("SSMH_SECRET_ACCESS_KEY"),
};

const SHELL_INSTANCE = "i-0123456789abcdef0";
const PORT_INSTANCE = "i-0fedcba9876543210";
// One admin call or one SDK call; the whole case has the ctest timeout on top.
const CALL_TIMEOUT_MS = 10000;

async function admin(method, route, body, expect) {
  const res = await fetch(svc.endpoint + route, {
    method,
    headers: body === undefined ? {} : { "content-type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: AbortSignal.timeout(CALL_TIMEOUT_MS),
  });
  const text = await res.text();
  if (expect !== undefined && res.status !== expect)
    throw new Error(`${method} ${route}: HTTP ${res.status} (wanted ${expect}): ${text.slice(0, 500)}`);
  return text ? JSON.parse(text) : null;
}

async function addInstances(count) {
  const ids = [];
  for (let n = 1; n <= count; n++) {
    const id = "i-" + (0xb000 + n).toString(16).padStart(17, "0");
    await admin("POST", "/_mock/instances", {
      InstanceId: id, Name: `node-${n}`, PlatformName: "Amazon Linux", PlatformVersion: "2023",
      AgentVersion: "3.3.987.0", IPAddress: `10.2.0.${n}`,
    }, 201);
    ids.push(id);
  }
  return ids;
}

// Polls state owned by mocksvc until `predicate` holds or the deadline passes.
async function waitUntil(predicate, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  let delay = 20;
  for (;;) {
    const v = await predicate();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, delay));
    delay = Math.min(delay * 2, 250);
  }
}

// `node file.js <case>`: runs one case from `cases`; exit 0 only if it passes.
function run(cases) {
  const name = process.argv[2];
  const fn = cases[name];
  if (!fn) {
    console.error(`unknown case '${name}'; cases: ${Object.keys(cases).join(", ")}`);
    process.exit(2);
  }
  fn().then(
    () => {
      console.log(`ok: ${name}`);
      process.exit(0);
    },
    (e) => {
      console.error(`FAILED: ${name}\n`, e);
      process.exit(1);
    });
}

module.exports = { requireInstalled, svc, admin, addInstances, waitUntil, run, SHELL_INSTANCE, PORT_INSTANCE, CALL_TIMEOUT_MS };
