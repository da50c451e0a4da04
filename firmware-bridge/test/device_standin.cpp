// A charger board stand-in for the pty tests and the benchmark: the real BridgeLink and codec on a pseudo
// terminal, driven line by line from stdin, reporting JSON lines on stdout. It plays the firmware's part
// (MicroOcpp queues messages while the link is down and sends them once it is up again) and can write raw
// debug text, garbage and bit-flipped frames onto the same stream, as a real UART0 would carry them.
//
// usage: device_standin <tty path> <chargeBoxId> [--baud N] [--rx N] [--mtu N] [--max N] [--proto N]
//   --baud paces both directions at N/10 bytes per second (8N1); 0 (default) = as fast as the pty goes.
//   --proto: highest protocol version the board offers (default: the library's newest), e.g. 1 for old firmware.
// stdin:  send <json> | burst <n> <json> | log <text> | raw <hex> | flip <bit> <json> | autoreply on|off
//         | stats | quit
// stdout: {"ev":"open"|"closed"|"up"|"down"|"recv"|"sent"|"burst-done"|"stats"|"error", ...}
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <algorithm>
#include <deque>
#include <string>

#include "../src/cbridge_codec.h"
#include "../src/cbridge_link.h"

using namespace cbridge;

static uint32_t nowMs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint32_t>(ts.tv_sec * 1000ULL + ts.tv_nsec / 1000000ULL);
}
static double nowSec() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

static std::string jsonString(const char *s, size_t n) {
  std::string out = "\"";
  for (size_t i = 0; i < n; i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '"' || c == '\\') { out += '\\'; out += static_cast<char>(c); }
    else if (c < 0x20 || c == 0x7f) { char b[8]; std::snprintf(b, sizeof b, "\\u%04x", c); out += b; }
    else out += static_cast<char>(c);
  }
  return out + "\"";
}
static void emit(const std::string &json) {
  std::fwrite(json.data(), 1, json.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
}

/** The UART: a pty opened raw, paced at the baud rate when asked, reopened after an unplug. */
class Port : public ByteWriter {
 public:
  Port(const char *path, double bytesPerSec) : path_(path), rate_(bytesPerSec) {}
  int fd() const { return fd_; }
  bool open() {
    fd_ = ::open(path_, O_RDWR | O_NOCTTY | O_NONBLOCK);
    if (fd_ < 0) return false;
    termios t;
    if (tcgetattr(fd_, &t) == 0) {
      cfmakeraw(&t);
      tcsetattr(fd_, TCSANOW, &t);
    }
    txBudget_ = rxBudget_ = 0;
    txFree_ = rxFree_ = nowSec();
    emit("{\"ev\":\"open\"}");
    return true;
  }
  void close() {
    if (fd_ < 0) return;
    ::close(fd_);
    fd_ = -1;
    out_.clear();
    emit("{\"ev\":\"closed\"}");
  }
  void write(const uint8_t *d, size_t n) override {
    if (fd_ >= 0) out_.append(reinterpret_cast<const char *>(d), n);
  }
  void writeRaw(const std::string &s) { write(reinterpret_cast<const uint8_t *>(s.data()), s.size()); }
  size_t pending() const { return out_.size(); }
  /**
   * Pacing on a virtual clock: a byte may leave (or arrive) only once the line has had 10 bit times for it
   * since the previous one. An idle line gives no credit for later bursts, so a frame takes its real wire time.
   */
  void tick() {
    double t = nowSec();
    if (rate_ > 0) {
      if (out_.empty() && txFree_ < t) txFree_ = t;
      if (!rxPending_ && rxFree_ < t) rxFree_ = t;
      txBudget_ = (t - txFree_) * rate_;
      rxBudget_ = (t - rxFree_) * rate_;
    }
  }
  /** Writes what the pacing allows; false when the pty is gone. */
  bool flush() {
    if (fd_ < 0 || out_.empty()) return true;
    size_t allow = rate_ > 0 ? static_cast<size_t>(txBudget_) : out_.size();
    if (allow == 0) return true;
    ssize_t w = ::write(fd_, out_.data(), std::min(allow, out_.size()));
    if (w < 0) return errno == EAGAIN || errno == EINTR;
    out_.erase(0, static_cast<size_t>(w));
    if (rate_ > 0) txFree_ += static_cast<double>(w) / rate_;
    return true;
  }
  /** False while pacing holds back bytes that are already waiting. */
  bool mayRead() const { return rate_ <= 0 || !rxPending_ || rxBudget_ >= 1; }
  /** Bytes written by the gateway and not yet read: what a UART receive buffer would be holding now. */
  size_t unread() const {
    int n = 0;
    return fd_ >= 0 && ioctl(fd_, FIONREAD, &n) == 0 && n > 0 ? static_cast<size_t>(n) : 0;
  }
  /** Reads what the pacing allows into buf; -1 when the pty is gone. */
  ssize_t read(uint8_t *buf, size_t cap) {
    rxPending_ = unread() > 0;
    size_t allow = rate_ > 0 ? std::min(cap, static_cast<size_t>(rxBudget_)) : cap;
    if (allow == 0) return 0;
    ssize_t r = ::read(fd_, buf, allow);
    if (r < 0) return (errno == EAGAIN || errno == EINTR) ? 0 : -1;
    if (r == 0) return -1;
    if (rate_ > 0) {
      rxFree_ += static_cast<double>(r) / rate_;
      rxBudget_ -= static_cast<double>(r);
    }
    rxPending_ = unread() > 0;  // drained: the line is idle until more arrives, and idle time earns nothing
    return r;
  }

 private:
  const char *path_;
  double rate_;
  int fd_ = -1;
  std::string out_;
  double txBudget_ = 0, rxBudget_ = 0, txFree_ = 0, rxFree_ = 0;
  bool rxPending_ = false;
};

static std::string hexDecode(const std::string &hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::strtol(hex.substr(i, 2).c_str(), nullptr, 16));
  return out;
}

