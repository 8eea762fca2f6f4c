#include "image/format.h"

#include <zlib.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <string>
#include <vector>

namespace atelier::image {
namespace {

using Bytes = std::span<const std::uint8_t>;

std::uint32_t be16(const std::uint8_t* p) { return (std::uint32_t(p[0]) << 8) | p[1]; }
std::uint32_t be32(const std::uint8_t* p) { return (be16(p) << 16) | be16(p + 2); }
std::uint32_t le16(const std::uint8_t* p) { return std::uint32_t(p[0]) | (std::uint32_t(p[1]) << 8); }
std::uint32_t le32(const std::uint8_t* p) { return le16(p) | (le16(p + 2) << 16); }
std::uint32_t le24(const std::uint8_t* p) { return le16(p) | (std::uint32_t(p[2]) << 16); }

bool starts_with(Bytes b, const char* magic, std::size_t n) {
  return b.size() >= n && std::memcmp(b.data(), magic, n) == 0;
}

Status corrupt(Format f, const std::string& detail) {
  return data_loss("corrupt or truncated " + std::string(format_name(f)) + " image (" + detail + ")");
}

// A classic TIFF structure (a TIFF file or an EXIF block) read through its IFD0.
class TiffReader {
 public:
  explicit TiffReader(Bytes b) : b_(b) {
    if (b_.size() < 8) return;
    if (b_[0] == 'I' && b_[1] == 'I' && b_[2] == 42 && b_[3] == 0) le_ = true;
    else if (b_[0] == 'M' && b_[1] == 'M' && b_[2] == 0 && b_[3] == 42) le_ = false;
    else return;
    ifd_ = u32(4);
    valid_ = ifd_ >= 8 && std::uint64_t(ifd_) + 2 <= b_.size();
    if (valid_) {
      count_ = u16(ifd_);
      valid_ = std::uint64_t(ifd_) + 2 + std::uint64_t(count_) * 12 <= b_.size();
    }
  }
  bool valid() const { return valid_; }

  // The raw bytes of tag `tag` (BYTE or UNDEFINED), empty when absent or malformed.
  std::vector<std::uint8_t> bytes(std::uint16_t tag) const {
    if (!valid_) return {};
    for (std::uint32_t i = 0; i < count_; ++i) {
      std::size_t e = ifd_ + 2 + i * 12;
      if (u16(e) != tag) continue;
      std::uint32_t type = u16(e + 2), n = u32(e + 4);
      if ((type != 1 && type != 7) || n == 0) return {};
      std::size_t at = n <= 4 ? e + 8 : u32(e + 8);
      if (std::uint64_t(at) + n > b_.size()) return {};
      return {b_.begin() + std::ptrdiff_t(at), b_.begin() + std::ptrdiff_t(at + n)};
    }
    return {};
  }

  // Values of tag `tag` (SHORT or LONG), empty when absent or malformed.
  std::vector<std::uint64_t> values(std::uint16_t tag) const {
    std::vector<std::uint64_t> out;
    if (!valid_) return out;
    for (std::uint32_t i = 0; i < count_; ++i) {
      std::size_t e = ifd_ + 2 + i * 12;
      if (u16(e) != tag) continue;
      std::uint32_t type = u16(e + 2), n = u32(e + 4);
      std::size_t size = type == 3 ? 2 : type == 4 ? 4 : 0;
      if (size == 0 || n == 0 || n > (1u << 24)) return out;
      std::uint64_t bytes = std::uint64_t(size) * n;
      std::size_t at = bytes <= 4 ? e + 8 : u32(e + 8);
      if (at + bytes > b_.size()) return out;
      for (std::uint32_t k = 0; k < n; ++k) out.push_back(size == 2 ? u16(at + k * 2) : u32(at + k * 4));
      return out;
    }
    return out;
  }

