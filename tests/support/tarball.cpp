#include "support/tarball.h"

#include <archive.h>
#include <archive_entry.h>

namespace atelier::testing {

std::vector<std::uint8_t> tarball_bytes(const std::vector<std::pair<std::string, std::string>>& files, bool gzip) {
  std::size_t capacity = 64 << 10;
  for (const auto& [name, content] : files) capacity += name.size() + content.size() + 2048;
  std::vector<std::uint8_t> out(capacity);
  std::size_t used = 0;
  archive* a = archive_write_new();
  if (gzip) archive_write_add_filter_gzip(a);
  archive_write_set_format_pax_restricted(a);
  archive_write_set_bytes_in_last_block(a, 1);
  bool ok = archive_write_open_memory(a, out.data(), out.size(), &used) == ARCHIVE_OK;
  for (const auto& [name, content] : files) {
    if (!ok) break;
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, name.c_str());
    archive_entry_set_size(e, la_int64_t(content.size()));
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    ok = archive_write_header(a, e) == ARCHIVE_OK &&
         archive_write_data(a, content.data(), content.size()) == la_ssize_t(content.size());
    archive_entry_free(e);
  }
  ok = archive_write_close(a) == ARCHIVE_OK && ok;
  archive_write_free(a);
  if (!ok) return {};
  out.resize(used);
  return out;
}

}  // namespace atelier::testing
