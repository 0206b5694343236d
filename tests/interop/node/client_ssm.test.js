// npm @aws-sdk/client-ssm (v3) against mocksvc: its own SigV4 signer (which signs more headers
// than the Python clients), its JSON 1.1 protocol parser (epoch-second timestamps, error codes
// from the body or x-amzn-ErrorType), its paginators, and TLS trusted via NODE_EXTRA_CA_CERTS.
// Run by tests/interop/run_node.py, which starts mocksvc and passes its coordinates.
"use strict";

const assert = require("node:assert/strict");
const common = require("./common.js");
const { svc, admin, addInstances, waitUntil, SHELL_INSTANCE, PORT_INSTANCE } = common;
const sdk = common.requireInstalled("@aws-sdk/client-ssm");

function client({ endpoint = svc.endpoint, secretAccessKey = svc.secretAccessKey, accessKeyId = svc.accessKeyId } = {}) {
  return new sdk.SSMClient({
    endpoint,
    region: svc.region,
    credentials: { accessKeyId, secretAccessKey },
    maxAttempts: 1,
    requestHandler: { connectionTimeout: common.CALL_TIMEOUT_MS, requestTimeout: common.CALL_TIMEOUT_MS },
  });
}

async function expectError(promise, name, status = 400) {
  try {
    await promise;
  } catch (e) {
    assert.equal(e.name, name, `${e.name}: ${e.message}`);
    assert.equal(e.$metadata.httpStatusCode, status);
    assert.ok(e.$metadata.requestId, "a request id");
    assert.ok(e.message, "a message");
    return e;
  }
  assert.fail(`expected ${name}, the call succeeded`);
}