 private:
  std::uint32_t u16(std::size_t at) const { return le_ ? le16(&b_[at]) : be16(&b_[at]); }
  std::uint32_t u32(std::size_t at) const { return le_ ? le32(&b_[at]) : be32(&b_[at]); }
  Bytes b_;
  bool le_ = true;
  bool valid_ = false;
  std::uint32_t ifd_ = 0;
  std::uint32_t count_ = 0;
};

constexpr std::size_t kMaxIccBytes = 16u << 20;

// zlib-inflates a PNG iCCP payload; empty on any error.
std::vector<std::uint8_t> inflate_icc(Bytes z) {
  std::vector<std::uint8_t> out(std::min<std::size_t>(kMaxIccBytes, std::max<std::size_t>(z.size() * 4, 4096)));
  while (true) {
    uLongf len = uLongf(out.size());
    int rc = uncompress(out.data(), &len, z.data(), uLong(z.size()));
    if (rc == Z_OK) {
      out.resize(len);
      return out;
    }
    if (rc != Z_BUF_ERROR || out.size() >= kMaxIccBytes) return {};
    out.resize(std::min(kMaxIccBytes, out.size() * 4));
  }
}

Result<ImageHeader> probe_jpeg(Bytes b) {
  ImageHeader h;
  h.format = Format::kJpeg;
  std::vector<std::pair<int, Bytes>> icc_parts;  // APP2 ICC_PROFILE segments by sequence number
  std::size_t pos = 2;
  bool have_sof = false;
  bool have_sos = false;
  while (pos + 4 <= b.size()) {
    if (b[pos] != 0xFF) return corrupt(Format::kJpeg, "bad marker");
    std::uint8_t marker = b[pos + 1];
    if (marker == 0xFF) { ++pos; continue; }
    pos += 2;
    if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) continue;
    if (marker == 0xD9) break;
    std::size_t len = be16(&b[pos]);
    if (len < 2 || pos + len > b.size()) return corrupt(Format::kJpeg, "segment runs past the end");
    const std::uint8_t* seg = &b[pos + 2];
    std::size_t seg_len = len - 2;
    if (marker == 0xE1 && seg_len > 6 && std::memcmp(seg, "Exif\0\0", 6) == 0) {
      h.orientation = exif_orientation(Bytes(seg + 6, seg_len - 6));
    }
    if (marker == 0xE2 && seg_len > 14 && std::memcmp(seg, "ICC_PROFILE\0", 12) == 0) {
      icc_parts.emplace_back(seg[12], Bytes(seg + 14, seg_len - 14));
    }
    bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
    if (sof && seg_len >= 5) {
      h.height = int(be16(seg + 1));
      h.width = int(be16(seg + 3));
      have_sof = true;
    }
    if (marker == 0xDA) { have_sos = true; pos += len; break; }
    pos += len;
  }
  if (!have_sof) return corrupt(Format::kJpeg, "no frame header");
  if (!have_sos) return corrupt(Format::kJpeg, "no image data");
  // The entropy-coded data never contains FF D9 (FF is byte-stuffed), so an EOI marker
  // anywhere after the scan header means the image data is complete.
  bool eoi = false;
  for (std::size_t i = b.size() - 1; i > pos; --i) {
    if (b[i] == 0xD9 && b[i - 1] == 0xFF) { eoi = true; break; }
  }
  if (!eoi) return corrupt(Format::kJpeg, "no end-of-image marker");
  std::sort(icc_parts.begin(), icc_parts.end(), [](const auto& a, const auto& b) { return a.first < b.first; });
  for (const auto& [seq, part] : icc_parts) h.icc_profile.insert(h.icc_profile.end(), part.begin(), part.end());
  if (h.icc_profile.size() > kMaxIccBytes) h.icc_profile.clear();
  return h;
}

Result<ImageHeader> probe_png(Bytes b) {
  ImageHeader h;
  h.format = Format::kPng;
  std::size_t pos = 8;
  bool first = true;
  while (true) {
    if (pos + 12 > b.size()) return corrupt(Format::kPng, "no IEND chunk");
    std::uint64_t len = be32(&b[pos]);
    const std::uint8_t* type = &b[pos + 4];
    if (pos + 12 + len > b.size()) return corrupt(Format::kPng, "chunk runs past the end");
    // libpng checks the image data's checksums itself (IDAT: the bulk of the file) but only
    // warns about the other chunks' and drops them; a damaged chunk is a damaged file.
    if (std::memcmp(type, "IDAT", 4) != 0 &&
        crc32(crc32(0, type, 4), type + 4, uInt(len)) != be32(&b[pos + 8 + std::size_t(len)])) {
      return corrupt(Format::kPng, "bad checksum in the " + std::string(reinterpret_cast<const char*>(type), 4) + " chunk");
    }
    if (first) {
      if (std::memcmp(type, "IHDR", 4) != 0 || len < 13) return corrupt(Format::kPng, "no IHDR chunk");
      h.width = int(std::min<std::uint32_t>(be32(&b[pos + 8]), 0x7fffffff));
      h.height = int(std::min<std::uint32_t>(be32(&b[pos + 12]), 0x7fffffff));
      first = false;
    } else if (std::memcmp(type, "eXIf", 4) == 0) {
      h.orientation = exif_orientation(Bytes(&b[pos + 8], std::size_t(len)));
    } else if (std::memcmp(type, "iCCP", 4) == 0) {
      // profile name (1-79 bytes), NUL, compression method (0 = zlib), compressed profile
      Bytes data(&b[pos + 8], std::size_t(len));
      const auto* nul = static_cast<const std::uint8_t*>(std::memchr(data.data(), 0, std::min<std::size_t>(data.size(), 80)));
      if (nul && std::size_t(nul - data.data()) + 2 < data.size() && nul[1] == 0) {
        h.icc_profile = inflate_icc(data.subspan(std::size_t(nul - data.data()) + 2));
      }
    } else if (std::memcmp(type, "IEND", 4) == 0) {
      return h;
    }
    pos += 12 + std::size_t(len);
  }
}

Result<ImageHeader> probe_webp(Bytes b) {
  ImageHeader h;
  h.format = Format::kWebp;
  std::uint64_t riff = le32(&b[4]);
  if (riff + 8 > b.size()) return corrupt(Format::kWebp, "RIFF data runs past the end");
  std::size_t end = std::size_t(riff) + 8;
  std::size_t pos = 12;
  bool have_size = false;
  bool have_image = false;
  while (pos + 8 <= end) {
    const std::uint8_t* fourcc = &b[pos];
    std::uint64_t len = le32(&b[pos + 4]);
    if (pos + 8 + len > end) return corrupt(Format::kWebp, "chunk runs past the end");
    const std::uint8_t* d = &b[pos + 8];
    if (std::memcmp(fourcc, "VP8X", 4) == 0 && len >= 10) {
      if (d[0] & 0x02) return unsupported("unsupported image format (animated WebP)");
      h.width = int(le24(d + 4) + 1);
      h.height = int(le24(d + 7) + 1);
      have_size = true;
    } else if (std::memcmp(fourcc, "VP8 ", 4) == 0 && len >= 10) {
      if (d[3] != 0x9d || d[4] != 0x01 || d[5] != 0x2a) return corrupt(Format::kWebp, "bad VP8 frame");
      if (!have_size) {
        h.width = int(le16(d + 6) & 0x3fff);
        h.height = int(le16(d + 8) & 0x3fff);
        have_size = true;
      }
      have_image = true;
    } else if (std::memcmp(fourcc, "VP8L", 4) == 0 && len >= 5) {
      if (d[0] != 0x2f) return corrupt(Format::kWebp, "bad VP8L header");
      std::uint32_t bits = le32(d + 1);
      if (!have_size) {
        h.width = int((bits & 0x3fff) + 1);
        h.height = int(((bits >> 14) & 0x3fff) + 1);
        have_size = true;
      }
      have_image = true;
    } else if (std::memcmp(fourcc, "ICCP", 4) == 0 && len <= kMaxIccBytes) {
      h.icc_profile.assign(d, d + len);
    } else if (std::memcmp(fourcc, "EXIF", 4) == 0) {
      Bytes exif(d, std::size_t(len));
      if (len > 6 && std::memcmp(d, "Exif\0\0", 6) == 0) exif = exif.subspan(6);
      h.orientation = exif_orientation(exif);
    }
    pos += 8 + std::size_t(len) + (len & 1);
  }
  if (!have_size || !have_image) return corrupt(Format::kWebp, "no image data");
  return h;
}

Result<ImageHeader> probe_tiff(Bytes b) {
  ImageHeader h;
  h.format = Format::kTiff;
  if (b[2] == 43 || b[3] == 43) return unsupported("unsupported image format (BigTIFF)");
  TiffReader t(b);
  if (!t.valid()) return corrupt(Format::kTiff, "image directory runs past the end");
  auto w = t.values(256), ht = t.values(257);
  if (w.empty() || ht.empty()) return corrupt(Format::kTiff, "no image size");
  h.width = int(std::min<std::uint64_t>(w[0], 0x7fffffff));
  h.height = int(std::min<std::uint64_t>(ht[0], 0x7fffffff));
  auto o = t.values(274);
  if (!o.empty() && o[0] >= 1 && o[0] <= 8) h.orientation = int(o[0]);
  h.icc_profile = t.bytes(34675);
  if (h.icc_profile.size() > kMaxIccBytes) h.icc_profile.clear();
  for (auto [off_tag, len_tag] : {std::pair<std::uint16_t, std::uint16_t>{273, 279}, {324, 325}}) {
    auto offs = t.values(off_tag), lens = t.values(len_tag);
    for (std::size_t i = 0; i < std::min(offs.size(), lens.size()); ++i) {
      if (offs[i] + lens[i] > b.size()) return corrupt(Format::kTiff, "image data runs past the end");
    }
  }
  return h;
}

Result<ImageHeader> probe_bmp(Bytes b) {
  ImageHeader h;
  h.format = Format::kBmp;
  if (b.size() < 26) return corrupt(Format::kBmp, "header runs past the end");
  std::uint32_t data_offset = le32(&b[10]);
  std::uint32_t dib = le32(&b[14]);
  std::int64_t w = 0, ht = 0;
  std::uint32_t bpp = 0, compression = 0;
  if (dib == 12) {
    w = le16(&b[18]);
    ht = le16(&b[20]);
    bpp = le16(&b[24]);
  } else {
    if (dib < 40 || b.size() < 34) return corrupt(Format::kBmp, "header runs past the end");
    w = std::int32_t(le32(&b[18]));
    ht = std::int32_t(le32(&b[22]));
    bpp = le16(&b[28]);
    compression = le32(&b[30]);
  }
  if (w <= 0 || ht == 0) return corrupt(Format::kBmp, "bad image size");
  if (ht < 0) ht = -ht;
  h.width = int(std::min<std::int64_t>(w, 0x7fffffff));
  h.height = int(std::min<std::int64_t>(ht, 0x7fffffff));
  if (compression == 0 || compression == 3) {  // uncompressed rows: the size is known
    std::uint64_t stride = ((std::uint64_t(w) * bpp + 31) / 32) * 4;
    if (std::uint64_t(data_offset) + stride * std::uint64_t(ht) > b.size()) {
      return corrupt(Format::kBmp, "pixel data runs past the end");
    }
  }
  return h;
}

}  // namespace

