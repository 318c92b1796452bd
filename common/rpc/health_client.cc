#include "common/rpc/health_client.h"

#include <grpcpp/grpcpp.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "common/base/log.h"
#include "common/rpc/security/grpc_credentials.h"
#include "grpc/health/v1/health.grpc.pb.h"

namespace inventory {

absl::Status CheckServing(const std::string& listen_address,
                          absl::Duration timeout,
                          const ChannelSecurity& security) {
  std::string target = listen_address;
  for (const char* wildcard : {"0.0.0.0:", "[::]:"}) {
    if (absl::StartsWith(target, wildcard)) {
      target = absl::StrCat("127.0.0.1:",
                            target.substr(std::string(wildcard).size()));
    }
  }
  auto stub =
      grpc::health::v1::Health::NewStub(CreateChannelWith(target, security));
  grpc::ClientContext context;
  context.set_deadline(absl::ToChronoTime(absl::Now() + timeout));
  grpc::health::v1::HealthCheckResponse response;
  const grpc::Status status = stub->Check(&context, {}, &response);
  if (!status.ok()) {
    return absl::UnavailableError(
        absl::StrCat(target, ": ", status.error_message()));
  }
  if (response.status() != grpc::health::v1::HealthCheckResponse::SERVING) {
    return absl::UnavailableError(
        absl::StrCat(target, ": ",
                     grpc::health::v1::HealthCheckResponse::ServingStatus_Name(
                         response.status())));
  }
  return absl::OkStatus();
}

int RunHealthCheck(const std::string& listen_address,
                   const std::string& ca_file, const std::string& server_name) {
  ChannelSecuritySources tls;
  tls.flag_prefix = "health_check";
  tls.ca_file = ca_file;
  tls.server_name = server_name;
  const absl::StatusOr<ChannelSecurity> security = LoadChannelSecurity(tls);
  if (!security.ok()) {
    LogError(security.status().message());
    return 1;
  }
  const absl::Status serving =
      CheckServing(listen_address, absl::Seconds(3), *security);
  if (!serving.ok()) {
    LogError(serving.message(), security->tls()
                                    ? ""
                                    : " (if the server uses TLS, pass "
                                      "--health_check_ca_file)");
  }
  return serving.ok() ? 0 : 1;
}

}  // namespace inventory