const cases = {
  async operations_round_trip() {
    const ssm = client();
    const started = await ssm.send(new sdk.StartSessionCommand({ Target: SHELL_INSTANCE, Reason: "js interop" }));
    const id = started.SessionId;
    assert.match(started.StreamUrl, new RegExp(`^ws://127\\.0\\.0\\.1:\\d+/v1/data-channel/${id}\\?`));
    assert.ok(started.TokenValue);

    const active = (await ssm.send(new sdk.DescribeSessionsCommand({ State: "Active" }))).Sessions;
    assert.deepEqual(active.map((s) => s.SessionId), [id]);
    assert.equal(active[0].Target, SHELL_INSTANCE);
    assert.equal(active[0].Reason, "js interop");
    // Epoch-second numbers become Dates; an ISO string would make the SDK throw.
    assert.ok(active[0].StartDate instanceof Date, "StartDate is a Date");
    assert.ok(Math.abs(active[0].StartDate.getTime() - Date.now()) < 600000, "StartDate is now-ish");

    const resumed = await ssm.send(new sdk.ResumeSessionCommand({ SessionId: id }));
    assert.equal(resumed.SessionId, id);
    assert.notEqual(resumed.TokenValue, started.TokenValue);

    const status = await ssm.send(new sdk.GetConnectionStatusCommand({ Target: SHELL_INSTANCE }));
    assert.equal(status.Target, SHELL_INSTANCE);
    assert.equal(status.Status.toLowerCase(), "connected");
    const gone = await ssm.send(new sdk.GetConnectionStatusCommand({ Target: "i-00000000000000001" }));
    assert.equal(gone.Status.toLowerCase(), "notconnected");

    const all = await ssm.send(new sdk.DescribeInstanceInformationCommand({}));
    assert.deepEqual(all.InstanceInformationList.map((i) => i.InstanceId).sort(), [SHELL_INSTANCE, PORT_INSTANCE].sort());
    assert.ok(all.InstanceInformationList[0].LastPingDateTime instanceof Date);
    const one = await ssm.send(new sdk.DescribeInstanceInformationCommand({
      InstanceInformationFilterList: [{ key: "InstanceIds", valueSet: [PORT_INSTANCE] }],
    }));
    assert.deepEqual(one.InstanceInformationList.map((i) => i.InstanceId), [PORT_INSTANCE]);
    const tagged = await ssm.send(new sdk.DescribeInstanceInformationCommand({
      Filters: [{ Key: "tag:Name", Values: ["shell-host"] }],
    }));
    assert.deepEqual(tagged.InstanceInformationList.map((i) => i.InstanceId), [SHELL_INSTANCE]);

    const ended = await ssm.send(new sdk.TerminateSessionCommand({ SessionId: id }));
    assert.equal(ended.SessionId, id);
    await waitUntil(async () => (await admin("GET", `/_mock/sessions/${id}`, undefined, 200)).state === "History",
      10000, "the session in History");
    const history = (await ssm.send(new sdk.DescribeSessionsCommand({ State: "History" }))).Sessions;
    assert.deepEqual(history.map((s) => s.SessionId), [id]);
    assert.ok(history[0].EndDate instanceof Date);
    const filtered = await ssm.send(new sdk.DescribeSessionsCommand({
      State: "History", Filters: [{ key: "SessionId", value: id }],
    }));
    assert.equal(filtered.Sessions.length, 1);
  },

  async paginators() {
    const extra = await addInstances(23); // 25 in all
    const ssm = client();
    const ids = [];
    let pages = 0;
    for await (const page of sdk.paginateDescribeInstanceInformation({ client: ssm, pageSize: 5 }, {})) {
      pages++;
      assert.ok(page.InstanceInformationList.length <= 5);
      ids.push(...page.InstanceInformationList.map((i) => i.InstanceId));
    }
    assert.equal(ids.length, 25);
    assert.equal(new Set(ids).size, 25);
    assert.ok(pages >= 5 && pages <= 6, `${pages} pages`);
    for (const id of extra) assert.ok(ids.includes(id), id);

    const started = [];
    for (let n = 0; n < 12; n++) {
      const target = n % 2 ? SHELL_INSTANCE : extra[n];
      started.push((await ssm.send(new sdk.StartSessionCommand({ Target: target }))).SessionId);
    }
    const seen = [];
    pages = 0;
    for await (const page of sdk.paginateDescribeSessions({ client: ssm, pageSize: 5 }, { State: "Active" })) {
      pages++;
      seen.push(...page.Sessions.map((s) => s.SessionId));
    }
    assert.equal(pages, 3);
    assert.deepEqual([...seen].sort(), [...started].sort());
    const onShell = [];
    for await (const page of sdk.paginateDescribeSessions({ client: ssm, pageSize: 2 },
      { State: "Active", Filters: [{ key: "Target", value: SHELL_INSTANCE }] })) {
      onShell.push(...page.Sessions.map((s) => s.SessionId));
    }
    assert.deepEqual(onShell.sort(), started.filter((_, n) => n % 2).sort());
  },

  async errors() {
    const ssm = client();
    const e = await expectError(ssm.send(new sdk.StartSessionCommand({ Target: "i-00000000000000001" })), "TargetNotConnected");
    assert.ok(e instanceof sdk.TargetNotConnected, "the modelled exception class");
    assert.equal(e.$fault, "client");
    await expectError(ssm.send(new sdk.StartSessionCommand({ Target: SHELL_INSTANCE, DocumentName: "No-Such-Document" })),
      "InvalidDocument");
    await expectError(ssm.send(new sdk.StartSessionCommand({
      Target: PORT_INSTANCE, DocumentName: "AWS-StartPortForwardingSession", Parameters: { portNumber: ["http"] },
    })), "InvalidParameters");
    await expectError(ssm.send(new sdk.ResumeSessionCommand({ SessionId: "tester-0123456789abcdef0" })), "DoesNotExistException");
    await expectError(ssm.send(new sdk.DescribeSessionsCommand({ State: "Bogus" })), "ValidationException");
    await expectError(ssm.send(new sdk.DescribeSessionsCommand({ State: "Active", MaxResults: 500 })), "ValidationException");
    await expectError(ssm.send(new sdk.DescribeSessionsCommand({ State: "Active", NextToken: "garbage" })), "InvalidNextToken");
    await expectError(ssm.send(new sdk.DescribeInstanceInformationCommand({ Filters: [{ Key: "Colour", Values: ["x"] }] })),
      "InvalidFilterKey");
    await expectError(client({ secretAccessKey: "not-the-secret" }).send(new sdk.StartSessionCommand({ Target: SHELL_INSTANCE })),
      "InvalidSignatureException");
    await expectError(client({ accessKeyId: "AKIAUNKNOWNKEY000000" }).send(new sdk.DescribeSessionsCommand({ State: "Active" })),
      "UnrecognizedClientException");
    const sessions = (await admin("GET", "/_mock/sessions", undefined, 200)).sessions;
    assert.deepEqual(sessions, []);
  },

  async tls_with_extra_ca_certs() {
    assert.ok(process.env.NODE_EXTRA_CA_CERTS, "run_node.py sets NODE_EXTRA_CA_CERTS to the mock's CA bundle");
    const ssm = client({ endpoint: svc.endpointTls });
    const started = await ssm.send(new sdk.StartSessionCommand({ Target: SHELL_INSTANCE }));
    assert.match(started.StreamUrl, /^wss:\/\/127\.0\.0\.1:\d+\//);
    const info = await ssm.send(new sdk.DescribeInstanceInformationCommand({}));
    assert.equal(info.InstanceInformationList.length, 2);
    await ssm.send(new sdk.TerminateSessionCommand({ SessionId: started.SessionId }));
  },
};

common.run(cases);
