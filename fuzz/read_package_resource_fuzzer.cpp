// ml::read_package_resource: an npm package tarball (gzip'ed or plain tar, read by
// libarchive), its dist/resources.json and the SHA-256-named chunks of a resource. The
// function takes a path, so the input is written to a per-process temporary file.
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>

#include "fuzz_support.h"
#include "ml/model_fetch.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const std::filesystem::path path =
      std::filesystem::temp_directory_path() / ("atelier-fuzz-" + std::to_string(getpid()) + ".tgz");
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return 0;
  const bool written = std::fwrite(data, 1, size, f) == size;
  if (std::fclose(f) != 0 || !written) return 0;
  (void)atelier::ml::read_package_resource(path, "/models/medium");
  std::filesystem::remove(path);
  return 0;
}
