// Errors as values. Every fallible library call returns a Status (no value) or a
// Result<T> (a value or an error); exceptions never cross a module boundary.
//
// A Status carries a canonical code and a one-line, human-readable message that names
// the reason ("corrupt or truncated PNG image"). Whoever detects an error writes the
// message; callers propagate it, optionally prefixing context with `with_context`.
#pragma once

#include <cstdlib>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

namespace atelier {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // the caller's input is wrong (bad file, bad option value)
  kNotFound,           // a named thing does not exist (file, model)
  kAlreadyExists,
  kPermissionDenied,
  kResourceExhausted,  // limits (pixels, bytes), disk full, out of memory
  kFailedPrecondition, // the system is not in the state the call needs (no npm, no model)
  kOutOfRange,
  kUnimplemented,
  kUnavailable,        // transient: network, a peer that does not answer
  kDataLoss,           // checksum mismatch, truncated data
  kDeadlineExceeded,
  kCancelled,
  kInternal,           // a bug or an unexpected library failure
  kUnsupported,        // input of a kind or format that is not supported (a GIF, an animated WebP)
  kUnauthenticated,    // no credentials, or wrong ones (an API key)
  kOverloaded,         // at capacity right now (a full queue): the same request may succeed later
};

// Short name of a code ("invalid argument"), for logs.
std::string_view status_code_name(StatusCode code);

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  static Status ok_status() { return {}; }

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }

  // "context: message", same code. No-op on an ok status.
  Status with_context(std::string_view context) const;

  friend bool operator==(const Status&, const Status&) = default;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status invalid_argument(std::string m) { return {StatusCode::kInvalidArgument, std::move(m)}; }
inline Status not_found(std::string m) { return {StatusCode::kNotFound, std::move(m)}; }
inline Status failed_precondition(std::string m) { return {StatusCode::kFailedPrecondition, std::move(m)}; }
inline Status resource_exhausted(std::string m) { return {StatusCode::kResourceExhausted, std::move(m)}; }
inline Status data_loss(std::string m) { return {StatusCode::kDataLoss, std::move(m)}; }
inline Status unavailable(std::string m) { return {StatusCode::kUnavailable, std::move(m)}; }
inline Status internal_error(std::string m) { return {StatusCode::kInternal, std::move(m)}; }
inline Status permission_denied(std::string m) { return {StatusCode::kPermissionDenied, std::move(m)}; }
inline Status unimplemented(std::string m) { return {StatusCode::kUnimplemented, std::move(m)}; }
inline Status unauthenticated(std::string m) { return {StatusCode::kUnauthenticated, std::move(m)}; }
inline Status overloaded(std::string m) { return {StatusCode::kOverloaded, std::move(m)}; }
inline Status unsupported(std::string m) { return {StatusCode::kUnsupported, std::move(m)}; }
inline Status deadline_exceeded(std::string m) { return {StatusCode::kDeadlineExceeded, std::move(m)}; }

// A value of type T or an error Status (never "ok without a value").
template <typename T>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::move(value)) {}  // NOLINT: implicit by design
  Result(Status status) : v_(std::move(status)) {  // NOLINT: implicit by design
    if (std::get<Status>(v_).ok()) v_ = Status(StatusCode::kInternal, "Result built from an ok Status");
  }

  bool ok() const { return std::holds_alternative<T>(v_); }
  explicit operator bool() const { return ok(); }

  // The error; an ok status when a value is held.
  Status status() const { return ok() ? Status() : std::get<Status>(v_); }

  // Access the value; calling these on an error aborts (a programming error).
  T& value() & { check(); return std::get<T>(v_); }
  const T& value() const& { check(); return std::get<T>(v_); }
  T&& value() && { check(); return std::get<T>(std::move(v_)); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }

 private:
  void check() const {
    if (!ok()) std::abort();
  }
  std::variant<T, Status> v_;
};

}  // namespace atelier

#define ATELIER_CONCAT_INNER(a, b) a##b
#define ATELIER_CONCAT(a, b) ATELIER_CONCAT_INNER(a, b)

// Returns the Status from the enclosing function when `expr` (a Status) is an error.
#define ATELIER_TRY(expr)                              \
  do {                                                 \
    ::atelier::Status atelier_status_ = (expr);        \
    if (!atelier_status_.ok()) return atelier_status_; \
  } while (0)

// `lhs = value of expr` (a Result), or returns its error from the enclosing function.
#define ATELIER_ASSIGN_OR_RETURN(lhs, expr) \
  ATELIER_ASSIGN_OR_RETURN_IMPL(ATELIER_CONCAT(atelier_result_, __LINE__), lhs, expr)
#define ATELIER_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                  \
  if (!tmp.ok()) return tmp.status();                 \
  lhs = std::move(tmp).value()
