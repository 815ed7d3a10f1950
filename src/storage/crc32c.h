// CRC32C (Castagnoli), used to checksum every log entry on disk.
#pragma once

#include <cstdint>
#include <string_view>

namespace raftkv::storage {

uint32_t crc32c(std::string_view data, uint32_t seed = 0);

}  // namespace raftkv::storage
