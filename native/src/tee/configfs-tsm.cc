#include "configfs-tsm.h"

#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <mutex>

#include "io.h"

namespace twi {

namespace {

std::mutex tsm_mutex;
std::atomic<uint64_t> entry_counter{0};

// A uniquely named report entry, removed when it goes out of scope.
class TsmEntry {
 public:
  explicit TsmEntry(const std::string& root) {
    path_ = root + "/twi-" + std::to_string(::getpid()) + "-" +
            std::to_string(entry_counter.fetch_add(1)) + "-" + std::to_string(::random() & 0xffff);
  }
  ~TsmEntry() {
    if (created_) ::rmdir(path_.c_str());
  }
  TsmEntry(const TsmEntry&) = delete;
  TsmEntry& operator=(const TsmEntry&) = delete;

  Status Create(const std::string& root) {
    if (::mkdir(path_.c_str(), 0700) != 0) {
      int err = errno;
      // ENXIO: no provider registered (report.c make_item).
      return Status::FromErrno(KindForOpenErrno(err), err, "mkdir " + root + "/<entry>");
    }
    created_ = true;
    return Status::Ok();
  }
  std::string Attr(const char* name) const { return path_ + "/" + name; }

 private:
  std::string path_;
  bool created_ = false;
};

Status ReadGeneration(const TsmEntry& entry, uint64_t* out) {
  std::string text;
  Status s = ReadText(entry.Attr("generation"), 32, &text);
  if (!s.ok()) return s;
  char* end = nullptr;
  errno = 0;
  unsigned long long v = std::strtoull(text.c_str(), &end, 10);
  if (text.empty() || errno != 0 || end == nullptr || *end != '\0') {
    return Status::Make(ErrorKind::kResponse, "configfs-tsm generation is not a number");
  }
  *out = v;
  return Status::Ok();
}

// One attempt on a fresh entry. kBusy results may be retried by the caller.
Status Attempt(const TsmReportRequest& req, TsmReport* out) {
  TsmEntry entry(req.root);
  Status s = entry.Create(req.root);
  if (!s.ok()) return s;
  s = ReadText(entry.Attr("provider"), 256, &out->provider);
  if (!s.ok()) return s;
  if (!req.expected_provider.empty() && out->provider != req.expected_provider) {
    return Status::Make(ErrorKind::kUnavailable, "configfs-tsm provider is " + out->provider +
                                                     ", not " + req.expected_provider);
  }
  uint64_t before = 0;
  s = ReadGeneration(entry, &before);
  if (!s.ok()) return s;
  s = WriteOnce(entry.Attr("inblob"), req.inblob, sizeof req.inblob);
  if (!s.ok()) return s;
  // The store is committed when the file is released and a refusal (EBUSY: the write
  // generation would wrap) is not reported to the writer, so the generation tells
  // whether exactly our write landed (libtdx_attest checks the same).
  uint64_t written = 0;
  s = ReadGeneration(entry, &written);
  if (!s.ok()) return s;
  if (written != before + 1) {
    return Status::Make(ErrorKind::kBusy, "configfs-tsm inblob write moved generation from " +
                                              std::to_string(before) + " to " +
                                              std::to_string(written) + ", expected " +
                                              std::to_string(before + 1));
  }
  s = ReadWhole(entry.Attr("outblob"), kTsmOutblobMax, &out->outblob);
  if (!s.ok()) return s;
  if (out->outblob.empty()) return Status::Make(ErrorKind::kResponse, "configfs-tsm outblob is empty");
  if (req.want_auxblob) {
    // auxblob comes from the same cached generation as outblob (report.c), so it is read
    // before the generation check. Providers without certificates expose an empty file,
    // and tdx_guest no file at all.
    if (PathExists(entry.Attr("auxblob"))) {
      s = ReadWhole(entry.Attr("auxblob"), kTsmAuxblobMax, &out->auxblob);
      if (!s.ok()) return s;
    }
  }
  uint64_t after = 0;
  s = ReadGeneration(entry, &after);
  if (!s.ok()) return s;
  out->generation = after;
  // Exactly our one inblob write happened in between; anything else means another
  // writer changed the entry and the outblob may not carry our inblob.
  if (after != before + 1) {
    return Status::Make(ErrorKind::kBusy, "configfs-tsm generation went from " +
                                              std::to_string(before) + " to " +
                                              std::to_string(after) + ", expected " +
                                              std::to_string(before + 1));
  }
  return Status::Ok();
}

}  // namespace

Status TsmGetReport(const TsmReportRequest& req, TsmReport* out) {
  std::lock_guard<std::mutex> lock(tsm_mutex);
  int attempts = req.max_attempts < 1 ? 1 : req.max_attempts;
  Status s;
  for (int i = 1; i <= attempts; ++i) {
    *out = TsmReport();
    out->attempts = i;
    s = Attempt(req, out);
    if (s.kind != ErrorKind::kBusy) break;
  }
  if (!s.ok()) {
    TsmReport failed;
    failed.attempts = out->attempts;
    *out = std::move(failed);
  }
  return s;
}

Status TsmProbeProvider(const std::string& root, std::string* provider) {
  std::lock_guard<std::mutex> lock(tsm_mutex);
  if (!PathExists(root)) {
    return Status::FromErrno(ErrorKind::kUnavailable, ENOENT, "access " + root);
  }
  TsmEntry entry(root);
  Status s = entry.Create(root);
  if (!s.ok()) return s;
  return ReadText(entry.Attr("provider"), 256, provider);
}

}  // namespace twi
