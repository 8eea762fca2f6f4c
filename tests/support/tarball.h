// Tar archives in memory, as `npm pack` writes them (pax, optionally gzip'ed), for the tests
// and the fuzz seed generator. No GoogleTest dependency.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace atelier::testing {

// The archive holding `files` (name inside the archive -> content), in order. Empty on a
// libarchive failure (the caller checks).
std::vector<std::uint8_t> tarball_bytes(const std::vector<std::pair<std::string, std::string>>& files, bool gzip = true);

}  // namespace atelier::testing
