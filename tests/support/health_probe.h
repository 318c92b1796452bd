// Health checks from tests: one Check, or waiting until a service reports
// a wanted status.
#ifndef INVENTORY_TESTS_SUPPORT_HEALTH_PROBE_H_
#define INVENTORY_TESTS_SUPPORT_HEALTH_PROBE_H_

#include <grpcpp/grpcpp.h>

#include <string>

#include "absl/time/time.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace inventory::test_support {

using ServingStatus = grpc::health::v1::HealthCheckResponse::ServingStatus;

// One Check of `service` ("" = the server), within 10 seconds; on OK,
// *status holds the answer.
grpc::Status CheckHealth(grpc::health::v1::Health::Stub& stub,
                         const std::string& service, ServingStatus* status);

// Checks `service` every 20 ms until it reports `wanted`; false when
// `timeout` passes first.
bool AwaitHealth(grpc::health::v1::Health::Stub& stub,
                 const std::string& service, ServingStatus wanted,
                 absl::Duration timeout = absl::Seconds(30));

}  // namespace inventory::test_support

#endif  // INVENTORY_TESTS_SUPPORT_HEALTH_PROBE_H_
