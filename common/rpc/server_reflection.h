// ServerReflection: gRPC server reflection (grpc.reflection.v1 and
// v1alpha.ServerReflection), which grpcurl, `buf curl` and Postman use to
// learn the API from the server.
//
// gRPC's own reflection plugin serves it on the synchronous thread pool,
// where every open reflection stream holds a thread until the client
// closes it: enough idle streams stop every other call. This one is served
// with the callback API, so an idle stream holds no thread, and streams
// are capped in all and per client address.
//
// It describes the files in the process's generated descriptor pool (every
// compiled-in .proto) and lists the services it is given.
#ifndef INVENTORY_COMMON_RPC_SERVER_REFLECTION_H_
#define INVENTORY_COMMON_RPC_SERVER_REFLECTION_H_

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <vector>

#include "common/rpc/concurrency_limit.h"

namespace inventory {

class ServerReflection {
 public:
  struct Options {
    // Reflection streams open at once (both versions together), and per
    // client address; one more is RESOURCE_EXHAUSTED, TOO_MANY_STREAMS.
    int64_t max_streams = 100;
    int64_t max_streams_per_client = 10;
  };

  // `services`: full names of the services the server offers; the
  // reflection services themselves are added.
  ServerReflection(std::vector<std::string> services, Options options);
  ~ServerReflection();
  ServerReflection(const ServerReflection&) = delete;
  ServerReflection& operator=(const ServerReflection&) = delete;

  // Both versions, to register with the server (which they must outlive).
  std::vector<grpc::Service*> services() const;

  // Reflection streams open now.
  int64_t streams() const { return limit_.in_use(); }

  // The full names of the two reflection services.
  static const std::vector<std::string>& ServiceNames();

 private:
  template <typename Generated>
  class Service;

  const std::vector<std::string> names_;  // listed by list_services
  ConcurrencyLimit limit_;
  std::unique_ptr<grpc::Service> v1_;
  std::unique_ptr<grpc::Service> v1alpha_;
};

}  // namespace inventory

#endif  // INVENTORY_COMMON_RPC_SERVER_REFLECTION_H_
