// gRPC credentials from the services' security settings
// (security_config.h): what a server listens with, and what a client
// connects with.
#ifndef INVENTORY_COMMON_RPC_SECURITY_GRPC_CREDENTIALS_H_
#define INVENTORY_COMMON_RPC_SECURITY_GRPC_CREDENTIALS_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>

#include "common/rpc/security/bearer_token_check.h"
#include "common/rpc/security/security_config.h"

namespace inventory {

// Plaintext without a certificate; else TLS with it. With tokens (which
// need TLS), every call is checked by a BearerTokenCheck with `policy`
// before it reaches a service: a refused call never runs, and the
// `authorization` header of an accepted one is not passed on to the
// service.
std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(
    const ServerSecurity& security, const AccessPolicy& policy);

// A channel to `target` ("host:port"): plaintext without root
// certificates; else TLS, verifying the server's certificate against them
// and its name against `security.server_name` (or the target's host). With
// a token, every call carries "authorization: Bearer <token>" (gRPC sends
// it over TLS only). `args` are passed on.
std::shared_ptr<grpc::Channel> CreateChannelWith(
    const std::string& target, const ChannelSecurity& security,
    grpc::ChannelArguments args = {});

}  // namespace inventory

#endif  // INVENTORY_COMMON_RPC_SECURITY_GRPC_CREDENTIALS_H_
