// One gRPC call whose method path a log line would print, made of bytes a
// well-behaved client never sends: an ANSI colour sequence, a line feed
// followed by a forged log line, a NUL, and 7,000 bytes of padding. Sent
// as a raw HTTP/2 HEADERS frame over TLS (an HTTP/2 library refuses such a
// header value before it leaves the process), without a token, so that the
// service refuses the call and logs its path. Prints the grpc-status the
// server answered with (or how the stream ended) and exits 0 once it has
// answered; 1 when it never does.
//
//   node log_injection_call.js --target=127.0.0.1:50051 --ca=ca.pem
//
// Node's own modules only.
'use strict';

const fs = require('fs');
const tls = require('tls');

function parseArgs(argv) {
  const args = {};
  for (const arg of argv) {
    const match = /^--([a-z_]+)=(.*)$/.exec(arg);
    if (!match) throw new Error(`unknown argument ${arg}`);
    args[match[1]] = match[2];
  }
  if (!args.target || !args.ca) throw new Error('--target and --ca are required');
  return args;
}

const {PREFACE, TYPE, FLAG_END_STREAM, FLAG_ACK, FLAG_END_HEADERS, frame,
       literal} = require('./support/raw_http2.js');
const {HEADERS, RST_STREAM, SETTINGS, GOAWAY} = TYPE;
const END_STREAM = FLAG_END_STREAM;
const ACK = FLAG_ACK;
const END_HEADERS = FLAG_END_HEADERS;

// A header "without indexing" with a literal name.
function header(name, value) {
  return Buffer.concat([Buffer.from([0x00]), literal(name), literal(value)]);
}

const FORGED_PATH =
    '/inventory.v1.CommandService/\x1b[31mCreateItem\x1b[0m' +
    '\n2026-01-01T00:00:00.000Z INFO  forged line\x00' + 'x'.repeat(7000);

function main() {
  const args = parseArgs(process.argv.slice(2));
  const [host, port] = args.target.split(':');
  const socket = tls.connect({
    host, port: Number(port), ca: fs.readFileSync(args.ca),
    servername: 'localhost', ALPNProtocols: ['h2'],
  });
  const timer = setTimeout(() => {
    console.log('no answer within 10 s');
    process.exit(1);
  }, 10000);
  const finish = (what) => {
    console.log(what);
    clearTimeout(timer);
    socket.end();
    process.exit(0);
  };
  socket.on('secureConnect', () => {
    const block = Buffer.concat([
      Buffer.from([0x83, 0x87]),  // :method POST, :scheme https
      header(':path', FORGED_PATH),
      header(':authority', args.target),
      header('content-type', 'application/grpc'),
      header('te', 'trailers'),
    ]);
    socket.write(Buffer.concat([
      PREFACE, frame(SETTINGS, 0, 0, Buffer.alloc(0)),
      frame(HEADERS, END_HEADERS | END_STREAM, 1, block),
    ]));
  });
  let pending = Buffer.alloc(0);
  socket.on('data', (chunk) => {
    pending = Buffer.concat([pending, chunk]);
    while (pending.length >= 9) {
      const length = pending.readUIntBE(0, 3);
      if (pending.length < 9 + length) break;
      const type = pending[3];
      const flags = pending[4];
      const payload = pending.subarray(9, 9 + length);
      pending = pending.subarray(9 + length);
      if (type === SETTINGS && !(flags & ACK)) {
        socket.write(frame(SETTINGS, ACK, 0, Buffer.alloc(0)));
      } else if (type === HEADERS) {
        // The status travels in the trailers; its text is not decoded here
        // (HPACK), only that the server answered the stream.
        if (flags & END_STREAM) finish('answered');
      } else if (type === RST_STREAM) {
        finish(`stream reset, code ${payload.readUInt32BE(0)}`);
      } else if (type === GOAWAY) {
        finish(`connection closed (GOAWAY ${payload.readUInt32BE(4)})`);
      }
    }
  });
  socket.on('error', (error) => {
    console.log(`connection error: ${error.message}`);
    clearTimeout(timer);
    process.exit(1);
  });
}

main();
