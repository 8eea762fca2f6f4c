#include "server/service.h"

#include <openssl/crypto.h>

#include <atomic>
#include <cctype>
#include <condition_variable>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "image/codec.h"

#include "core/files.h"
#include "core/parse.h"
#include "core/status_table.h"
#include "ml/inference.h"
#include "ops/operation.h"
#include "server/job_store.h"
#include "server/redis_job_store.h"
#include "server/v2_routes.h"
#include "server/webhook.h"
#include "server/work_queue.h"

namespace atelier::server {
namespace {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using Pairs = std::vector<std::pair<std::string, std::string>>;

std::int64_t unix_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// Result folders and job ids are named alike: 32 random lowercase hex characters.
using detail::valid_job_id;

// A result file name as operations make them: no path, no hidden file.
bool is_file_name(std::string_view s) {
  if (s.empty() || s.size() > 128 || s[0] == '.') return false;
  for (char c : s)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_')) return false;
  return true;
}

bool wants_json(const Request& r) { return r.header("accept").find("application/json") != std::string::npos; }

// Every string in `j` equal to a result file's name becomes its URL.
void link_files(nlohmann::json& j, const std::map<std::string, std::string>& urls) {
  if (j.is_string()) {
    auto it = urls.find(j.get<std::string>());
    if (it != urls.end()) j = it->second;
  } else if (j.is_array() || j.is_object()) {
    for (auto& v : j) link_files(v, urls);
  }
}

nlohmann::json job_json(const JobRecord& job) {
  nlohmann::json j = {{"id", job.id}, {"op", job.op}, {"status", std::string(job_state_name(job.state))},
                      {"progress", job.progress}, {"attempts", job.attempts}};
  if (job.state == JobState::kFailed) j["error"] = {{"code", job.error_code}, {"message", job.error_message}};
  if (job.state == JobState::kSucceeded) j["result"] = "/v1/jobs/" + job.id + "/result";
  return j;
}

Status write_text(const fs::path& path, const std::string& text) {
  return write_file_atomic(path, std::span(reinterpret_cast<const std::uint8_t*>(text.data()), text.size()));
}

}  // namespace

struct Service::Impl {
  ServeConfig config;
  Metrics metrics;
  std::unique_ptr<JobStore> jobs;
  std::unique_ptr<WorkQueue> queue;
  std::vector<std::uint8_t> webhook_key;
  std::atomic<bool> ready{false};
  std::atomic<bool> stopping{false};
  std::atomic<int> in_flight{0};  // requests handed to handle() and not answered yet
  std::mutex dispatch_mu;  // create + write inputs, against claim
  std::condition_variable dispatch_cv;
  std::thread dispatcher, warmer;
  std::mutex webhook_mu;
  std::vector<std::thread> webhook_threads;
  Clock::time_point last_expiry{};
  // What running jobs' operations streamed (edit: the model's answer), kept a minute after
  // they finish so a subscriber reads it to the end.
  struct StreamedText {
    std::string text;
    Clock::time_point finished{};
  };
  std::mutex text_mu;
  std::map<std::string, StreamedText> texts;

  fs::path results_dir() const { return config.data_dir / "results"; }

  ops::RunContext context() const {
    ops::RunContext ctx;
    ctx.limits = config.limits;
    ctx.backend = config.backend;
    ctx.assets_dir = config.assets_dir;
    return ctx;
  }

  bool authorized(const Request& r) const {
    if (config.api_keys.empty()) return true;
    const std::string auth = r.header("authorization");
    if (auth.rfind("Bearer ", 0) != 0) return false;
    const std::string key = auth.substr(7);
    bool ok = false;
    for (const std::string& k : config.api_keys) {
      // Constant time in the key's bytes: every key is compared, whatever matched.
      const bool same_size = k.size() == key.size();
      const std::string& other = same_size ? key : k;
      ok |= same_size && CRYPTO_memcmp(k.data(), other.data(), k.size()) == 0;
    }
    return ok;
  }

