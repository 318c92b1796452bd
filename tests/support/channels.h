// Client channels of the tests to the servers they start on loopback, in
// process (in_process_services.h) or as processes (inventory_system.h):
// the one place where a test's channel is made.
#ifndef INVENTORY_TESTS_SUPPORT_CHANNELS_H_
#define INVENTORY_TESTS_SUPPORT_CHANNELS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

namespace inventory::test_support {

// "127.0.0.1:<port>".
std::string LoopbackAddress(int port);

// A channel to `address`: plaintext, or TLS that trusts only
// `root_certificates` (PEM) when those are given. Channels with different
// `args` share no connection.
std::shared_ptr<grpc::Channel> ChannelTo(
    const std::string& address, const std::string& root_certificates = "",
    const grpc::ChannelArguments& args = {});

}  // namespace inventory::test_support

#endif  // INVENTORY_TESTS_SUPPORT_CHANNELS_H_
