// SHA-256, streaming (OpenSSL's implementation, which uses the CPU's SHA extensions where
// present: ~1.8 GB/s here). Used to verify downloaded model chunks and to key caches by
// content. One instance is not thread-safe; independent instances are.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace atelier {

class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(Sha256&&) noexcept;
  Sha256& operator=(Sha256&&) noexcept;
  void update(std::span<const std::uint8_t> data);
  void update(std::string_view data);
  // The 32-byte digest; the hasher is reset afterwards.
  std::array<std::uint8_t, 32> finish();
  // Lower-case hex of finish().
  std::string finish_hex();

 private:
  struct Ctx;
  std::unique_ptr<Ctx> ctx_;
};

std::string sha256_hex(std::span<const std::uint8_t> data);
// Streams the file; errors name the path.
Result<std::string> sha256_file_hex(const std::filesystem::path& path);

}  // namespace atelier
