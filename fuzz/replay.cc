// A main for the harnesses without libFuzzer: runs LLVMFuzzerTestOneInput on every file given (or
// every file of a directory given), e.g. the committed corpus under valgrind (`npm run valgrind`).
#include <dirent.h>
#include <sys/stat.h>

#include <cstdint>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size);

namespace {

long runFile(const std::string& path) {
  std::ifstream f(path, std::ios::binary);
  std::vector<uint8_t> bytes((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
  LLVMFuzzerTestOneInput(bytes.data(), bytes.size());
  return 1;
}

long runPath(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    std::fprintf(stderr, "replay: cannot read %s\n", path.c_str());
    return 0;
  }
  if (!S_ISDIR(st.st_mode)) return runFile(path);
  long n = 0;
  if (DIR* d = opendir(path.c_str())) {
    while (const dirent* e = readdir(d)) {
      if (e->d_name[0] != '.') n += runPath(path + "/" + e->d_name);
    }
    closedir(d);
  }
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  long n = 0;
  for (int i = 1; i < argc; i++) n += runPath(argv[i]);
  std::fprintf(stderr, "replayed %ld inputs\n", n);
  return 0;
}
