#!/usr/bin/env node
// An example Node.js client of the inventory.v1 gRPC API.
//
// It creates an item on the command-service, checks in 5 units, then reads
// the item back from the query-service with read-your-writes: GetItem waits
// until the read model has applied the check-in's global_position.
//
// Nothing is generated: @grpc/proto-loader reads the .proto files of
// proto/ (two folders up) when the client starts, and protobufjs the
// google/rpc ones that decode a refusal's details.
//
//   node inventory_client.js [--command=127.0.0.1:50051]
//       [--query=127.0.0.1:50052] [--item=ID] [--proto=DIR]
//
// On failure it prints one line, "error: <CODE>: <message>", and exits 1;
// when the service refused the call, the reason it gives in the status
// details (google.rpc.ErrorInfo) follows the code:
// "error: ALREADY_EXISTS (ITEM_ALREADY_EXISTS): item already exists".
'use strict';

const crypto = require('crypto');
const fs = require('fs');
const path = require('path');
const { parseArgs } = require('util');

const DEADLINE_MS = 10000;
const QUANTITY = 5;
// The ErrorInfo domain of the inventory services' reasons.
const ERROR_DOMAIN = 'inventory.v1';

function fail(message) {
  process.stderr.write(`error: ${String(message).split(/\s+/).join(' ').trim()}\n`);
  process.exit(1);
}

function usage() {
  return [
    'usage: inventory_client.js [--command=HOST:PORT] [--query=HOST:PORT] [--item=ID] [--proto=DIR]',
    '',
    'Create an item, check in stock, and read it back (read-your-writes)',
    'through the inventory.v1 gRPC API.',
    '',
    '  --command  command-service address (default: 127.0.0.1:50051)',
    '  --query    query-service address (default: 127.0.0.1:50052)',
    '  --item     item id to create (default: a new unique id)',
    '  --proto    folder holding inventory/v1/*.proto (default: ../../proto)',
  ].join('\n');
}

function parseFlags() {
  try {
    const { values } = parseArgs({
      options: {
        command: { type: 'string', default: '127.0.0.1:50051' },
        query: { type: 'string', default: '127.0.0.1:50052' },
        item: { type: 'string', default: `widget-node-${crypto.randomBytes(6).toString('hex')}` },
        proto: { type: 'string', default: path.resolve(__dirname, '..', '..', 'proto') },
        help: { type: 'boolean', short: 'h', default: false },
      },
    });
    return values;
  } catch (e) {
    process.stderr.write(`${usage()}\n\nerror: ${e.message}\n`);
    process.exit(2);
  }
}

function loadApi(protoDir) {
  let grpc;
  let protoLoader;
  let protobuf;
  try {
    grpc = require('@grpc/grpc-js');
    protoLoader = require('@grpc/proto-loader');
    protobuf = require('protobufjs');
  } catch (e) {
    fail(`cannot load @grpc/grpc-js, @grpc/proto-loader or protobufjs (${e.message}); run \`npm ci\` in ${__dirname}`);
  }
  const files = ['command_service.proto', 'query_service.proto'].map((f) =>
    path.join(protoDir, 'inventory', 'v1', f));
  for (const f of files) {
    if (!fs.existsSync(f)) fail(`${f} not found; pass --proto=<the repository's proto/ folder>`);
  }
  let definition;
  try {
    definition = protoLoader.loadSync(files, {
      // google/protobuf/timestamp.proto: proto-loader knows it; Debian's
      // libprotobuf-dev also has it in /usr/include.
      includeDirs: [protoDir, '/usr/include'],
      keepCase: true, // field names as in the .proto: quantity_on_hand
      longs: String, // int64 as decimal strings: no precision lost
      defaults: true,
      oneofs: true,
    });
  } catch (e) {
    fail(`cannot load the .proto files in ${protoDir}: ${e.message}`);
  }
  const v1 = grpc.loadPackageDefinition(definition).inventory.v1;
  let errorTypes;
  try {
    const root = new protobuf.Root();
    root.resolvePath = (origin, target) => path.join(protoDir, target);
    root.loadSync(['google/rpc/status.proto', 'google/rpc/error_details.proto'],
      { keepCase: true });
    errorTypes = {
      Status: root.lookupType('google.rpc.Status'),
      ErrorInfo: root.lookupType('google.rpc.ErrorInfo'),
    };
  } catch (e) {
    fail(`cannot load google/rpc/*.proto in ${protoDir}: ${e.message}`);
  }
  return { grpc, v1, errorTypes };
}

// "<CODE> (<REASON>): <message>" for a failed call. The reason is the
// google.rpc.ErrorInfo in the google.rpc.Status that the services send in
// the "grpc-status-details-bin" trailer; errors of gRPC itself (say, an
// unreachable server) have none.
function describe(grpc, errorTypes, e) {
  let reason = '';
  const values = e.metadata ? e.metadata.get('grpc-status-details-bin') : [];
  for (const value of values) {
    for (const detail of errorTypes.Status.decode(value).details) {
      if (detail.type_url.endsWith('/google.rpc.ErrorInfo')) {
        const info = errorTypes.ErrorInfo.decode(detail.value);
        if (info.domain === ERROR_DOMAIN) reason = info.reason;
      }
    }
  }
  // grpc-js may end its details with an empty "Resolution note:".
  const details = String(e.details || e.message).replace(/\s*Resolution note:\s*$/, '');
  const code = grpc.status[e.code] || e.code;
  return `${code}${reason ? ` (${reason})` : ''}: ${details}`;
}

// Calls a unary method with a deadline; resolves to the response.
function call(client, method, request) {
  return new Promise((resolve, reject) => {
    client[method](request, { deadline: Date.now() + DEADLINE_MS }, (err, response) =>
      (err ? reject(err) : resolve(response)));
  });
}

async function main() {
  const flags = parseFlags();
  if (flags.help) {
    process.stdout.write(`${usage()}\n`);
    return;
  }
  const { grpc, v1, errorTypes } = loadApi(flags.proto);
  const credentials = grpc.credentials.createInsecure();
  const command = new v1.CommandService(flags.command, credentials);
  const query = new v1.QueryService(flags.query, credentials);
  try {
    const created = await call(command, 'CreateItem',
      { item_id: flags.item, sku: 'WID-1', name: 'Widget' });
    console.log(`created ${created.item_id}: version=${created.version} global_position=${created.global_position}`);

    const checkedIn = await call(command, 'CheckInItems',
      { item_id: flags.item, quantity: QUANTITY });
    console.log(`checked in ${QUANTITY}: version=${checkedIn.version} global_position=${checkedIn.global_position}`);

    // Read-your-writes: wait until the read model has applied the check-in.
    const response = await call(query, 'GetItem',
      { item_id: flags.item, min_position: checkedIn.global_position });
    const { item } = response;
    console.log(`item ${item.item_id}: sku=${item.sku} name=${JSON.stringify(item.name)} ` +
      `quantity_on_hand=${item.quantity_on_hand} active=${item.active} version=${item.version} ` +
      `(read model at position ${response.position})`);
  } catch (e) {
    if (typeof e.code !== 'number') throw e;
    fail(describe(grpc, errorTypes, e));
  } finally {
    command.close();
    query.close();
  }
}

main().catch((e) => fail(e && e.stack ? e.message : e));