  // The operation's uploads and checked options from a request, every check done.
  struct Parsed {
    const ops::Operation* op = nullptr;
    std::vector<ops::Upload> uploads;
    ops::OptionValues values;
    Pairs pairs;
  };
  Result<Parsed> parse(const ops::Operation& op, const Request& r, Pairs pairs) const {
    Parsed p;
    p.op = &op;
    const std::string type = r.header("content-type");
    if (type.rfind("multipart/form-data", 0) == 0) {
      ATELIER_ASSIGN_OR_RETURN(std::vector<FormPart> parts, parse_multipart(type, r.body));
      for (FormPart& part : parts) {
        if (!part.is_file) {
          pairs.emplace_back(part.name, std::move(part.body));
          continue;
        }
        ops::Upload u;
        u.field = part.name;
        u.content_type = part.content_type;
        u.filename = part.filename;
        u.bytes.assign(part.body.begin(), part.body.end());
        p.uploads.push_back(std::move(u));
      }
    } else if (!r.body.empty()) {
      ops::Upload u;
      u.field = op.input_field;
      u.content_type = type;
      u.bytes.assign(r.body.begin(), r.body.end());
      p.uploads.push_back(std::move(u));
    }
    ATELIER_ASSIGN_OR_RETURN(p.values, ops::check_options(op.spec, pairs));
    p.pairs = std::move(pairs);
    ATELIER_TRY(op.check(p.values, context()));
    if (!ops::find_upload(p.uploads, op.input_field)) {
      return invalid_argument(op.input_field + ": nothing to work on (send the file as the body, or as form field '" +
                              op.input_field + "')");
    }
    std::set<std::string> seen;
    for (const ops::Upload& u : p.uploads) {
      if (!seen.insert(u.field).second) return invalid_argument(u.field + ": given more than once");
      ATELIER_TRY(ops::check_upload(op, u, config.limits));
    }
    return p;
  }

  void record_inference(const ops::OptionValues& values, const nlohmann::json& j) {
    if (j.contains("timings") && j["timings"].contains("inference") && values.has("model")) {
      metrics.record_inference(values.text("model"), j["timings"]["inference"].get<double>());
    }
  }

  // The response the synchronous route gives for a result: the file itself, or JSON with
  // the files stored under `url_base` (several files, or Accept: application/json).
  Response result_response(const ops::OperationResult& result, bool json, const std::string& url_base) {
    if (!json && result.files.size() == 1) {
      Response r;
      r.content_type = result.files[0].content_type;
      r.body.assign(result.files[0].bytes.begin(), result.files[0].bytes.end());
      return r;
    }
    std::map<std::string, std::string> urls;
    nlohmann::json files = nlohmann::json::array();
    for (const auto& f : result.files) {
      urls[f.name] = url_base + f.name;
      files.push_back({{"name", f.name}, {"url", url_base + f.name}, {"content_type", f.content_type},
                       {"bytes", f.bytes.size()}});
    }
    nlohmann::json body = result.json;
    link_files(body, urls);
    body["files"] = files;
    return json_response(200, body);
  }

  Status store_files(const fs::path& dir, const ops::OperationResult& result) {
    ATELIER_TRY(ensure_directory(dir));
    for (const auto& f : result.files) ATELIER_TRY(write_file_atomic(dir / f.name, f.bytes));
    return {};
  }

  Response serve_file(const fs::path& path) {
    auto bytes = read_file(path, 1ull << 32);
    if (!bytes.ok()) return error_response(404, "not_found", "no such result (it may have expired)");
    Response r;
    r.content_type = ops::content_type_for(path.filename().string());
    r.body.assign(bytes->begin(), bytes->end());
    return r;
  }

