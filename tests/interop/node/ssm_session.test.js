// npm ssm-session (a third-party data-channel client, ssm-api.md §5) against mocksvc: StartSession
// through @aws-sdk/client-ssm, the StreamUrl opened with npm ws, and ssm-session's own init /
// sendText / sendACK / decode for an interactive shell on the emulated Linux instance. What it
// sends is not what the official plugin sends (no ClientId, NUL-left-padded message types, a hex
// string as payload digest, size as PT 3 with flags 1), and it decodes only what is space-padded:
// a shell working end to end means the service tolerates the first and produces the second.
// The client loop is the one from ssm-session's README: every received message is acknowledged
// (acknowledgements and channel_closed included), keystrokes go out one message each.
"use strict";

const assert = require("node:assert/strict");
const common = require("./common.js");
const { svc, admin, waitUntil, SHELL_INSTANCE } = common;
const sdk = common.requireInstalled("@aws-sdk/client-ssm");
const WebSocket = common.requireInstalled("ws");
const { ssm } = common.requireInstalled("ssm-session");

// Each phase (prompt, command output, channel_closed) must arrive within this.
const PHASE_TIMEOUT_MS = 15000;

class ShellSession {
  constructor(url, token) {
    this.text = "";
    this.types = [];
    this.closedPayload = null;
    this.waiters = [];
    this.ws = new WebSocket(url, { handshakeTimeout: PHASE_TIMEOUT_MS });
    this.ws.binaryType = "arraybuffer";
    this.opened = new Promise((resolve, reject) => {
      this.ws.once("open", () => {
        ssm.init(this.ws, { token, termOptions: { rows: 24, cols: 80 } });
        resolve();
      });
      this.ws.once("error", reject);
    });
    this.ws.on("message", (data) => this.onMessage(data));
    this.ws.on("close", () => this.notify());
    this.ws.on("error", (e) => {
      this.error = e;
      this.notify();
    });
  }

  onMessage(data) {
    const msg = ssm.decode(data);
    this.types.push(msg.messageType);
    ssm.sendACK(this.ws, msg);
    if (msg.messageType === "output_stream_data" && msg.payloadType === 1) {
      this.text += Buffer.from(msg.payload).toString("utf8");
    } else if (msg.messageType === "channel_closed") {
      this.closedPayload = JSON.parse(Buffer.from(msg.payload).toString("utf8"));
    }
    this.notify();
  }

  // One message per keystroke, as a terminal hands them over while someone types; `encode`
  // turns a keystroke into what sendText is given (a string, or bytes as in the README).
  type(text, encode) {
    for (const ch of text) ssm.sendText(this.ws, encode(ch));
  }

  notify() {
    for (const w of this.waiters.splice(0)) w();
  }

  // Resolves once predicate() holds; fails after PHASE_TIMEOUT_MS with what was seen so far.
  waitFor(predicate, what) {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        reject(new Error(`timed out waiting for ${what}; message types ${JSON.stringify(this.types.slice(-20))}, ` +
          `shell text so far ${JSON.stringify(this.text)}`));
      }, PHASE_TIMEOUT_MS);
      const check = () => {
        if (predicate()) {
          clearTimeout(timer);
          resolve();
        } else if (this.error || this.ws.readyState === WebSocket.CLOSED) {
          clearTimeout(timer);
          reject(new Error(`the WebSocket ${this.error ? "failed (" + this.error.message + ")" : "closed"} while ` +
            `waiting for ${what}; shell text ${JSON.stringify(this.text)}`));
        } else {
          this.waiters.push(check);
        }
      };
      check();
    });
  }
}

// Opens a shell, runs a command typed keystroke by keystroke, pastes `exit`, and expects
// channel_closed and a Terminated session. `encode` chooses how input reaches sendText.
async function shellSession(encode, endpoint = svc.endpoint) {
  const client = new sdk.SSMClient({
    endpoint, region: svc.region, maxAttempts: 1,
    requestHandler: { connectionTimeout: common.CALL_TIMEOUT_MS, requestTimeout: common.CALL_TIMEOUT_MS },
    credentials: { accessKeyId: svc.accessKeyId, secretAccessKey: svc.secretAccessKey },
  });
  const started = await client.send(new sdk.StartSessionCommand({ Target: SHELL_INSTANCE }));
  assert.equal(started.StreamUrl.split(":")[0], endpoint.startsWith("https:") ? "wss" : "ws");
  const shell = new ShellSession(started.StreamUrl, started.TokenValue);
  await shell.opened;

  await shell.waitFor(() => shell.text.endsWith("$ "), "the first prompt");
  await waitUntil(async () => (await admin("GET", `/_mock/sessions/${started.SessionId}`, undefined, 200)).Status === "Connected",
    PHASE_TIMEOUT_MS, "the session to be Connected");

  shell.type("echo interop-$(whoami)-$(hostname)\r", encode);
  // The terminal echoes the line as typed, then the command's expanded output, then a prompt.
  await shell.waitFor(() => /\r\ninterop-ssm-user-ip-10-0-0-11\r\n\$ $/.test(shell.text), "the echo output");
  assert.ok(shell.text.includes("echo interop-$(whoami)-$(hostname)\r\n"), "the typed line is echoed");

  ssm.sendText(shell.ws, encode("exit\r"));  // a paste: the whole line in one message
  await shell.waitFor(() => shell.closedPayload !== null, "channel_closed");
  assert.equal(shell.closedPayload.SessionId, started.SessionId);
  assert.equal(shell.closedPayload.MessageType, "channel_closed");
  shell.ws.close();

  await waitUntil(async () => (await admin("GET", `/_mock/sessions/${started.SessionId}`, undefined, 200)).state === "History",
    PHASE_TIMEOUT_MS, "the session in History");
  const history = (await client.send(new sdk.DescribeSessionsCommand({ State: "History" }))).Sessions;
  assert.deepEqual(history.map((s) => s.SessionId), [started.SessionId]);
  assert.equal(history[0].Status, "Terminated");
}

const cases = {
  // sendText(connection, "text"): ssm-session's digest is then the hex SHA-256 prefix.
  async shell_echo_and_exit() {
    await shellSession((text) => text);
  },
  // The same over https and wss, the private CA trusted through NODE_EXTRA_CA_CERTS.
  async shell_over_wss() {
    await shellSession((text) => text, svc.endpointTls);
  },
  // sendText(connection, textEncoder.encode(data)) as in the README's xterm example: the
  // library's string-only SHA-256 then hashes something else, so the digest matches nothing.
  async shell_accepts_keystrokes_as_bytes() {
    await shellSession((text) => new TextEncoder().encode(text));
  },
};

common.run(cases);
