#include "tests/support/channels.h"

#include "absl/strings/str_cat.h"

namespace inventory::test_support {

std::string LoopbackAddress(int port) {
  return absl::StrCat("127.0.0.1:", port);
}

std::shared_ptr<grpc::Channel> ChannelTo(const std::string& address,
                                         const std::string& root_certificates,
                                         const grpc::ChannelArguments& args) {
  if (root_certificates.empty()) {
    return grpc::CreateCustomChannel(address,
                                     grpc::InsecureChannelCredentials(), args);
  }
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = root_certificates;
  return grpc::CreateCustomChannel(address, grpc::SslCredentials(options),
                                   args);
}

}  // namespace inventory::test_support
