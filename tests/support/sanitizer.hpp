// IVS_ADDRESS_SANITIZER is 1 in a build under AddressSanitizer, whichever compiler: GCC defines
// __SANITIZE_ADDRESS__, clang (the sanitizer build of scripts/test.sh) only answers
// __has_feature(address_sanitizer). Tests that measure memory skip themselves under it.
#pragma once

#if defined(__SANITIZE_ADDRESS__)
#define IVS_ADDRESS_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define IVS_ADDRESS_SANITIZER 1
#endif
#endif
#ifndef IVS_ADDRESS_SANITIZER
#define IVS_ADDRESS_SANITIZER 0
#endif