std::string_view format_name(Format f) {
  switch (f) {
    case Format::kJpeg: return "JPEG";
    case Format::kPng: return "PNG";
    case Format::kWebp: return "WebP";
    case Format::kTiff: return "TIFF";
    case Format::kBmp: return "BMP";
    case Format::kUnknown: break;
  }
  return "unknown";
}

Format detect_format(Bytes b) {
  if (starts_with(b, "\xFF\xD8\xFF", 3)) return Format::kJpeg;
  if (starts_with(b, "\x89PNG\r\n\x1a\n", 8)) return Format::kPng;
  if (b.size() >= 12 && starts_with(b, "RIFF", 4) && std::memcmp(&b[8], "WEBP", 4) == 0) return Format::kWebp;
  if (starts_with(b, "II*\0", 4) || starts_with(b, "MM\0*", 4) || starts_with(b, "II+\0", 4) ||
      starts_with(b, "MM\0+", 4)) {
    return Format::kTiff;
  }
  if (starts_with(b, "BM", 2) && b.size() >= 18) return Format::kBmp;
  return Format::kUnknown;
}

Format format_from_extension(const std::filesystem::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
  if (ext == ".jpg" || ext == ".jpeg") return Format::kJpeg;
  if (ext == ".png") return Format::kPng;
  if (ext == ".webp") return Format::kWebp;
  if (ext == ".tif" || ext == ".tiff") return Format::kTiff;
  if (ext == ".bmp") return Format::kBmp;
  return Format::kUnknown;
}

int exif_orientation(Bytes tiff) {
  if (tiff.size() > 6 && std::memcmp(tiff.data(), "Exif\0\0", 6) == 0) tiff = tiff.subspan(6);
  TiffReader t(tiff);
  auto v = t.values(274);
  if (v.empty() || v[0] < 1 || v[0] > 8) return 1;
  return int(v[0]);
}

Result<ImageHeader> probe_image(Bytes b) {
  Format f = detect_format(b);
  Result<ImageHeader> r = unsupported("unsupported image format (expected JPEG, PNG, WebP, TIFF or BMP)");
  switch (f) {
    case Format::kJpeg: r = probe_jpeg(b); break;
    case Format::kPng: r = probe_png(b); break;
    case Format::kWebp: r = probe_webp(b); break;
    case Format::kTiff: r = probe_tiff(b); break;
    case Format::kBmp: r = probe_bmp(b); break;
    case Format::kUnknown: break;
  }
  if (r.ok() && (r->width <= 0 || r->height <= 0)) return corrupt(f, "zero image size");
  return r;
}

}  // namespace atelier::image
