// server::parse_redis_reply: RESP2 replies from a Redis server (the job store of
// `atelier serve --queue-url`), read one after another as the client reads a pipeline.
#include "fuzz_support.h"
#include "server/redis_client.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view bytes = atelier::fuzz::text(data, size);
  for (int i = 0; i < 64 && !bytes.empty(); ++i) {
    atelier::server::RedisReply reply;
    auto used = atelier::server::parse_redis_reply(bytes, reply);
    if (!used.ok() || *used == 0 || *used > bytes.size()) break;
    bytes.remove_prefix(*used);
  }
  return 0;
}
