#include "tests/support/health_probe.h"

namespace inventory::test_support {

grpc::Status CheckHealth(grpc::health::v1::Health::Stub& stub,
                         const std::string& service, ServingStatus* status) {
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + absl::Seconds(10)));
  grpc::health::v1::HealthCheckRequest request;
  request.set_service(service);
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status result = stub.Check(&context, request, &response);
  *status = response.status();
  return result;
}

bool AwaitHealth(grpc::health::v1::Health::Stub& stub,
                 const std::string& service, ServingStatus wanted,
                 absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  for (;;) {
    ServingStatus status;
    if (CheckHealth(stub, service, &status).ok() && status == wanted) {
      return true;
    }
    if (absl::Now() >= give_up) return false;
    absl::SleepFor(absl::Milliseconds(20));  // the polling interval
  }
}

}  // namespace inventory::test_support
