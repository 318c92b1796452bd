#include "query-service/subscriber/event_subscriber.h"

#include <algorithm>
#include <deque>
#include <vector>

#include "absl/strings/str_cat.h"
#include "common/base/error_reason.h"
#include "common/base/log.h"
#include "common/rpc/grpc_status.h"

namespace inventory {

EventSubscriber::EventSubscriber(std::shared_ptr<grpc::Channel> channel,
                                 InventoryReadModel* model, Options options,
                                 ServingCallback on_serving)
    : stub_(inventory::v1::EventStreamService::NewStub(channel)),
      model_(model),
      options_(options),
      on_serving_(std::move(on_serving)) {}

EventSubscriber::~EventSubscriber() { Stop(); }

void EventSubscriber::Start() {
  runner_ = std::thread([this] { Run(); });
  watchdog_ = std::thread([this] { Watchdog(); });
}

void EventSubscriber::Stop() {
  {
    absl::MutexLock lock(&mu_);
    stopping_ = true;
    if (context_ != nullptr) context_->TryCancel();
  }
  if (runner_.joinable()) runner_.join();
  if (watchdog_.joinable()) watchdog_.join();
}

bool EventSubscriber::serving() const {
  absl::MutexLock lock(&mu_);
  return serving_;
}

int EventSubscriber::connections() const {
  absl::MutexLock lock(&mu_);
  return connections_;
}

int EventSubscriber::rebuilds() const {
  absl::MutexLock lock(&mu_);
  return rebuilds_;
}

void EventSubscriber::SetServing(bool serving, const std::string& why) {
  {
    absl::MutexLock lock(&mu_);
    if (serving_ == serving) return;
    serving_ = serving;
  }
  if (on_serving_) on_serving_(serving, why);
}

void EventSubscriber::Run() {
  absl::Duration backoff = options_.initial_backoff;
  progress_mark_ = {absl::Now(), model_->position()};
  for (;;) {
    const int64_t before = model_->position();
    const Ending ending = SubscribeOnce();
    {
      absl::MutexLock lock(&mu_);
      if (stopping_) return;
    }
    // A stream that made progress earns a fresh backoff.
    if (model_->position() > before) backoff = options_.initial_backoff;
    absl::Duration pause = backoff;
    switch (ending.kind) {
      case Ending::Kind::kLogShorter:
        // Loud, and once per rebuild: a rebuild starts from 0, below any
        // head, so the same shorter log cannot trigger it again.
        LogError(
            "the event log is shorter than, or replaced since, this read "
            "model (",
            ending.why,
            "): it was restored from a backup or failed over to a copy that "
            "lacks the last events, so the read model describes a different "
            "log. NOT_SERVING; rebuilding it from position 0");
        SetServing(false,
                   "the event log is shorter than the read model; rebuilding "
                   "it from position 0");
        model_->Reset();
        logged_stop_ = -1;
        progress_mark_ = {absl::Now(), 0};
        known_head_.reset();
        {
          absl::MutexLock lock(&mu_);
          ++rebuilds_;
        }
        backoff = options_.initial_backoff;
        pause = absl::ZeroDuration();
        break;
      case Ending::Kind::kProjectionStopped: {
        const std::optional<ProjectionStop> stop = model_->stop();
        SetServing(
            false,
            absl::StrCat("read model stopped at position ", model_->position(),
                         stop.has_value()
                             ? absl::StrCat(": the event at position ",
                                            stop->global_position,
                                            " cannot be projected")
                             : std::string()));
        if (stop.has_value() && stop->global_position != logged_stop_) {
          logged_stop_ = stop->global_position;
          LogError(
              "read model stopped at position ", model_->position(),
              ": the event at position ", stop->global_position, " (type \"",
              stop->event_type, "\", stream \"", stop->stream_id, "\" version ",
              stop->stream_version, ") cannot be projected: ", stop->why,
              ". Queries keep answering at position ", model_->position(),
              "; health is NOT_SERVING. Upgrade the query-service to a "
              "build that knows event type \"",
              stop->event_type,
              "\"; it rebuilds from the log when it starts. Retrying every ",
              absl::FormatDuration(options_.stopped_retry_interval),
              " without logging again");
        }
        pause = options_.stopped_retry_interval;
        break;
      }
      case Ending::Kind::kBroken:
        // Once per break: the retries until it resumes say nothing new.
        if (!stream_broken_) {
          stream_broken_ = true;
          LogWarning("event stream broken at position ", model_->position(),
                     ": ", ending.why, "; reconnecting (backoff ",
                     absl::FormatDuration(backoff), " up to ",
                     absl::FormatDuration(options_.max_backoff),
                     "), quietly until it resumes");
        }
        backoff = std::min(backoff * 2, options_.max_backoff);
        break;
    }
    absl::MutexLock lock(&mu_);
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), pause);
    if (stopping_) return;
  }
}

