#include "ml/v2_protocol.h"

#include <bit>
#include <charconv>
#include <cstring>
#include <limits>

#include <nlohmann/json.hpp>

namespace atelier::ml {
namespace {
using nlohmann::json;
static_assert(std::endian::native == std::endian::little, "binary tensors are little-endian");

json tensor_header(const V2Tensor& t, bool binary) {
  json j = {{"name", t.name}, {"datatype", "FP32"}, {"shape", t.shape}};
  if (binary) j["parameters"] = {{"binary_data_size", t.data.size() * sizeof(float)}};
  else j["data"] = t.data;
  return j;
}

void append_binary(std::string& body, const std::vector<V2Tensor>& tensors) {
  for (const V2Tensor& t : tensors) {
    body.append(reinterpret_cast<const char*>(t.data.data()), t.data.size() * sizeof(float));
  }
}

V2Message finish(const json& header, const std::vector<V2Tensor>& tensors, bool binary) {
  V2Message m;
  m.body = header.dump();
  if (binary) {
    m.header_size = m.body.size();
    append_binary(m.body, tensors);
  }
  return m;
}

// Appends the numbers of a flat or nested array; false when something is not a number or
// there are more than `limit`.
bool flatten(const json& j, std::vector<float>& out, std::size_t limit) {
  for (const json& v : j) {
    if (v.is_array()) {
      if (!flatten(v, out, limit)) return false;
    } else if (v.is_number()) {
      if (out.size() >= limit) return false;
      out.push_back(v.get<float>());
    } else {
      return false;
    }
  }
  return true;
}

Result<std::vector<V2Tensor>> decode_tensors(const json& list, std::string_view binary, std::size_t max_values,
                                             const std::string& what, const char* kind) {
  if (!list.is_array()) return invalid_argument(what + ": '" + kind + "' must be an array of tensors");
  std::vector<V2Tensor> out;
  std::size_t offset = 0;
  for (std::size_t i = 0; i < list.size(); ++i) {
    const json& t = list[i];
    const std::string where = what + ": " + kind + "[" + std::to_string(i) + "]";
    if (!t.is_object() || !t.contains("name") || !t["name"].is_string()) {
      return invalid_argument(where + ": a tensor needs a string 'name'");
    }
    V2Tensor tensor;
    tensor.name = t["name"].get<std::string>();
    const std::string named = what + ": tensor '" + tensor.name + "'";
    const std::string datatype = t.value("datatype", "");
    if (datatype != "FP32") {
      return invalid_argument(named + ": datatype '" + datatype + "' is not supported (FP32 expected)");
    }
    if (!t.contains("shape") || !t["shape"].is_array()) return invalid_argument(named + ": 'shape' must be an array");
    std::size_t count = 1;
    for (const json& d : t["shape"]) {
      if (!d.is_number_integer() || d.get<std::int64_t>() < 0) {
        return invalid_argument(named + ": shape dimensions must be integers >= 0");
      }
      const auto dim = std::uint64_t(d.get<std::int64_t>());
      if (dim != 0 && count > max_values / dim) {
        return invalid_argument(named + ": shape holds more than " + std::to_string(max_values) + " values");
      }
      count *= std::size_t(dim);
      tensor.shape.push_back(std::int64_t(dim));
    }
    const json* size = nullptr;
    if (t.contains("parameters") && t["parameters"].is_object() && t["parameters"].contains("binary_data_size")) {
      size = &t["parameters"]["binary_data_size"];
    }
    if (size) {
      if (!size->is_number_unsigned() || size->get<std::uint64_t>() != count * sizeof(float)) {
        return invalid_argument(named + ": binary_data_size must be " + std::to_string(count * sizeof(float)) +
                                " (shape × 4 bytes)");
      }
      if (binary.size() - offset < count * sizeof(float)) {
        return invalid_argument(named + ": the body ends inside its binary data");
      }
      tensor.data.resize(count);
      std::memcpy(tensor.data.data(), binary.data() + offset, count * sizeof(float));
      offset += count * sizeof(float);
    } else {
      if (!t.contains("data") || !t["data"].is_array()) {
        return invalid_argument(named + ": needs 'data' (or parameters.binary_data_size)");
      }
      tensor.data.reserve(count);
      if (!flatten(t["data"], tensor.data, count)) {
        return invalid_argument(named + ": 'data' must hold " + std::to_string(count) + " numbers (the shape's product)");
      }
      if (tensor.data.size() != count) {
        return invalid_argument(named + ": 'data' holds " + std::to_string(tensor.data.size()) + " numbers, the shape " +
                                std::to_string(count));
      }
    }
    out.push_back(std::move(tensor));
  }
  if (offset != binary.size()) {
    return invalid_argument(what + ": " + std::to_string(binary.size() - offset) +
                            " bytes after the last binary tensor");
  }
  return out;
}

Result<json> parse_header(std::string_view body, std::optional<std::size_t> header_size, const std::string& what) {
  const std::string_view text = body.substr(0, header_size.value_or(body.size()));
  json j = json::parse(text.begin(), text.end(), nullptr, false);
  if (j.is_discarded() || !j.is_object()) return invalid_argument(what + ": not a JSON object");
  return j;
}

}  // namespace

V2Message encode_v2_request(const V2Request& request, bool binary) {
  json j = json::object();
  if (!request.id.empty()) j["id"] = request.id;
  j["inputs"] = json::array();
  for (const V2Tensor& t : request.inputs) j["inputs"].push_back(tensor_header(t, binary));
  if (!request.outputs.empty()) {
    j["outputs"] = json::array();
    for (const std::string& name : request.outputs) {
      json o = {{"name", name}};
      if (request.binary_output) o["parameters"] = {{"binary_data", true}};
      j["outputs"].push_back(o);
    }
  } else if (request.binary_output) {
    j["parameters"] = {{"binary_data_output", true}};
  }
  return finish(j, request.inputs, binary);
}

V2Message encode_v2_response(const std::string& model_name, const std::string& id,
                             const std::vector<V2Tensor>& outputs, bool binary) {
  json j = {{"model_name", model_name}, {"model_version", "1"}, {"outputs", json::array()}};
  if (!id.empty()) j["id"] = id;
  for (const V2Tensor& t : outputs) j["outputs"].push_back(tensor_header(t, binary));
  return finish(j, outputs, binary);
}

Result<V2Request> decode_v2_request(std::string_view body, std::optional<std::size_t> header_size,
                                    std::size_t max_values) {
  const std::string what = "inference request";
  ATELIER_ASSIGN_OR_RETURN(json j, parse_header(body, header_size, what));
  V2Request r;
  if (j.contains("id")) {
    if (!j["id"].is_string()) return invalid_argument(what + ": 'id' must be a string");
    r.id = j["id"].get<std::string>();
  }
  if (!j.contains("inputs")) return invalid_argument(what + ": no 'inputs'");
  const std::string_view binary = header_size ? body.substr(*header_size) : std::string_view();
  ATELIER_ASSIGN_OR_RETURN(r.inputs, decode_tensors(j["inputs"], binary, max_values, what, "inputs"));
  auto binary_flag = [](const json& holder, const char* key) {
    return holder.contains("parameters") && holder["parameters"].is_object() &&
           holder["parameters"].value(key, false) == true;
  };
  r.binary_output = binary_flag(j, "binary_data_output");
  if (j.contains("outputs")) {
    if (!j["outputs"].is_array()) return invalid_argument(what + ": 'outputs' must be an array");
    for (const json& o : j["outputs"]) {
      if (!o.is_object() || !o.contains("name") || !o["name"].is_string()) {
        return invalid_argument(what + ": each requested output needs a string 'name'");
      }
      r.outputs.push_back(o["name"].get<std::string>());
      r.binary_output = r.binary_output || binary_flag(o, "binary_data");
    }
  }
  return r;
}

Result<std::vector<V2Tensor>> decode_v2_response(std::string_view body, std::optional<std::size_t> header_size,
                                                 std::size_t max_values) {
  const std::string what = "inference response";
  ATELIER_ASSIGN_OR_RETURN(json j, parse_header(body, header_size, what));
  if (j.contains("error")) {
    return internal_error(what + ": " + (j["error"].is_string() ? j["error"].get<std::string>() : j["error"].dump()));
  }
  if (!j.contains("outputs")) return invalid_argument(what + ": no 'outputs'");
  const std::string_view binary = header_size ? body.substr(*header_size) : std::string_view();
  return decode_tensors(j["outputs"], binary, max_values, what, "outputs");
}

Result<std::optional<std::size_t>> parse_header_size(std::string_view value, std::size_t body_size) {
  if (value.empty()) return std::optional<std::size_t>();
  std::size_t n = 0;
  auto [end, ec] = std::from_chars(value.data(), value.data() + value.size(), n);
  if (ec != std::errc() || end != value.data() + value.size() || n > body_size) {
    return invalid_argument("Inference-Header-Content-Length: '" + std::string(value.substr(0, 32)) +
                            "' is not a size within the body (" + std::to_string(body_size) + " bytes)");
  }
  return std::optional<std::size_t>(n);
}

}  // namespace atelier::ml
