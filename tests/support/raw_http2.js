// Raw HTTP/2 for tests that must send what an HTTP/2 library refuses to
// (streams reset before their HEADERS left, header values with control
// bytes): the connection preface, frame types and flags, a frame, and an
// HPACK string literal. HPACK is used without the dynamic table (indexed
// static entries and literals "without indexing"), so every header block
// decodes alone. Node's own modules only.
'use strict';

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
const TYPE = {DATA: 0, HEADERS: 1, RST_STREAM: 3, SETTINGS: 4, PING: 6,
              GOAWAY: 7, WINDOW_UPDATE: 8};
const FLAG_END_STREAM = 0x1;
const FLAG_ACK = 0x1;
const FLAG_END_HEADERS = 0x4;

function frame(type, flags, streamId, payload) {
  const header = Buffer.alloc(9);
  header.writeUIntBE(payload.length, 0, 3);
  header[3] = type;
  header[4] = flags;
  header.writeUInt32BE(streamId & 0x7fffffff, 5);
  return Buffer.concat([header, payload]);
}

// An HPACK string literal, not Huffman-coded, of any length.
function literal(value) {
  const bytes = Buffer.from(value, 'latin1');
  const prefix = [];
  if (bytes.length < 127) {
    prefix.push(bytes.length);
  } else {
    prefix.push(127);
    let rest = bytes.length - 127;
    while (rest >= 128) {
      prefix.push((rest % 128) + 128);
      rest = Math.floor(rest / 128);
    }
    prefix.push(rest);
  }
  return Buffer.concat([Buffer.from(prefix), bytes]);
}

module.exports = {PREFACE, TYPE, FLAG_END_STREAM, FLAG_ACK, FLAG_END_HEADERS,
                  frame, literal};
