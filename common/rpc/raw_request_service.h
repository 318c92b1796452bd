// RawRequestService: a generated gRPC service whose methods receive their
// request as raw bytes and decode it themselves (request_decoding.h).
//
// Why: gRPC's generated code parses a request before the service sees it,
// and a proto3 string that is not valid UTF-8 makes that parse fail with
// INTERNAL ("failed to parse"), naming no field. A method taken over here
// is registered with gRPC as a streamed method over grpc::ByteBuffer (the
// mechanism behind gRPC's own WithStreamedUnaryMethod_ and
// WithSplitStreamingMethod_), so the bytes reach DecodeRequest(), which
// answers such a request with INVALID_ARGUMENT naming the field. Clients
// see no difference: the method keeps its name, its unary or
// server-streaming shape, reflection and the sync thread pool.
//
// Usage, in the constructor of a class derived from
// RawRequestService<inventory::v1::Foo::Service>:
//   DecodeUnary("GetBar", &Service::GetBar);  // the usual typed override
//   DecodeServerStream<Req, Resp>("WatchBar", [this](ctx, request, send) {
//     ... send(message) returns false once the client is gone ...
//   });
// Every method of the service should be taken over; one that is not keeps
// gRPC's parsing.
#ifndef INVENTORY_COMMON_RPC_RAW_REQUEST_SERVICE_H_
#define INVENTORY_COMMON_RPC_RAW_REQUEST_SERVICE_H_

#include <grpcpp/grpcpp.h>
#include <grpcpp/support/method_handler.h>

#include <cstdlib>
#include <functional>
#include <memory>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "common/base/log.h"
#include "common/base/log_rate_limiter.h"
#include "common/base/watchdog.h"
#include "common/rpc/grpc_status.h"
#include "common/rpc/request_decoding.h"
#include "google/protobuf/descriptor.h"

namespace inventory {

template <typename GeneratedService>
class RawRequestService : public GeneratedService {
 public:
  // Sends one message of a server stream; false when the client is gone.
  template <typename Response>
  using Send = std::function<bool(const Response&)>;

 protected:
  // `service_full_name`, e.g. "inventory.v1.QueryService", must name the
  // service GeneratedService was generated from.
  explicit RawRequestService(absl::string_view service_full_name)
      : service_(google::protobuf::DescriptorPool::generated_pool()
                     ->FindServiceByName(std::string(service_full_name))) {
    if (service_ == nullptr) {
      Die(absl::StrCat("no service named ", service_full_name));
    }
  }

  // Takes over unary method `method`; `handler` is the generated virtual
  // (e.g. &Service::GetBar), so the subclass's override runs.
  template <typename Request, typename Response>
  void DecodeUnary(absl::string_view method,
                   grpc::Status (GeneratedService::*handler)(
                       grpc::ServerContext*, const Request*, Response*)) {
    using Streamer =
        grpc::ServerUnaryStreamer<grpc::ByteBuffer, grpc::ByteBuffer>;
    const std::string name(method);
    this->MarkMethodStreamed(
        IndexOf<Request, Response>(method),
        new grpc::internal::StreamedUnaryHandler<grpc::ByteBuffer,
                                                 grpc::ByteBuffer>(
            [this, handler, name](grpc::ServerContext* context,
                                  Streamer* stream) -> grpc::Status {
              Request request;
              grpc::Status status = Receive(name, stream, &request);
              if (!status.ok()) return status;
              Response response;
              status = (this->*handler)(context, &request, &response);
              if (!status.ok()) return status;
              grpc::ByteBuffer raw;
              status = Serialize(response, &raw);
              // As the last message, it goes out together with the status,
              // as a unary response does.
              if (status.ok()) {
                stream->Write(raw, grpc::WriteOptions().set_last_message());
              }
              return status;
            }));
  }

  // A server-stream write that has not completed after `timeout` (the
  // client stopped reading and flow control holds the message back) ends
  // the call: the write returns false as if the client were gone, and the
  // stream's slot and thread come free. Call in the constructor.
  void DropStalledStreamsAfter(absl::Duration timeout) {
    stall_timeout_ = timeout;
    stall_watchdog_ = std::make_unique<Watchdog>();
  }