  void run_sync(Parsed p, const Request& req, Clock::time_point deadline, std::function<void(Response)> done) {
    const bool json = wants_json(req);
    auto shared = std::make_shared<Parsed>(std::move(p));
    auto finish = std::make_shared<std::function<void(Response)>>(std::move(done));
    const bool queued = queue->try_push([this, shared, deadline, json, finish] {
      if (Clock::now() > deadline) {
        (*finish)(error_response(deadline_exceeded("the request waited in the queue past its deadline (" +
                                                   format_number(config.timeout) + " s)")));
        return;
      }
      ops::RunContext ctx = context();
      ctx.cancelled = [deadline, this] { return Clock::now() > deadline || stopping.load(); };
      auto result = shared->op->run(shared->uploads, shared->values, ctx);
      if (!result.ok()) {
        Status s = result.status();
        if (s.code() == StatusCode::kCancelled) s = deadline_exceeded("the request ran past its deadline");
        (*finish)(error_response(s));
        return;
      }
      record_inference(shared->values, result->json);
      std::string url_base;
      if (json || result->files.size() > 1) {
        auto id = detail::new_job_id();
        if (!id.ok()) return (*finish)(error_response(id.status()));
        if (Status s = store_files(results_dir() / *id, *result); !s.ok()) return (*finish)(error_response(s));
        url_base = "/v1/results/" + *id + "/";
      }
      (*finish)(result_response(*result, json, url_base));
    });
    if (!queued) {
      Response r = error_response(overloaded("the queue is full (" + std::to_string(queue->capacity()) +
                                             " requests wait); retry later"));
      r.headers.emplace_back("Retry-After", "1");
      (*finish)(std::move(r));
    }
  }

  // A checked v2 inference on a worker, with the same queue bound and deadline as run_sync.
  void run_v2(V2Infer infer, Clock::time_point deadline, std::function<void(Response)> done) {
    auto shared = std::make_shared<V2Infer>(std::move(infer));
    auto finish = std::make_shared<std::function<void(Response)>>(std::move(done));
    const bool queued = queue->try_push([this, shared, deadline, finish] {
      if (Clock::now() > deadline) {
        (*finish)(v2_error(deadline_exceeded("the request waited in the queue past its deadline (" +
                                             format_number(config.timeout) + " s)")));
        return;
      }
      double seconds = 0;
      Response r = run_v2_infer(*shared, config.backend, seconds);
      if (r.status == 200) metrics.record_inference(shared->model.manifest.name, seconds);
      (*finish)(std::move(r));
    });
    if (!queued) {
      Response r = v2_error(overloaded("the queue is full (" + std::to_string(queue->capacity()) +
                                       " requests wait); retry later"));
      r.headers.emplace_back("Retry-After", "1");
      (*finish)(std::move(r));
    }
  }

  // ---- jobs ----------------------------------------------------------------------------

  Response create_job(const Request& req) {
    Pairs pairs = req.query;
    std::string op_name, webhook;
    Pairs rest;
    for (auto& [k, v] : pairs) {
      if (k == "op") op_name = v;
      else if (k == "webhook") webhook = v;
      else rest.emplace_back(k, v);
    }
    const ops::Operation* op = ops::find_operation(op_name);
    if (!op) {
      std::string names;
      for (const ops::Operation& o : ops::operations()) names += (names.empty() ? "" : ", ") + o.spec.name;
      return error_response(invalid_argument("op: expected one of " + names + ", got '" + op_name + "'"));
    }
    auto parsed = parse(*op, req, rest);
    if (!parsed.ok()) return error_response(parsed.status());
    if (!webhook.empty()) {
      if (webhook_key.empty()) {
        return error_response(failed_precondition("webhook: this server has no webhook secret (start it with "
                                                  "ATELIER_WEBHOOK_SECRET=whsec_...)"));
      }
      auto target = check_webhook_url(webhook, config.allow_private_webhooks);
      if (!target.ok()) return error_response(invalid_argument(target.status().message()));
    }
    nlohmann::json options = nlohmann::json::array();
    for (const auto& [k, v] : parsed->pairs) options.push_back({k, v});
    std::lock_guard lock(dispatch_mu);
    auto created = jobs->create(op->spec.name, options.dump(), req.header("idempotency-key"), webhook);
    if (!created.ok()) return error_response(created.status());
    if (created->created) {
      const fs::path input = jobs->job_dir(created->job.id) / "input";
      nlohmann::json meta = nlohmann::json::array();
      Status s = ensure_directory(input);
      for (std::size_t i = 0; s.ok() && i < parsed->uploads.size(); ++i) {
        const ops::Upload& u = parsed->uploads[i];
        meta.push_back({{"field", u.field}, {"content_type", u.content_type}, {"filename", u.filename}});
        s = write_file_atomic(input / std::to_string(i), u.bytes);
      }
      if (s.ok()) s = write_text(input / "uploads.json", meta.dump());
      if (!s.ok()) {
        (void)jobs->finish(created->job.id, JobState::kFailed, "internal", s.message(), "");
        return error_response(s);
      }
      dispatch_cv.notify_all();
    }
    return json_response(202, job_json(created->job));
  }

