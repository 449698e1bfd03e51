// media-server: one executable, several roles (README "Roles").
#include <cstdio>
#include <cstring>

int main(int argc, char** argv) {
  if (argc > 1 && (std::strcmp(argv[1], "--version") == 0)) {
    std::printf("media-server %s\n", IVS_VERSION);
    return 0;
  }
  std::fprintf(stderr, "media-server: roles are being built; see README.md\n");
  return 2;
}
