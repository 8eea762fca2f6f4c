// SHA-256 (FIPS 180-4), streaming. Used to verify downloaded model chunks and to key
// caches by content. Not thread-safe per instance; independent instances are.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <string_view>

#include "core/status.h"

namespace atelier {

class Sha256 {
 public:
  Sha256();
  void update(std::span<const std::uint8_t> data);
  void update(std::string_view data);
  // The 32-byte digest; the hasher is reset afterwards.
  std::array<std::uint8_t, 32> finish();
  // Lower-case hex of finish().
  std::string finish_hex();

 private:
  void block(const std::uint8_t* p);
  std::array<std::uint32_t, 8> h_;
  std::array<std::uint8_t, 64> buf_;
  std::size_t buf_len_ = 0;
  std::uint64_t total_ = 0;
};

std::string sha256_hex(std::span<const std::uint8_t> data);
// Streams the file; errors name the path.
Result<std::string> sha256_file_hex(const std::filesystem::path& path);

}  // namespace atelier