// A bounded hand-off of stream messages from the reading thread to the
// applying thread; applied messages go back to the reader for reuse, so the
// steady state allocates no message objects.
class EventSubscriber::MessageQueue {
 public:
  using Message = inventory::v1::SubscribeResponse;
  static constexpr size_t kDepth = 4;

  // Blocks while the queue is full; false once the applier gave up.
  bool Push(std::unique_ptr<Message> message) {
    absl::MutexLock lock(&mu_);
    auto room = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return queued_.size() < kDepth || aborted_;
    };
    mu_.Await(absl::Condition(&room));
    if (aborted_) return false;
    queued_.push_back(std::move(message));
    return true;
  }
  // Blocks until a message arrives; nullptr once closed and drained.
  std::unique_ptr<Message> Pop() {
    absl::MutexLock lock(&mu_);
    auto ready = [this]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_) {
      return !queued_.empty() || closed_;
    };
    mu_.Await(absl::Condition(&ready));
    if (queued_.empty()) return nullptr;
    std::unique_ptr<Message> message = std::move(queued_.front());
    queued_.pop_front();
    return message;
  }
  void Recycle(std::unique_ptr<Message> message) {
    absl::MutexLock lock(&mu_);
    if (spare_.size() < kDepth + 1) spare_.push_back(std::move(message));
  }
  std::unique_ptr<Message> Spare() {
    absl::MutexLock lock(&mu_);
    if (spare_.empty()) return std::make_unique<Message>();
    std::unique_ptr<Message> message = std::move(spare_.back());
    spare_.pop_back();
    return message;
  }
  // The reader is done: the applier drains what is queued, then stops.
  void Close() {
    absl::MutexLock lock(&mu_);
    closed_ = true;
  }
  // The applier is done: the reader stops pushing.
  void Abort() {
    absl::MutexLock lock(&mu_);
    aborted_ = true;
  }

 private:
  absl::Mutex mu_;
  std::deque<std::unique_ptr<Message>> queued_ ABSL_GUARDED_BY(mu_);
  std::vector<std::unique_ptr<Message>> spare_ ABSL_GUARDED_BY(mu_);
  bool closed_ ABSL_GUARDED_BY(mu_) = false;
  bool aborted_ ABSL_GUARDED_BY(mu_) = false;
};