struct Capture : LineWriter {
  std::string bytes;
  void write(const uint8_t *d, size_t n) override { bytes.append(reinterpret_cast<const char *>(d), n); }
};

int main(int argc, char **argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s <tty> <chargeBoxId> [--baud N] [--rx N] [--mtu N] [--max N] [--proto N]\n", argv[0]);
    return 2;
  }
  BridgeConfig cfg;
  cfg.chargeBoxId = argv[2];
  cfg.rxWindow = 1024;
  cfg.maxLine = 512;
  cfg.maxMessage = 8192;
  unsigned long baud = 0;
  for (int i = 3; i + 1 < argc; i += 2) {
    unsigned long v = std::strtoul(argv[i + 1], nullptr, 10);
    if (!std::strcmp(argv[i], "--baud")) baud = v;
    else if (!std::strcmp(argv[i], "--rx")) cfg.rxWindow = static_cast<uint32_t>(v);
    else if (!std::strcmp(argv[i], "--mtu")) cfg.maxLine = static_cast<uint32_t>(v);
    else if (!std::strcmp(argv[i], "--max")) cfg.maxMessage = static_cast<uint32_t>(v);
    else if (!std::strcmp(argv[i], "--proto")) cfg.protocolVersion = static_cast<uint32_t>(v);
  }
  Port port(argv[1], baud / 10.0);
  BridgeLink link(cfg, port);
  std::deque<std::string> queue;  // the firmware's outgoing queue: kept while the link is down
  bool autoreply = false;
  bool burstActive = false;
  double burstStart = 0;
  size_t burstBytes = 0, burstCount = 0;
  size_t maxUnread = 0;

  link.onState([&](bool up) { emit(up ? "{\"ev\":\"up\"}" : "{\"ev\":\"down\"}"); });
  link.onMessage([&](const char *m, size_t n) {
    if (autoreply && n > 5 && m[1] == '2') {
      // [2,"<id>",...] → [3,"<id>",{}]: the smallest valid answer, for round-trip measurements.
      const char *q1 = static_cast<const char *>(std::memchr(m, '"', n));
      const char *q2 = q1 ? static_cast<const char *>(std::memchr(q1 + 1, '"', n - (q1 + 1 - m))) : nullptr;
      if (q1 && q2) queue.push_back("[3," + std::string(q1, q2 - q1 + 1) + ",{}]");
      return;
    }
    emit("{\"ev\":\"recv\",\"text\":" + jsonString(m, n) + "}");
  });

  std::string input;
  uint8_t buf[4096];
  bool quit = false;
  uint32_t lastOpenTry = 0;
  port.open();
  while (!quit) {
    uint32_t t = nowMs();
    if (port.fd() < 0 && static_cast<uint32_t>(t - lastOpenTry) >= 50) {
      lastOpenTry = t;
      port.open();
    }
    // While the paced line has delivered everything it may, wait for the clock instead of spinning on POLLIN.
    port.tick();
    short ptyEvents = port.mayRead() ? POLLIN : 0;
    pollfd fds[2] = {{0, POLLIN, 0}, {port.fd(), ptyEvents, 0}};
    int nfds = port.fd() >= 0 ? 2 : 1;
    ::poll(fds, nfds, 1);

    if (fds[0].revents & (POLLIN | POLLHUP)) {
      ssize_t r = ::read(0, buf, sizeof buf);
      if (r <= 0) break;
      input.append(reinterpret_cast<char *>(buf), static_cast<size_t>(r));
      size_t nl;
      while ((nl = input.find('\n')) != std::string::npos) {
        std::string line = input.substr(0, nl);
        input.erase(0, nl + 1);
        size_t sp = line.find(' ');
        std::string cmd = line.substr(0, sp), arg = sp == std::string::npos ? "" : line.substr(sp + 1);
        if (cmd == "send") queue.push_back(arg);
        else if (cmd == "log") port.writeRaw(arg + "\n");
        else if (cmd == "raw") port.writeRaw(hexDecode(arg));
        else if (cmd == "flip") {
          size_t sp2 = arg.find(' ');
          unsigned long bit = std::strtoul(arg.substr(0, sp2).c_str(), nullptr, 10);
          std::string msg = arg.substr(sp2 + 1);
          Capture cap;
          // In the form the link speaks now (or offers, while down), so only the flipped bit makes it wrong.
          uint32_t version = link.isUp() ? link.version() : cfg.protocolVersion;
          encodeMessage(reinterpret_cast<const uint8_t *>(msg.data()), msg.size(), 65536, 0, version, cap);
          std::string bytes = cap.bytes;
          // Never the final LF: the line must still end where it ended.
          size_t idx = (bit / 8) % (bytes.size() - 1);
          bytes[idx] = static_cast<char>(bytes[idx] ^ (1u << (bit % 8)));
          port.writeRaw(bytes);
        } else if (cmd == "burst") {
          size_t sp2 = arg.find(' ');
          burstCount = std::strtoul(arg.substr(0, sp2).c_str(), nullptr, 10);
          std::string msg = arg.substr(sp2 + 1);
          for (size_t i = 0; i < burstCount; i++) queue.push_back(msg);
          burstBytes = burstCount * msg.size();
          burstActive = true;
          burstStart = nowSec();
        } else if (cmd == "autoreply") autoreply = arg == "on";
        else if (cmd == "stats") {
          const BridgeStats &s = link.stats();
          char b[256];
          std::snprintf(b, sizeof b, "{\"ev\":\"stats\",\"up\":%s,\"version\":%u,\"messagesIn\":%u,\"messagesOut\":%u,\"corrupt\":%u,\"linkUps\":%u,\"linkDowns\":%u,\"queued\":%zu,\"maxUnread\":%zu}",
                        link.isUp() ? "true" : "false", static_cast<unsigned>(link.version()), s.messagesIn, s.messagesOut, s.corrupt, s.linkUps, s.linkDowns, queue.size(), maxUnread);
          emit(b);
        } else if (cmd == "quit") quit = true;
        else emit("{\"ev\":\"error\",\"text\":" + jsonString(line.data(), line.size()) + "}");
      }
    }

    port.tick();
    maxUnread = std::max(maxUnread, port.unread());
    if (port.fd() >= 0) {
      bool gone = (fds[1].revents & (POLLHUP | POLLERR)) != 0;
      while (!gone) {
        ssize_t r = port.read(buf, sizeof buf);
        if (r < 0) { gone = true; break; }
        if (r == 0) break;
        link.receive(buf, static_cast<size_t>(r), nowMs());
      }
      if (gone) port.close();
    }
    link.poll(nowMs());
    // Like MicroOcpp: hand messages to the transport only while it says it is connected, and only as fast as
    // the UART drains (sendTXT on a board blocks on a full TX buffer).
    while (link.isUp() && !queue.empty() && port.pending() < 4096) {
      const std::string &m = queue.front();
      if (!link.send(m.data(), m.size(), nowMs())) break;
      queue.pop_front();
      if (!burstActive) emit("{\"ev\":\"sent\"}");
    }
    if (!port.flush()) port.close();
    if (burstActive && queue.empty() && port.pending() == 0) {
      burstActive = false;
      char b[160];
      std::snprintf(b, sizeof b, "{\"ev\":\"burst-done\",\"count\":%zu,\"payloadBytes\":%zu,\"seconds\":%.6f}", burstCount, burstBytes, nowSec() - burstStart);
      emit(b);
    }
  }
  port.close();
  return 0;
}