  // Takes over server-streaming method `method`: `handler` gets the
  // decoded request and a Send for the responses.
  template <typename Request, typename Response>
  void DecodeServerStream(
      absl::string_view method,
      std::function<grpc::Status(grpc::ServerContext*, const Request&,
                                 const Send<Response>&)>
          handler) {
    using Streamer =
        grpc::ServerSplitStreamer<grpc::ByteBuffer, grpc::ByteBuffer>;
    const std::string name(method);
    this->MarkMethodStreamed(
        IndexOf<Request, Response>(method),
        new grpc::internal::SplitServerStreamingHandler<grpc::ByteBuffer,
                                                        grpc::ByteBuffer>(
            [this, handler = std::move(handler), name](
                grpc::ServerContext* context,
                Streamer* stream) -> grpc::Status {
              Request request;
              grpc::Status status = Receive(name, stream, &request);
              if (!status.ok()) return status;
              const Send<Response> send = [this, stream, context,
                                           &name](const Response& message) {
                grpc::ByteBuffer raw;  // Serialize() wants an empty one
                return Serialize(message, &raw).ok() &&
                       Write(name, context, stream, raw);
              };
              return handler(context, request, send);
            }));
  }

 private:
  // stream->Write(raw), bounded by the stall timeout when there is one.
  template <typename Streamer>
  bool Write(const std::string& method, grpc::ServerContext* context,
             Streamer* stream, const grpc::ByteBuffer& raw) {
    if (stall_watchdog_ == nullptr) return stream->Write(raw);
    const int64_t watch = stall_watchdog_->Watch(
        absl::Now() + stall_timeout_, [context] { context->TryCancel(); });
    const bool written = stream->Write(raw);
    if (stall_watchdog_->Unwatch(watch)) {
      LogWarning(method, ": ", context->peer(), " read nothing for ",
                 absl::FormatDuration(stall_timeout_),
                 "; stream dropped (stalled client)");
      return false;
    }
    return written;
  }

  // The method's index in the generated service (its place in the .proto),
  // after checking that its types are Request and Response.
  template <typename Request, typename Response>
  int IndexOf(absl::string_view method) const {
    const google::protobuf::MethodDescriptor* descriptor =
        service_->FindMethodByName(std::string(method));
    if (descriptor == nullptr ||
        descriptor->input_type() != Request::descriptor() ||
        descriptor->output_type() != Response::descriptor()) {
      Die(absl::StrCat(service_->full_name(), " has no method ", method,
                       " with these request and response types"));
    }
    return descriptor->index();
  }

  // Reads the one request message and decodes it; a refusal is logged.
  template <typename Streamer, typename Request>
  static grpc::Status Receive(const std::string& method, Streamer* stream,
                              Request* request) {
    grpc::ByteBuffer raw;
    if (!stream->Read(&raw)) {
      // gRPC has ended the call itself (cancelled, or a message over the
      // size limit: the client gets RESOURCE_EXHAUSTED), or a hand-made
      // client sent no message at all. Not worth a log line.
      return ToGrpcStatus(absl::InvalidArgumentError(
          "request: the call carried no request message"));
    }
    const absl::Status status = DecodeRequest(raw, request);
    if (!status.ok()) LogFailedCall(method, status);
    return ToGrpcStatus(status);
  }

  template <typename Message>
  static grpc::Status Serialize(const Message& message, grpc::ByteBuffer* raw) {
    bool own_buffer = false;
    return grpc::SerializationTraits<Message>::Serialize(message, raw,
                                                         &own_buffer);
  }

  [[noreturn]] static void Die(const std::string& message) {
    LogError("RawRequestService: ", message);
    std::abort();
  }

  const google::protobuf::ServiceDescriptor* const service_;
  absl::Duration stall_timeout_ = absl::InfiniteDuration();
  std::unique_ptr<Watchdog> stall_watchdog_;  // null: writes may wait forever
};

}  // namespace inventory

#endif  // INVENTORY_COMMON_RPC_RAW_REQUEST_SERVICE_H_
