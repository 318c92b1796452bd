#!/usr/bin/env python3
"""An example Python client of the inventory.v1 gRPC API.

It creates an item on the command-service, checks in 5 units, then reads
the item back from the query-service with read-your-writes: GetItem waits
until the read model has applied the check-in's global_position.

The messages and stubs are generated from proto/ (see examples/README.md);
the build puts them in <build dir>/examples/python (target python_stubs).

    python3 inventory_client.py [--command=127.0.0.1:50051]
        [--query=127.0.0.1:50052] [--item=ID] [--stubs=DIR]

On failure it prints one line, "error: <CODE>: <message>", and exits 1;
when the service refused the call, the reason it gives in the status
details (google.rpc.ErrorInfo) follows the code:
"error: ALREADY_EXISTS (ITEM_ALREADY_EXISTS): item already exists".
"""
import argparse
import json
import os
import sys
import uuid

DEADLINE_SECONDS = 10
QUANTITY = 5
# The ErrorInfo domain of the inventory services' reasons.
ERROR_DOMAIN = "inventory.v1"


def fail(message):
    print("error: " + " ".join(str(message).split()), file=sys.stderr)
    sys.exit(1)


def describe(error, status_pb2, error_details_pb2):
    """'<CODE> (<REASON>): <message>' for a failed call. The reason is the
    google.rpc.ErrorInfo in the google.rpc.Status that the services send in
    the "grpc-status-details-bin" trailer; errors of gRPC itself (say, an
    unreachable server) have none."""
    reason = None
    for key, value in error.trailing_metadata() or ():
        if key != "grpc-status-details-bin":
            continue
        for detail in status_pb2.Status.FromString(value).details:
            info = error_details_pb2.ErrorInfo()
            if detail.Unpack(info) and info.domain == ERROR_DOMAIN:
                reason = info.reason
    code = error.code().name
    if reason:
        code = "%s (%s)" % (code, reason)
    return "%s: %s" % (code, error.details())


def find_stubs(explicit):
    """The directory of the generated stubs: --stubs, INVENTORY_PY_STUBS, or
    the usual build directories of this repository."""
    if explicit:
        return explicit
    if os.environ.get("INVENTORY_PY_STUBS"):
        return os.environ["INVENTORY_PY_STUBS"]
    root = os.path.dirname(os.path.dirname(os.path.dirname(
        os.path.abspath(__file__))))
    for build in ("build", "build-release"):
        candidate = os.path.join(root, build, "examples", "python")
        if os.path.isdir(os.path.join(candidate, "inventory")):
            return candidate
    return None


def main():
    parser = argparse.ArgumentParser(
        description="Create an item, check in stock, and read it back "
        "(read-your-writes) through the inventory.v1 gRPC API.")
    parser.add_argument("--command", default="127.0.0.1:50051",
                        help="command-service address (default: %(default)s)")
    parser.add_argument("--query", default="127.0.0.1:50052",
                        help="query-service address (default: %(default)s)")
    parser.add_argument("--item", default="widget-py-" + uuid.uuid4().hex[:12],
                        help="item id to create (default: a new unique id)")
    parser.add_argument("--stubs",
                        help="directory of the generated Python stubs "
                        "(default: $INVENTORY_PY_STUBS, else build/ or "
                        "build-release/examples/python)")
    args = parser.parse_args()

    stubs = find_stubs(args.stubs)
    if stubs is None or not os.path.isdir(os.path.join(stubs, "inventory")):
        fail("generated stubs not found%s; build them with "
             "`cmake --build build --target python_stubs` and pass "
             "--stubs=build/examples/python (or set INVENTORY_PY_STUBS)"
             % ("" if stubs is None else " in " + stubs))
    sys.path.insert(0, stubs)
    try:
        import grpc
        from inventory.v1 import command_service_pb2 as commands
        from inventory.v1 import command_service_pb2_grpc as commands_grpc
        from inventory.v1 import query_service_pb2 as queries
        from inventory.v1 import query_service_pb2_grpc as queries_grpc
        from google.rpc import error_details_pb2, status_pb2
    except ImportError as e:
        fail("cannot load gRPC or the stubs in %s (%s); on Debian: "
             "apt-get install python3-grpcio" % (stubs, e))

    try:
        with grpc.insecure_channel(args.command) as command_channel, \
                grpc.insecure_channel(args.query) as query_channel:
            command = commands_grpc.CommandServiceStub(command_channel)
            query = queries_grpc.QueryServiceStub(query_channel)

            created = command.CreateItem(
                commands.CreateItemRequest(item_id=args.item, sku="WID-1",
                                           name="Widget"),
                timeout=DEADLINE_SECONDS)
            print("created %s: version=%d global_position=%d"
                  % (created.item_id, created.version,
                     created.global_position))

            checked_in = command.CheckInItems(
                commands.CheckInItemsRequest(item_id=args.item,
                                             quantity=QUANTITY),
                timeout=DEADLINE_SECONDS)
            print("checked in %d: version=%d global_position=%d"
                  % (QUANTITY, checked_in.version,
                     checked_in.global_position))

            # Read-your-writes: wait until the read model has applied the
            # check-in.
            response = query.GetItem(
                queries.GetItemRequest(
                    item_id=args.item,
                    min_position=checked_in.global_position),
                timeout=DEADLINE_SECONDS)
    except grpc.RpcError as e:
        fail(describe(e, status_pb2, error_details_pb2))

    item = response.item
    print('item %s: sku=%s name=%s quantity_on_hand=%d active=%s version=%d '
          '(read model at position %d)'
          % (item.item_id, item.sku, json.dumps(item.name, ensure_ascii=False),
             item.quantity_on_hand, "true" if item.active else "false",
             item.version, response.position))


if __name__ == "__main__":
    main()
