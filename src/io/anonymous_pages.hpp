// A fixed-size, zero-filled buffer of private anonymous memory (mmap(2)) whose pages only become
// resident when written, and can be given back to the kernel (madvise(MADV_DONTNEED)) without
// unmapping.
//
// Why: UDP send slots and receive buffers are sized for the worst burst (a GOP replayed to a
// stage that just joined) but in steady state use a handful of slots. With one port per egress
// session and a thousand sessions, a zero-initialised std::vector would make every slot resident
// up front (1 MiB per port for 512 slots of 2 KiB). Untouched pages of a mapping cost address
// space only, and after a burst the slot pool hands the deep pages back, so resident memory
// follows use, with no allocation on the send path.
#pragma once

#include <sys/mman.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <new>
#include <utility>

namespace ivs::io {

class AnonymousPages {
 public:
  AnonymousPages() = default;
  // Throws std::bad_alloc when the address space cannot be reserved (at setup, never per packet).
  explicit AnonymousPages(std::size_t bytes) : bytes_(bytes) {
    if (bytes_ == 0) {
      return;
    }
    void* mapped = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (mapped == MAP_FAILED) {
      throw std::bad_alloc();
    }
    data_ = static_cast<std::uint8_t*>(mapped);
  }
  ~AnonymousPages() {
    if (data_ != nullptr) {
      ::munmap(data_, bytes_);
    }
  }
  AnonymousPages(AnonymousPages&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  AnonymousPages& operator=(AnonymousPages&& other) noexcept {
    if (this != &other) {
      this->~AnonymousPages();
      data_ = std::exchange(other.data_, nullptr);
      bytes_ = std::exchange(other.bytes_, 0);
    }
    return *this;
  }
  AnonymousPages(const AnonymousPages&) = delete;
  AnonymousPages& operator=(const AnonymousPages&) = delete;

  std::uint8_t* data() const { return data_; }
  std::size_t size() const { return bytes_; }

  // Gives back the whole pages from `offset` to the end; they read as zeros afterwards and
  // become resident again when written.
  void release_from(std::size_t offset) {
    const std::size_t page = page_size();
    const std::size_t start = (offset + page - 1) / page * page;
    if (data_ != nullptr && start < bytes_) {
      ::madvise(data_ + start, bytes_ - start, MADV_DONTNEED);
    }
  }

  static std::size_t page_size() { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

 private:
  std::uint8_t* data_ = nullptr;
  std::size_t bytes_ = 0;
};

}  // namespace ivs::io