  Result<std::vector<ops::Upload>> load_inputs(const std::string& id) {
    const fs::path input = jobs->job_dir(id) / "input";
    // uploads.json is written last (atomically): with a shared queue another process may
    // claim the job between its creation and that write, so it waits for it a little.
    std::error_code ec;
    for (int i = 0; i < 200 && !fs::exists(input / "uploads.json", ec) && !stopping.load(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ATELIER_ASSIGN_OR_RETURN(std::vector<std::uint8_t> meta_bytes, read_file(input / "uploads.json", 1 << 20));
    const auto meta = nlohmann::json::parse(meta_bytes.begin(), meta_bytes.end(), nullptr, false);
    if (!meta.is_array()) return internal_error("job " + id + ": bad uploads.json");
    std::vector<ops::Upload> uploads;
    for (std::size_t i = 0; i < meta.size(); ++i) {
      ops::Upload u;
      u.field = meta[i].value("field", "");
      u.content_type = meta[i].value("content_type", "");
      u.filename = meta[i].value("filename", "");
      ATELIER_ASSIGN_OR_RETURN(u.bytes, read_file(input / std::to_string(i), config.limits.max_input_bytes + 1));
      uploads.push_back(std::move(u));
    }
    return uploads;
  }

  void run_job(const JobRecord& job) {
    std::fprintf(stderr, "atelier serve: job %s (%s) started, attempt %d\n", job.id.c_str(), job.op.c_str(), job.attempts);
    const auto started = Clock::now();
    const ops::Operation* op = ops::find_operation(job.op);
    Status failure;
    std::string result_json;
    bool cancelled_by_client = false;
    if (!op) {
      failure = internal_error("unknown operation '" + job.op + "'");
    } else {
      Pairs pairs;
      const auto options = nlohmann::json::parse(job.options_json, nullptr, false);
      if (options.is_array()) {
        for (const auto& kv : options) pairs.emplace_back(kv[0].get<std::string>(), kv[1].get<std::string>());
      }
      auto values = ops::check_options(op->spec, pairs);
      auto uploads = load_inputs(job.id);
      if (!values.ok()) failure = values.status();
      else if (!uploads.ok()) failure = uploads.status();
      else {
        ops::RunContext ctx = context();
        ctx.cancelled = [&] {
          if (stopping.load()) return true;
          auto now = jobs->get(job.id);
          cancelled_by_client = now.ok() && now->cancel_requested;
          return cancelled_by_client;
        };
        ctx.progress = [&](double p) { (void)jobs->set_progress(job.id, p); };
        ctx.text = [&](std::string_view piece) {
          std::lock_guard lock(text_mu);
          texts[job.id].text.append(piece);
        };
        auto result = op->run(*uploads, *values, ctx);
        if (!result.ok()) {
          failure = result.status();
        } else {
          record_inference(*values, result->json);
          nlohmann::json files = nlohmann::json::array();
          for (const auto& f : result->files) files.push_back({{"name", f.name}, {"content_type", f.content_type}});
          result_json = nlohmann::json({{"json", result->json}, {"files", files}}).dump();
          failure = store_files(jobs->job_dir(job.id) / "result", *result);
        }
      }
    }
    if (stopping.load() && !cancelled_by_client && failure.code() == StatusCode::kCancelled) {
      return;  // shutting down: the job stays running in the store and runs again at the next start
    }
    JobState state = JobState::kSucceeded;
    if (!failure.ok()) state = failure.code() == StatusCode::kCancelled ? JobState::kCancelled : JobState::kFailed;
    if (Status s = jobs->finish(job.id, state, failure.ok() ? "" : std::string(error_word(failure.code())),
                                failure.message(), result_json);
        !s.ok()) {
      std::fprintf(stderr, "atelier serve: job %s: %s\n", job.id.c_str(), s.message().c_str());
    }
    std::fprintf(stderr, "atelier serve: job %s (%s) %s in %.2f s\n", job.id.c_str(), job.op.c_str(),
                 std::string(job_state_name(state)).c_str(),
                 std::chrono::duration<double>(Clock::now() - started).count());
    {
      std::lock_guard lock(text_mu);
      if (auto it = texts.find(job.id); it != texts.end()) it->second.finished = Clock::now();
    }
    auto final_job = jobs->get(job.id);
    if (final_job.ok() && !final_job->webhook.empty()) send_webhook(*final_job);
  }

  void send_webhook(const JobRecord& job) {
    nlohmann::json payload = {{"type", "job." + std::string(job_state_name(job.state))},
                              {"timestamp", unix_ms() / 1000},
                              {"data", job_json(job)}};
    std::lock_guard lock(webhook_mu);
    webhook_threads.emplace_back([this, url = job.webhook, body = payload.dump(), id = "msg_" + job.id] {
      DeliveryOptions opt;
      opt.allow_private = config.allow_private_webhooks;
      opt.stop = [this] { return stopping.load(); };
      Status s = deliver_webhook(url, body, webhook_key, id, opt);
      if (!s.ok()) std::fprintf(stderr, "atelier serve: webhook %s: %s\n", id.c_str(), s.message().c_str());
    });
  }

  void dispatch_loop() {
    while (!stopping.load()) {
      {
        std::unique_lock lock(dispatch_mu);
        dispatch_cv.wait_for(lock, std::chrono::milliseconds(200));
      }
      if (stopping.load()) break;
      if (Clock::now() - last_expiry > std::chrono::seconds(60)) expire();
      // A job takes a worker only when one is free and no request waits: requests first.
      while (!stopping.load() && ready.load() && queue->depth() == 0 && queue->running() < queue->workers()) {
        Result<std::optional<JobRecord>> next = [&] {
          std::lock_guard lock(dispatch_mu);
          return jobs->claim_next();
        }();
        if (!next.ok() || !*next) break;
        JobRecord job = **next;
        if (!queue->try_push([this, job] { run_job(job); })) {
          break;  // cannot happen with the queue empty; the job stays running and is re-queued at start
        }
      }
    }
  }

  void expire() {
    last_expiry = Clock::now();
    {
      std::lock_guard lock(text_mu);
      for (auto it = texts.begin(); it != texts.end();) {
        const bool old = it->second.finished != Clock::time_point{} && Clock::now() - it->second.finished > std::chrono::minutes(1);
        it = old ? texts.erase(it) : std::next(it);
      }
    }
    const std::int64_t ttl_ms = std::int64_t(config.result_ttl * 1000);
    (void)jobs->expire(unix_ms(), ttl_ms, config.disk_quota);
    std::error_code ec;
    const auto cutoff = fs::file_time_type::clock::now() - std::chrono::milliseconds(ttl_ms);
    for (auto it = fs::directory_iterator(results_dir(), ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
      if (it->last_write_time(ec) < cutoff) fs::remove_all(it->path(), ec);
    }
  }

  void warm_up() {
    std::set<std::string> models;
    for (const ops::Operation& op : ops::operations()) {
      auto defaults = ops::check_options(op.spec, {});
      if (defaults.ok()) {
        for (const auto& m : op.models(*defaults)) models.insert(m);
      }
    }
    for (const std::string& model : models) {
      if (stopping.load()) return;
      auto session = ml::get_session(model, config.backend);
      if (!session.ok()) {
        std::fprintf(stderr, "atelier serve: model %s: %s (operations that need it answer with this error)\n",
                     model.c_str(), session.status().message().c_str());
        continue;
      }
      // One inference on a small picture, so the first request pays no first-run costs.
      auto png = image::encode_image(image::Image(cv::Mat(64, 64, CV_8UC3, cv::Scalar(200, 120, 40))), image::Format::kPng);
      if (!png.ok()) continue;
      ops::Upload u{"image", "image/png", "", *png};
      const ops::Operation* cutout = ops::find_operation("cutout");
      auto values = ops::check_options(cutout->spec, {{"model", model}});
      if (values.ok()) (void)cutout->run({u}, *values, context());
    }
    ready.store(true);
    dispatch_cv.notify_all();
  }

  Response route(const Request& req, std::function<void(Response)>& done, bool& async);
};

Response Service::Impl::route(const Request& req, std::function<void(Response)>& done, bool& async) {
  const std::vector<std::string> parts = path_segments(req.path);
  const std::string& m = req.method;
  auto method_not_allowed = [](const std::string& allow) {
    Response r = error_response(405, "method_not_allowed", "method not allowed (use " + allow + ")");
    r.headers.emplace_back("Allow", allow);
    return r;
  };
  if (req.path == "/healthz") return m == "GET" ? json_response(200, {{"status", "ok"}}) : method_not_allowed("GET");
  if (req.path == "/readyz") {
    if (m != "GET") return method_not_allowed("GET");
    return ready.load() ? json_response(200, {{"status", "ready"}})
                        : error_response(unavailable("not ready: loading and warming the models"));
  }
  if (req.path == "/v2/health/live" || req.path == "/v2/health/ready") {
    std::optional<V2Infer> none;
    return *v2_route(req, ready.load(), none);
  }
  if (!authorized(req)) {
    const Status denied = unauthenticated("missing or wrong API key (send Authorization: Bearer KEY)");
    Response r = is_v2_path(req.path) ? v2_error(denied) : error_response(denied);
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
    return r;
  }
  if (req.path == "/metrics") {
    if (m != "GET") return method_not_allowed("GET");
    Response r;
    r.content_type = "text/plain; version=0.0.4";
    r.body = metrics.render();
    return r;
  }
  if (config.worker_only) {
    return error_response(404, "not_found",
                          "this process only runs jobs (--worker-only): send requests to a front end");
  }
  if (req.path == "/openapi.json") return m == "GET" ? json_response(200, openapi_document()) : method_not_allowed("GET");
  if (is_v2_path(req.path)) {
    const auto deadline = Clock::now() + std::chrono::milliseconds(std::int64_t(config.timeout * 1000));
    std::optional<V2Infer> infer;
    if (std::optional<Response> r = v2_route(req, ready.load(), infer)) return std::move(*r);
    async = true;
    run_v2(std::move(*infer), deadline, std::move(done));
    return {};
  }
  if (parts.size() >= 2 && parts[0] == "v1" && parts[1] == "jobs") {
    if (parts.size() == 2) return m == "POST" ? (ready.load() ? create_job(req) : error_response(unavailable("not ready: loading and warming the models"))) : method_not_allowed("POST");
    const std::string& id = parts[2];
    if (!valid_job_id(id)) return error_response(404, "not_found", "job '" + id + "' not found");
    if (parts.size() == 3) {
      if (m == "GET") {
        auto job = jobs->get(id);
        return job.ok() ? json_response(200, job_json(*job)) : error_response(job.status());
      }
      if (m == "DELETE") {
        auto job = jobs->cancel(id);
        return job.ok() ? json_response(200, job_json(*job)) : error_response(job.status());
      }
      return method_not_allowed("GET, DELETE");
    }
    if (m != "GET") return method_not_allowed("GET");
    auto job = jobs->get(id);
    if (!job.ok()) return error_response(job.status());
    if (parts.size() == 4 && parts[3] == "result") {
      if (job->state != JobState::kSucceeded) {
        if (job->state == JobState::kFailed) {
          return error_response(Status(status_code_from_word(job->error_code), job->error_message));
        }
        return error_response(409, "not_finished", "job " + id + " is " + std::string(job_state_name(job->state)));
      }
      const auto stored = nlohmann::json::parse(job->result_json, nullptr, false);
      ops::OperationResult result;
      result.json = stored.value("json", nlohmann::json::object());
      const fs::path dir = jobs->job_dir(id) / "result";
      const bool json = wants_json(req) || stored["files"].size() != 1;
      for (const auto& f : stored["files"]) {
        ops::OutputFile file;
        file.name = f.value("name", "");
        file.content_type = f.value("content_type", "");
        if (!json) {
          auto bytes = read_file(dir / file.name, 1ull << 32);
          if (!bytes.ok()) return error_response(404, "not_found", "the job's result has expired");
          file.bytes = std::move(bytes).value();
        }
        result.files.push_back(std::move(file));
      }
      return result_response(result, json, "/v1/jobs/" + id + "/files/");
    }
    if (parts.size() == 5 && parts[3] == "files" && is_file_name(parts[4])) {
      return serve_file(jobs->job_dir(id) / "result" / parts[4]);
    }
    return error_response(404, "not_found", "no route " + req.path);
  }
  if (parts.size() == 4 && parts[0] == "v1" && parts[1] == "results") {
    if (m != "GET") return method_not_allowed("GET");
    if (!valid_job_id(parts[2]) || !is_file_name(parts[3])) return error_response(404, "not_found", "no such result");
    return serve_file(results_dir() / parts[2] / parts[3]);
  }
  if (parts.size() == 2 && parts[0] == "v1") {
    const ops::Operation* op = ops::find_operation(parts[1]);
    if (!op) return error_response(404, "not_found", "no operation '" + parts[1] + "'");
    if (m != "POST") return method_not_allowed("POST");
    if (!ready.load()) return error_response(unavailable("not ready: loading and warming the models"));
    const auto deadline = Clock::now() + std::chrono::milliseconds(std::int64_t(config.timeout * 1000));
    auto parsed = parse(*op, req, req.query);
    if (!parsed.ok()) return error_response(parsed.status());
    async = true;
    run_sync(std::move(parsed).value(), req, deadline, std::move(done));
    return {};
  }
  return error_response(404, "not_found", "no route " + req.path);
}

Service::Service(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

Service::~Service() { shutdown(0); }

Result<std::unique_ptr<Service>> Service::create(ServeConfig config) {
  auto impl = std::make_unique<Impl>();
  if (config.data_dir.empty()) return invalid_argument("--data-dir: a folder is needed for jobs and results");
  ATELIER_TRY(ensure_directory(config.data_dir / "results").with_context("--data-dir"));
  if (config.queue_url.empty()) {
    ATELIER_ASSIGN_OR_RETURN(impl->jobs, JobStore::open(config.data_dir));
  } else {
    RedisStoreOptions opt;
    opt.claim_idle_ms = int(config.claim_idle * 1000);
    opt.result_ttl_ms = std::int64_t(config.result_ttl * 1000);
    ATELIER_ASSIGN_OR_RETURN(impl->jobs, open_redis_job_store(config.queue_url, config.data_dir, opt));
  }
  ATELIER_TRY(impl->jobs->requeue_interrupted().status());
  if (!config.webhook_secret.empty()) {
    auto key = parse_webhook_secret(config.webhook_secret);
    if (!key.ok()) return key.status();
    impl->webhook_key = *key;
  }
  impl->config = std::move(config);
  Impl* p = impl.get();
  p->queue = std::make_unique<WorkQueue>(p->config.workers, p->config.queue);
  p->metrics.add_sampled("atelier_queue_depth", "Requests waiting for a worker.", "gauge", [p] {
    return std::vector<std::pair<std::string, double>>{{"", double(p->queue->depth())}};
  });
  p->metrics.add_sampled("atelier_in_flight", "Requests and jobs a worker runs now.", "gauge", [p] {
    return std::vector<std::pair<std::string, double>>{{"", double(p->queue->running())}};
  });
  p->metrics.add_sampled("atelier_ready", "1 once the models are loaded and warm.", "gauge", [p] {
    return std::vector<std::pair<std::string, double>>{{"", p->ready.load() ? 1.0 : 0.0}};
  });
  p->metrics.add_sampled("atelier_jobs", "Jobs in the store, by state.", "gauge", [p] {
    std::vector<std::pair<std::string, double>> out;
    for (const auto& [state, n] : p->jobs->counts()) {
      out.emplace_back("state=\"" + std::string(job_state_name(state)) + "\"", double(n));
    }
    return out;
  });
  p->expire();
  if (p->config.warm) p->warmer = std::thread([p] { p->warm_up(); });
  else p->ready.store(true);
  p->dispatcher = std::thread([p] { p->dispatch_loop(); });
  return std::unique_ptr<Service>(new Service(std::move(impl)));
}

// The route's template for logs and metrics: ids never become label values.
std::string route_label(const std::string& path) {
  const std::vector<std::string> p = path_segments(path);
  if (path == "/healthz" || path == "/readyz" || path == "/metrics" || path == "/openapi.json") return path;
  if (is_v2_path(path)) return v2_route_label(path);
  if (p.size() == 2 && p[0] == "v1" && (p[1] == "jobs" || ops::find_operation(p[1]))) return "/v1/" + p[1];
  if (p.size() >= 3 && p[0] == "v1" && p[1] == "jobs") {
    if (p.size() == 3) return "/v1/jobs/{id}";
    if (p.size() == 4 && p[3] == "result") return "/v1/jobs/{id}/result";
    if (p.size() == 5 && p[3] == "files") return "/v1/jobs/{id}/files/{name}";
  }
  if (p.size() == 4 && p[0] == "v1" && p[1] == "results") return "/v1/results/{id}/{name}";
  return "unmatched";
}

void Service::handle(Request request, std::function<void(Response)> done) {
  bool async = false;
  ++impl_->in_flight;
  std::function<void(Response)> labelled = [this, done = std::move(done), route = route_label(request.path)](Response r) {
    r.route = route;
    done(std::move(r));
    --impl_->in_flight;
  };
  Response r = impl_->route(request, labelled, async);
  if (!async) labelled(std::move(r));
}

bool Service::ready() const { return impl_->ready.load(); }

void Service::shutdown(double seconds) {
  Impl& s = *impl_;
  if (!s.queue) return;
  if (!s.stopping.load()) {
    // Requests already accepted get their answers; running jobs past the grace are left
    // running in the store (the next start runs them again).
    const auto until = Clock::now() + std::chrono::milliseconds(std::int64_t(seconds * 1000));
    while (Clock::now() < until && (s.in_flight.load() > 0 || !s.queue->wait_idle(10))) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    s.stopping.store(true);
  }
  s.dispatch_cv.notify_all();
  if (s.dispatcher.joinable()) s.dispatcher.join();
  if (s.warmer.joinable()) s.warmer.join();
  s.queue->stop(false);
  std::lock_guard lock(s.webhook_mu);
  for (auto& t : s.webhook_threads) t.join();
  s.webhook_threads.clear();
}

void Service::log_request(const Request& request, const Response& response, std::size_t bytes_sent, double seconds) {
  impl_->metrics.record_request(response.route, response.status, seconds);
  const double ms = seconds * 1000;
  if (impl_->config.log_json) {
    nlohmann::json j = {{"method", request.method}, {"route", response.route}, {"status", response.status},
                        {"bytes", bytes_sent}, {"ms", ms}, {"request_id", request.id}};
    std::fprintf(stderr, "%s\n", j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace).c_str());
  } else {
    std::fprintf(stderr, "%s %s %d %zu %.1fms %s\n", request.method.c_str(), response.route.c_str(), response.status,
                 bytes_sent, ms, request.id.c_str());
  }
}

std::optional<Response> Service::authorize(const Request& request) const {
  if (impl_->authorized(request)) return std::nullopt;
  Response r = error_response(unauthenticated("missing or wrong API key (send Authorization: Bearer KEY)"));
  r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

Result<nlohmann::json> Service::job_event(std::string_view id) {
  if (!valid_job_id(id)) return not_found("job '" + std::string(id.substr(0, 64)) + "' not found");
  ATELIER_ASSIGN_OR_RETURN(JobRecord job, impl_->jobs->get(id));
  return job_json(job);
}

std::string Service::job_text(std::string_view id, std::size_t from) {
  std::lock_guard lock(impl_->text_mu);
  auto it = impl_->texts.find(std::string(id));
  if (it == impl_->texts.end() || from >= it->second.text.size()) return {};
  return it->second.text.substr(from);
}

Metrics& Service::metrics() { return impl_->metrics; }
const ServeConfig& Service::config() const { return impl_->config; }

}  // namespace atelier::server
