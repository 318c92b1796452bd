#include "common/rpc/security/grpc_credentials.h"

#include <optional>
#include <utility>

#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "common/base/log.h"
#include "common/base/log_rate_limiter.h"
#include "common/rpc/grpc_status.h"

namespace inventory {
namespace {

absl::string_view View(const grpc::string_ref& ref) {
  return absl::string_view(ref.data(), ref.size());
}

// Runs a BearerTokenCheck on every call, in gRPC's transport, before the
// call is handed to a service.
class BearerTokenProcessor final : public grpc::AuthMetadataProcessor {
 public:
  explicit BearerTokenProcessor(BearerTokenCheck check)
      : check_(std::move(check)) {}

  // The check is a few comparisons: run it inline.
  bool IsBlocking() const override { return false; }

  grpc::Status Process(const InputMetadata& metadata,
                       grpc::AuthContext* /*context*/, OutputMetadata* consumed,
                       OutputMetadata* /*response*/) override {
    const auto path = metadata.find(":path");
    if (path == metadata.end()) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED, "no method");
    }
    const auto [first, last] = metadata.equal_range("authorization");
    if (first != last && std::next(first) != last) {
      return grpc::Status(grpc::StatusCode::UNAUTHENTICATED,
                          "more than one authorization header");
    }
    std::optional<absl::string_view> authorization;
    if (first != last) authorization = View(first->second);
    const absl::Status allowed =
        check_.Check(View(path->second), authorization);
    if (!allowed.ok()) {
      LogRefusal(View(path->second), allowed);
      return ToGrpcStatus(allowed);
    }
    // Services never see the token, so they cannot log it.
    if (authorization.has_value()) {
      consumed->emplace("authorization", std::string(*authorization));
    }
    return grpc::Status::OK;
  }

 private:
  // Like a failed call, one line; the message never holds a token. The
  // path (and the service named in the message) is the client's to choose,
  // so both are escaped; and a client that keeps trying gets a few lines
  // per window per status code, not one per call.
  void LogRefusal(absl::string_view path, const absl::Status& refusal) {
    LogWarningLimited(
        refusals_,
        absl::StrCat("calls refused: ",
                     absl::StatusCodeToString(refusal.code())),
        absl::StrCat(EscapeForLog(path), " refused: ", StatusForLog(refusal)));
  }

  const BearerTokenCheck check_;
  LogRateLimiter refusals_;
};

}  // namespace

std::shared_ptr<grpc::ServerCredentials> ServerCredentialsFor(
    const ServerSecurity& security, const AccessPolicy& policy) {
  if (!security.tls()) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options;
  options.pem_key_cert_pairs.push_back(
      {security.private_key, security.certificate_chain});
  std::shared_ptr<grpc::ServerCredentials> credentials =
      grpc::SslServerCredentials(options);
  if (security.tokens()) {
    credentials->SetAuthMetadataProcessor(
        std::make_shared<BearerTokenProcessor>(BearerTokenCheck(
            security.writer_token, security.reader_token, policy)));
  }
  return credentials;
}

std::shared_ptr<grpc::Channel> CreateChannelWith(
    const std::string& target, const ChannelSecurity& security,
    grpc::ChannelArguments args) {
  if (!security.tls()) {
    return grpc::CreateCustomChannel(target, grpc::InsecureChannelCredentials(),
                                     args);
  }
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = security.root_certificates;
  std::shared_ptr<grpc::ChannelCredentials> credentials =
      grpc::SslCredentials(options);
  if (!security.token.empty()) {
    credentials = grpc::CompositeChannelCredentials(
        credentials, grpc::AccessTokenCredentials(security.token));
  }
  if (!security.server_name.empty()) {
    args.SetSslTargetNameOverride(security.server_name);
  }
  return grpc::CreateCustomChannel(target, credentials, args);
}

}  // namespace inventory