EventSubscriber::Ending EventSubscriber::SubscribeOnce() {
  grpc::ClientContext context;
  {
    absl::MutexLock lock(&mu_);
    if (stopping_) return {Ending::Kind::kBroken, "stopping"};
    context_ = &context;
    last_message_ = absl::Now();
    ++connections_;
  }
  inventory::v1::SubscribeRequest request;
  const InventoryReadModel::Checkpoint checkpoint = model_->checkpoint();
  request.set_after_position(checkpoint.position);
  request.set_after_event_id(checkpoint.event_id);
  request.set_max_events_per_message(options_.max_events_per_message);
  std::unique_ptr<grpc::ClientReader<inventory::v1::SubscribeResponse>> reader =
      stub_->Subscribe(&context, request);

  MessageQueue queue;
  std::optional<Ending> applier_ending;
  std::thread applier(
      [&] { applier_ending = ApplyMessages(&queue, &context); });
  for (std::unique_ptr<MessageQueue::Message> message = queue.Spare();
       reader->Read(message.get()); message = queue.Spare()) {
    {
      absl::MutexLock lock(&mu_);
      last_message_ = absl::Now();
    }
    if (stream_broken_) {
      stream_broken_ = false;
      LogInfo("event stream resumed after position ", checkpoint.position);
    }
    if (!queue.Push(std::move(message))) break;
  }
  queue.Close();
  applier.join();
  const grpc::Status finished = reader->Finish();
  {
    absl::MutexLock lock(&mu_);
    context_ = nullptr;
  }
  if (applier_ending.has_value()) return *std::move(applier_ending);
  if (finished.error_code() == grpc::StatusCode::OUT_OF_RANGE) {
    // The command-service's answer to an after_position beyond its head:
    // the read model is thrown away, so only on that very reason.
    const std::optional<ErrorReason> reason =
        ErrorReasonOf(FromGrpcStatus(finished));
    if (reason.has_value() &&
        (reason->reason == reason::kLogPositionOutOfRange ||
         reason->reason == reason::kLogDiverged)) {
      return {Ending::Kind::kLogShorter, finished.error_message()};
    }
  }
  if (finished.error_code() == grpc::StatusCode::UNAUTHENTICATED ||
      finished.error_code() == grpc::StatusCode::PERMISSION_DENIED) {
    // Retrying is right (the command-service may be restarted with other
    // tokens), but no retry helps until someone acts: say so.
    return {
        Ending::Kind::kBroken,
        absl::StrCat("the command-service refused this query-service's token (",
                     finished.error_code() == grpc::StatusCode::UNAUTHENTICATED
                         ? "UNAUTHENTICATED"
                         : "PERMISSION_DENIED",
                     ": ", finished.error_message(),
                     "): check --command_service_token_file / "
                     "COMMAND_SERVICE_TOKEN")};
  }
  return {Ending::Kind::kBroken,
          absl::StrCat("event stream ended (", finished.error_code(), ": ",
                       finished.error_message(), ")")};
}

std::optional<EventSubscriber::Ending> EventSubscriber::ApplyMessages(
    MessageQueue* queue, grpc::ClientContext* context) {
  auto end = [&](Ending ending) {
    queue->Abort();
    context->TryCancel();
    return ending;
  };
  while (std::unique_ptr<MessageQueue::Message> message = queue->Pop()) {
    if (message->has_event() || message->has_events()) {
      const absl::Status applied =
          message->has_event()
              ? model_->Apply(message->event())
              : model_->ApplyAll(message->mutable_events()->mutable_events());
      if (applied.code() == absl::StatusCode::kFailedPrecondition) {
        return end(
            {Ending::Kind::kProjectionStopped, std::string(applied.message())});
      }
      if (!applied.ok()) {
        return end(
            {Ending::Kind::kBroken, absl::StrCat("event stream abandoned (",
                                                 applied.ToString(), ")")});
      }
      LogProgress(/*force=*/false);
    } else if (message->has_caught_up() || message->has_heartbeat()) {
      const int64_t head = message->has_caught_up()
                               ? message->caught_up().head_position()
                               : message->heartbeat().head_position();
      const int64_t position = model_->position();
      known_head_ = head;
      if (head < position) {
        return end(
            {Ending::Kind::kLogShorter,
             absl::StrCat("the command-service reports head position ", head,
                          ", below this read model's position ", position)});
      }
      if (message->has_caught_up() && !serving()) {
        LogProgress(/*force=*/true);
        LogInfo("caught up with the event log at position ", position);
        if (logged_stop_ >= 0) {
          LogInfo("read model resumed: the event at position ", logged_stop_,
                  " was projected after all");
          logged_stop_ = -1;
        }
        SetServing(true,
                   absl::StrCat("caught up with the event log at position ",
                                position));
      }
    }
    queue->Recycle(std::move(message));
  }
  return std::nullopt;
}

void EventSubscriber::LogProgress(bool force) {
  const ProgressMark now{absl::Now(), model_->position()};
  if (now.position == progress_mark_.position) return;
  if (!force && now.time - progress_mark_.time < options_.progress_interval) {
    return;
  }
  LogInfo(ProgressLine(progress_mark_, now, known_head_));
  progress_mark_ = now;
}

void EventSubscriber::Watchdog() {
  absl::MutexLock lock(&mu_);
  for (;;) {
    mu_.AwaitWithTimeout(absl::Condition(&stopping_), absl::Seconds(1));
    if (stopping_) return;
    if (context_ != nullptr &&
        absl::Now() - last_message_ > options_.stall_timeout) {
      LogWarning("event stream silent for ",
                 absl::FormatDuration(options_.stall_timeout),
                 "; replacing it");
      context_->TryCancel();
      last_message_ = absl::Now();
    }
  }
}

}  // namespace inventory
