#include "common/rpc/server_reflection.h"

#include <utility>

#include "absl/container/flat_hash_set.h"
#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "common/rpc/grpc_server.h"
#include "common/rpc/grpc_status.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/descriptor.pb.h"
#include "grpc/reflection/v1/reflection.grpc.pb.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"

namespace inventory {
namespace {

using google::protobuf::DescriptorPool;
using google::protobuf::FileDescriptor;

// One reflection stream: reads a request, writes its answer, and reads
// the next, until the client half-closes. Between requests it holds no
// thread. The two versions' messages have the same fields, so one template
// serves both.
template <typename Request, typename Response>
class ReflectionStream final
    : public grpc::ServerBidiReactor<Request, Response> {
 public:
  ReflectionStream(const std::vector<std::string>* services,
                   ConcurrencyLimit::Slot slot)
      : services_(services), slot_(std::move(slot)) {
    this->StartRead(&request_);
  }

  void OnReadDone(bool ok) override {
    if (!ok) {  // the client is done (or gone)
      this->Finish(grpc::Status::OK);
      return;
    }
    response_.Clear();
    Answer();
    this->StartWrite(&response_);
  }

  void OnWriteDone(bool ok) override {
    if (!ok) {
      this->Finish(grpc::Status::CANCELLED);
      return;
    }
    this->StartRead(&request_);
  }

  void OnDone() override { delete this; }

 private:
  void Answer() {
    const DescriptorPool* pool = DescriptorPool::generated_pool();
    response_.set_valid_host(request_.host());
    *response_.mutable_original_request() = request_;
    switch (request_.message_request_case()) {
      case Request::kFileByFilename:
        return SendFile(pool->FindFileByName(request_.file_by_filename()));
      case Request::kFileContainingSymbol:
        return SendFile(
            pool->FindFileContainingSymbol(request_.file_containing_symbol()));
      case Request::kFileContainingExtension: {
        const auto& extension = request_.file_containing_extension();
        const google::protobuf::Descriptor* type =
            pool->FindMessageTypeByName(extension.containing_type());
        const google::protobuf::FieldDescriptor* field =
            type == nullptr ? nullptr
                            : pool->FindExtensionByNumber(
                                  type, extension.extension_number());
        return SendFile(field == nullptr ? nullptr : field->file());
      }
      case Request::kAllExtensionNumbersOfType: {
        const google::protobuf::Descriptor* type = pool->FindMessageTypeByName(
            request_.all_extension_numbers_of_type());
        if (type == nullptr) return SendError(grpc::StatusCode::NOT_FOUND);
        std::vector<const google::protobuf::FieldDescriptor*> extensions;
        pool->FindAllExtensions(type, &extensions);
        auto* numbers = response_.mutable_all_extension_numbers_response();
        numbers->set_base_type_name(type->full_name());
        for (const auto* field : extensions) {
          numbers->add_extension_number(field->number());
        }
        return;
      }
      case Request::kListServices:
        for (const std::string& name : *services_) {
          response_.mutable_list_services_response()->add_service()->set_name(
              name);
        }
        return;
      default:
        return SendError(grpc::StatusCode::INVALID_ARGUMENT);
    }
  }

  // The file and every file it depends on, each once (a client then needs
  // no second request per import, and needs to remember nothing from
  // earlier answers).
  void SendFile(const FileDescriptor* file) {
    if (file == nullptr) return SendError(grpc::StatusCode::NOT_FOUND);
    auto* files = response_.mutable_file_descriptor_response();
    absl::flat_hash_set<const FileDescriptor*> sent;
    std::vector<const FileDescriptor*> pending = {file};
    while (!pending.empty()) {
      const FileDescriptor* next = pending.back();
      pending.pop_back();
      if (!sent.insert(next).second) continue;
      google::protobuf::FileDescriptorProto proto;
      next->CopyTo(&proto);
      proto.SerializeToString(files->add_file_descriptor_proto());
      for (int i = 0; i < next->dependency_count(); ++i) {
        pending.push_back(next->dependency(i));
      }
    }
  }

  void SendError(grpc::StatusCode code) {
    auto* error = response_.mutable_error_response();
    error->set_error_code(code);
    error->set_error_message(
        code == grpc::StatusCode::NOT_FOUND ? "not found" : "unknown request");
  }

  const std::vector<std::string>* const services_;
  const ConcurrencyLimit::Slot slot_;  // released when the call is done
  Request request_;
  Response response_;
};

template <typename Request, typename Response>
class RefusedStream final : public grpc::ServerBidiReactor<Request, Response> {
 public:
  explicit RefusedStream(const grpc::Status& status) { this->Finish(status); }
  void OnDone() override { delete this; }
};

}  // namespace

template <typename Generated>
class ServerReflection::Service final
    : public Generated::Service::CallbackService {
 public:
  using Request = typename Generated::Request;
  using Response = typename Generated::Response;

  Service(const std::vector<std::string>* names, ConcurrencyLimit* limit)
      : names_(names), limit_(limit) {}

  grpc::ServerBidiReactor<Request, Response>* ServerReflectionInfo(
      grpc::CallbackServerContext* context) override {
    absl::StatusOr<ConcurrencyLimit::Slot> slot =
        limit_->TryAcquire(ClientAddress(context->peer()));
    if (!slot.ok()) {
      return new RefusedStream<Request, Response>(ToGrpcStatus(slot.status()));
    }
    return new ReflectionStream<Request, Response>(names_, std::move(*slot));
  }

 private:
  const std::vector<std::string>* const names_;
  ConcurrencyLimit* const limit_;
};

namespace {

// The generated services with their message types, for the template.
struct V1 {
  using Service = grpc::reflection::v1::ServerReflection;
  using Request = grpc::reflection::v1::ServerReflectionRequest;
  using Response = grpc::reflection::v1::ServerReflectionResponse;
};
struct V1Alpha {
  using Service = grpc::reflection::v1alpha::ServerReflection;
  using Request = grpc::reflection::v1alpha::ServerReflectionRequest;
  using Response = grpc::reflection::v1alpha::ServerReflectionResponse;
};

std::vector<std::string> WithReflection(std::vector<std::string> services) {
  for (const std::string& name : ServerReflection::ServiceNames()) {
    services.push_back(name);
  }
  return services;
}

}  // namespace

const std::vector<std::string>& ServerReflection::ServiceNames() {
  static const auto* names = new std::vector<std::string>{
      grpc::reflection::v1::ServerReflection::service_full_name(),
      grpc::reflection::v1alpha::ServerReflection::service_full_name()};
  return *names;
}

ServerReflection::ServerReflection(std::vector<std::string> services,
                                   Options options)
    : names_(WithReflection(std::move(services))),
      limit_(options.max_streams, "reflection streams", reason::kTooManyStreams,
             options.max_streams_per_client),
      v1_(std::make_unique<Service<V1>>(&names_, &limit_)),
      v1alpha_(std::make_unique<Service<V1Alpha>>(&names_, &limit_)) {}

ServerReflection::~ServerReflection() = default;

std::vector<grpc::Service*> ServerReflection::services() const {
  return {v1_.get(), v1alpha_.get()};
}

}  // namespace inventory
