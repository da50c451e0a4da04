// Host unit tests for the portable codec and link state machine: the shared vectors (vectors.json) plus the
// board's link behaviour on a simulated clock. Built and run by run-host-tests.sh.
#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <sstream>
#include <string>
#include <vector>

#include "../src/cbridge_codec.h"
#include "../src/cbridge_link.h"
#include "../src/cbridge_protocol.h"
#include "json_mini.h"

using namespace cbridge;
using jsonmini::Value;

static int failures = 0;
static int checks = 0;
#define CHECK(cond, ...)                                              \
  do {                                                                \
    checks++;                                                         \
    if (!(cond)) {                                                    \
      failures++;                                                     \
      std::fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__, #cond); \
      std::fprintf(stderr, __VA_ARGS__);                              \
      std::fprintf(stderr, "\n");                                     \
    }                                                                 \
  } while (0)

static std::string hexDecode(const std::string &hex) {
  std::string out;
  for (size_t i = 0; i + 1 < hex.size(); i += 2) out += static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16));
  return out;
}
/** A vectors.json byte string: a JSON string (UTF-8) or {"hex": ...}. */
static std::string bytesOf(const Value &v) { return v.type == Value::String ? v.s : hexDecode(v["hex"].s); }

static std::string printable(const std::string &s) {
  std::string out;
  for (unsigned char c : s) {
    if (c >= 0x20 && c < 0x7f) out += static_cast<char>(c);
    else { char buf[8]; std::snprintf(buf, sizeof buf, "\\x%02x", c); out += buf; }
  }
  return out;
}

struct Capture : LineWriter {
  std::vector<std::string> lines;
  std::string cur;
  void beginLine() override { cur.clear(); }
  void write(const uint8_t *d, size_t n) override { cur.append(reinterpret_cast<const char *>(d), n); }
  void endLine() override { lines.push_back(cur); }
};

struct Recorder : DecoderSink {
  std::vector<std::string> events;
  void onText(const uint8_t *l, size_t n) override { events.push_back("text:" + std::string(reinterpret_cast<const char *>(l), n)); }
  void onMessage(const uint8_t *m, size_t n) override { events.push_back("message:" + std::string(reinterpret_cast<const char *>(m), n)); }
  void onCorrupt(Corrupt r) override { events.push_back(std::string("corrupt:") + corruptName(r)); }
  void onControl(const Control &c) override {
    std::string e = std::string("control:") + c.kind + " args=";
    for (size_t i = 0; i < c.count; i++) if (!c.tokens[i].key) e += std::string(c.tokens[i].value, c.tokens[i].valueLen) + ",";
    // Fields in key order, as the expectation lists them sorted.
    std::vector<std::string> fields;
    for (size_t i = 0; i < c.count; i++) {
      if (c.tokens[i].key) fields.push_back(std::string(c.tokens[i].key, c.tokens[i].keyLen) + "=" + std::string(c.tokens[i].value, c.tokens[i].valueLen));
    }
    std::sort(fields.begin(), fields.end());
    e += " fields=";
    for (auto &f : fields) e += f + ",";
    events.push_back(e);
  }
};

static std::string expectedEvent(const Value &e) {
  if (e.has("text")) return "text:" + bytesOf(e["text"]);
  if (e.has("message")) return "message:" + e["message"].s;
  if (e.has("corrupt")) return "corrupt:" + e["corrupt"].s;
  std::string out = "control:" + e["control"].s + " args=";
  for (auto &a : e["args"].a) out += a.s + ",";
  std::vector<std::string> fields;
  for (auto &kv : e["fields"].o) fields.push_back(kv.first + "=" + kv.second.s);
  std::sort(fields.begin(), fields.end());
  out += " fields=";
  for (auto &f : fields) out += f + ",";
  return out;
}

static void testVectors(const Value &v) {
  for (auto &c : v["crc32"].a) {
    char got[9];
    std::snprintf(got, sizeof got, "%08x", crc32(reinterpret_cast<const uint8_t *>(c["input"].s.data()), c["input"].s.size()));
    CHECK(c["crc"].s == got, "crc32(%s) = %s, want %s", printable(c["input"].s).c_str(), got, c["crc"].s.c_str());
  }
  for (auto &c : v["encode"].a) {
    Capture cap;
    const std::string &text = c["text"].s;
    size_t n = encodeMessage(reinterpret_cast<const uint8_t *>(text.data()), text.size(), static_cast<size_t>(c["maxLine"].n),
                             static_cast<uint32_t>(c["msgNo"].n), static_cast<uint32_t>(c["version"].n), cap);
    CHECK(c["version"].n >= 1, "encode '%s' names its version", c["name"].s.c_str());
    CHECK(n == c["lines"].a.size(), "encode '%s': %zu lines, want %zu", c["name"].s.c_str(), n, c["lines"].a.size());
    for (size_t i = 0; i < cap.lines.size() && i < c["lines"].a.size(); i++) {
      std::string want = bytesOf(c["lines"].a[i]);
      CHECK(cap.lines[i] == want, "encode '%s' line %zu:\n  got  %s\n  want %s", c["name"].s.c_str(), i, printable(cap.lines[i]).c_str(), printable(want).c_str());
    }
  }
  for (auto &c : v["control"].a) {
    Capture cap;
    std::vector<const char *> tokens;
    for (auto &t : c["tokens"].a) tokens.push_back(t.s.c_str());
    encodeControl(c["kind"].s[0], tokens.data(), tokens.size(), cap);
    std::string want = bytesOf(c["line"]);
    CHECK(cap.lines.size() == 1 && cap.lines[0] == want, "control '%s': got %s want %s", c["name"].s.c_str(),
          cap.lines.empty() ? "" : printable(cap.lines[0]).c_str(), printable(want).c_str());
  }
  for (auto &c : v["decode"].a) {
    std::string input = bytesOf(c["input"]);
    std::vector<std::string> want;
    for (auto &e : c["events"].a) want.push_back(expectedEvent(e));
    for (size_t step : {input.size() + 1, size_t(1), size_t(7)}) {
      size_t maxLine = static_cast<size_t>(c["maxLine"].n), maxMessage = static_cast<size_t>(c["maxMessage"].n);
      std::vector<uint8_t> line(maxLine), msg(maxMessage);
      Recorder rec;
      CHECK(c["version"].n >= 1, "decode '%s' names its version", c["name"].s.c_str());
      Decoder d(line.data(), maxLine, msg.data(), maxMessage, static_cast<uint32_t>(c["version"].n), rec);
      for (size_t i = 0; i < input.size(); i += step) {
        d.push(reinterpret_cast<const uint8_t *>(input.data()) + i, std::min(step, input.size() - i));
      }
      bool same = rec.events == want;
      std::string got;
      for (auto &e : rec.events) got += "\n    " + printable(e);
      std::string exp;
      for (auto &e : want) exp += "\n    " + printable(e);
      CHECK(same, "decode '%s' (step %zu):\n  got:%s\n  want:%s", c["name"].s.c_str(), step, got.c_str(), exp.c_str());
    }
  }
}

// ── link state machine on a simulated clock ──────────────────────────────────────────────────────────────

struct Wire : ByteWriter {
  std::string bytes;
  void write(const uint8_t *d, size_t n) override { bytes.append(reinterpret_cast<const char *>(d), n); }
};

/** Decodes what the board wrote. */
struct GatewayView : DecoderSink {
  explicit GatewayView(uint32_t version = kProtocolVersion) : dec(line.data(), line.size(), msg.data(), msg.size(), version, *this) {}
  std::vector<uint8_t> line = std::vector<uint8_t>(70000), msg = std::vector<uint8_t>(70000);
  Decoder dec;
  std::vector<std::string> messages;
  std::vector<uint32_t> helloVersions;
  std::vector<std::string> controls;  // kind + first arg / id
  std::vector<Control> raw;
  size_t corrupt = 0;
  void onMessage(const uint8_t *m, size_t n) override { messages.emplace_back(reinterpret_cast<const char *>(m), n); }
  void onControl(const Control &c) override {
    std::string s(1, c.kind);
    size_t len = 0;
    const char *id = c.field("id", &len);
    if (id) s += " id=" + std::string(id, len);
    if (c.kind == 'A') s += " " + std::to_string(c.arg(0, 0));
    if (c.kind == 'H') helloVersions.push_back(c.number("v", 0));
    controls.push_back(s);
  }
  void onCorrupt(Corrupt) override { corrupt++; }
  void feed(Wire &w) { dec.push(reinterpret_cast<const uint8_t *>(w.bytes.data()), w.bytes.size()); w.bytes.clear(); }
  size_t count(char kind) const { size_t n = 0; for (auto &c : controls) n += c[0] == kind; return n; }
};

static std::string control(char kind, std::vector<std::string> tokens) {
  Capture cap;
  std::vector<const char *> p;
  for (auto &t : tokens) p.push_back(t.c_str());
  encodeControl(kind, p.data(), p.size(), cap);
  return cap.lines.at(0);
}
static std::string message(const std::string &text, size_t maxLine, uint32_t no = 0, uint32_t version = kProtocolVersion) {
  Capture cap;
  encodeMessage(reinterpret_cast<const uint8_t *>(text.data()), text.size(), maxLine, no, version, cap);
  std::string all;
  for (auto &l : cap.lines) all += l;
  return all;
}
static void give(BridgeLink &link, const std::string &bytes, uint32_t now) {
  link.receive(reinterpret_cast<const uint8_t *>(bytes.data()), bytes.size(), now);
}

static void testLink() {
  Wire wire;
  GatewayView gw;
  BridgeConfig cfg;
  cfg.chargeBoxId = "FC-HOST-1";
  cfg.rxWindow = 1024;
  cfg.maxLine = 128;
  cfg.maxMessage = 4096;
  BridgeLink link(cfg, wire);
  std::vector<std::string> got;
  std::vector<bool> states;
  link.onMessage([&](const char *m, size_t n) { got.emplace_back(m, n); });
  link.onState([&](bool up) { states.push_back(up); });

  // Hello at once, then once per hello interval while nobody answers.
  link.poll(0);
  link.poll(500);
  link.poll(1000);
  gw.feed(wire);
  CHECK(gw.count('H') == 2 && gw.controls[0] == "H id=FC-HOST-1", "hellos: %zu, first %s", gw.count('H'), gw.controls.empty() ? "-" : gw.controls[0].c_str());
  CHECK(gw.helloVersions.size() == 2 && gw.helloVersions[0] == kProtocolVersion, "hello offers version %u", gw.helloVersions.empty() ? 0 : gw.helloVersions[0]);
  CHECK(!link.isUp() && !link.send("[2,\"1\",\"Heartbeat\",{}]", 22, 1000), "send while down must fail");

  // Up: messages flow both ways; the gateway's line limit decides the board's chunking.
  give(link, control('U', {"v=2", "gw=0.1.0", "mtu=64", "max=65536", "ka=1000"}), 1100);
  CHECK(link.isUp() && states.size() == 1 && states[0], "link up after U");
  CHECK(link.version() == 2, "version %u", link.version());
  std::string boot = "[2,\"1\",\"BootNotification\",{\"chargePointVendor\":\"flashCharge\",\"chargePointModel\":\"FC-22\"}]";
  CHECK(link.send(boot.data(), boot.size(), 1100), "send while up");
  gw.feed(wire);
  CHECK(gw.messages.size() == 1 && gw.messages[0] == boot, "gateway got the boot notification in chunks");
  link.poll(1110);  // idle: the U line is acknowledged
  gw.feed(wire);
  give(link, message("[3,\"1\",{\"status\":\"Accepted\",\"interval\":300,\"currentTime\":\"2025-01-01T00:00:00Z\"}]", 65600), 1150);
  CHECK(got.size() == 1 && got[0].find("Accepted") != std::string::npos, "board got the answer");

  // Acknowledgements: after a quiet ackDelay, and at once when an eighth of the window is used.
  gw.controls.clear();
  link.poll(1152);
  gw.feed(wire);
  CHECK(gw.count('A') == 0, "no ack before the ack delay");
  link.poll(1160);
  gw.feed(wire);
  CHECK(gw.count('A') == 1, "idle ack");
  std::string big = message("[2,\"9\",\"DataTransfer\",{\"vendorId\":\"fc\",\"data\":\"" + std::string(300, 'x') + "\"}]", 128, 1);
  gw.controls.clear();
  give(link, big, 1170);
  gw.feed(wire);
  CHECK(gw.count('A') == 1, "ack once an eighth of the window was consumed (%zu acks)", gw.count('A'));

  // Keepalive after ka ms without sending; link down after 3 ka of silence; hello again at once.
  gw.controls.clear();
  link.poll(1170 + 1000);
  gw.feed(wire);
  CHECK(gw.count('K') == 1, "keepalive sent");
  give(link, control('K', {}), 2500);
  link.poll(2500 + 2999);
  CHECK(link.isUp(), "still up before 3 ka of silence");
  link.poll(2500 + 3000);
  CHECK(!link.isUp() && states.size() == 2 && !states[1], "down after 3 ka of silence");
  gw.controls.clear();
  link.poll(5501);
  gw.feed(wire);
  CHECK(gw.count('H') == 1, "hello right after going down");

  // Down from the gateway: at most one hello per 200 ms however many downs arrive.
  give(link, control('U', {"v=1", "mtu=65600", "ka=1000"}), 6000);
  CHECK(link.isUp(), "up again");
  gw.controls.clear();
  for (uint32_t t = 6100; t < 6300; t += 10) {
    give(link, control('D', {"reason=no-session"}), t);
    link.poll(t);
  }
  gw.feed(wire);
  CHECK(!link.isUp(), "down after D");
  CHECK(gw.count('H') == 1, "one hello for a burst of downs (got %zu)", gw.count('H'));

  // Corrupt lines are counted, never delivered; messages before up are not delivered.
  size_t before = got.size();
  std::string bad = message("[2,\"5\",\"Reset\",{\"type\":\"Soft\"}]", 128);
  bad[10] ^= 0x04;
  give(link, bad, 6400);
  give(link, message("[2,\"6\",\"Reset\",{\"type\":\"Soft\"}]", 128), 6400);
  CHECK(got.size() == before, "nothing delivered while down or corrupt");
  CHECK(link.stats().corrupt == 1, "corrupt counted: %u", link.stats().corrupt);

  // Unsendable messages are dropped, not retried forever.
  give(link, control('U', {"v=1", "mtu=65600", "max=100", "ka=1000"}), 6450);
  std::string tooBig = "[2,\"7\",\"DataTransfer\",{\"data\":\"" + std::string(200, 'd') + "\"}]";
  const char withMark[] = "[2,\"8\",\"x\x1e\",{}]";
  wire.bytes.clear();
  CHECK(link.send(tooBig.data(), tooBig.size(), 6450) && link.send(withMark, sizeof withMark - 1, 6450), "unsendable reported as sent");
  CHECK(link.stats().dropped == 2 && wire.bytes.empty(), "both dropped (%u), nothing written", link.stats().dropped);

  // A newer gateway: the board speaks the lower version.
  give(link, control('U', {"v=7", "mtu=65600", "ka=1000", "future=1"}), 6500);
  CHECK(link.isUp() && link.version() == kProtocolVersion, "newer gateway version falls back to %u", kProtocolVersion);
}

// Versions: a v2 board on a v1 gateway, and a board pinned to v1 (old firmware) on a v2 gateway.
static void testVersions() {
  const std::string boot = "[2,\"1\",\"BootNotification\",{\"chargePointVendor\":\"flashCharge\",\"chargePointModel\":\"FC-22\"}]";
  const std::string answer = "[3,\"1\",{\"status\":\"Accepted\",\"interval\":300,\"currentTime\":\"2025-01-01T00:00:00Z\"}]";
  {
    // The gateway answers v=1: the board sends v1 lines, which a decoder that knows only v1 reads.
    Wire wire;
    GatewayView v1gw(1);
    BridgeConfig cfg;
    cfg.chargeBoxId = "FC-V2";
    BridgeLink link(cfg, wire);
    link.poll(0);
    v1gw.feed(wire);
    CHECK(v1gw.helloVersions.size() == 1 && v1gw.helloVersions[0] == 2, "a v1 gateway reads the v2 board's hello");
    give(link, control('U', {"v=1", "mtu=4096", "ka=1000"}), 10);
    CHECK(link.isUp() && link.version() == 1, "v2 board on a v1 gateway speaks %u", link.version());
    wire.bytes.clear();
    link.send(boot.data(), boot.size(), 20);
    CHECK(wire.bytes.compare(0, 3, "\x1eM ") == 0, "v1 message line: %s", printable(wire.bytes).c_str());
    v1gw.feed(wire);
    CHECK(v1gw.messages.size() == 1 && v1gw.messages[0] == boot && v1gw.corrupt == 0, "v1 gateway got the message");
    std::vector<std::string> got;
    link.onMessage([&](const char *m, size_t n) { got.emplace_back(m, n); });
    give(link, message(answer, 4096, 0, 1), 30);
    CHECK(got.size() == 1 && got[0] == answer, "board got the v1 answer");
  }
  {
    // The same board against a v2 gateway: v2 lines, 3 bytes shorter.
    Wire wire;
    GatewayView gw(2), v1only(1);
    BridgeConfig cfg;
    cfg.chargeBoxId = "FC-V2";
    BridgeLink link(cfg, wire);
    link.poll(0);
    gw.feed(wire);
    give(link, control('U', {"v=2", "mtu=4096", "ka=1000"}), 10);
    CHECK(link.version() == 2, "v2 board on a v2 gateway speaks %u", link.version());
    wire.bytes.clear();
    link.send(boot.data(), boot.size(), 20);
    CHECK(wire.bytes.size() == boot.size() + 13 && wire.bytes.compare(0, 4, "\x1eM89") == 0, "v2 message line: %s", printable(wire.bytes).c_str());
    std::string copy = wire.bytes;
    gw.feed(wire);
    CHECK(gw.messages.size() == 1 && gw.messages[0] == boot && gw.corrupt == 0, "v2 gateway got the message");
    // A decoder that knows only v1 drops it as a malformed line: why the version must be agreed first.
    wire.bytes = copy;
    v1only.feed(wire);
    CHECK(v1only.messages.empty() && v1only.corrupt == 1, "a v1 decoder refuses a v2 line");
  }
  {
    // Old firmware: a board pinned to v1 announces v=1, speaks v1 whatever the gateway says, and refuses v2 lines.
    Wire wire;
    GatewayView gw(2);
    BridgeConfig cfg;
    cfg.chargeBoxId = "FC-V1";
    cfg.protocolVersion = 1;
    BridgeLink link(cfg, wire);
    std::vector<std::string> got;
    link.onMessage([&](const char *m, size_t n) { got.emplace_back(m, n); });
    link.poll(0);
    gw.feed(wire);
    CHECK(gw.helloVersions.size() == 1 && gw.helloVersions[0] == 1, "pinned board offers v1");
    give(link, control('U', {"v=2", "mtu=4096", "ka=1000"}), 10);
    CHECK(link.isUp() && link.version() == 1, "pinned board speaks %u", link.version());
    wire.bytes.clear();
    link.send(boot.data(), boot.size(), 20);
    CHECK(wire.bytes.compare(0, 3, "\x1eM ") == 0, "pinned board sends v1 lines");
    give(link, message(answer, 4096, 0, 2), 30);
    CHECK(got.empty() && link.stats().corrupt == 1, "pinned board refuses a v2 line");
    give(link, message(answer, 4096, 0, 1), 40);
    CHECK(got.size() == 1 && got[0] == answer, "pinned board reads v1 lines");
  }
}

static void testOverflowGuards() {
  Capture cap;
  const char withMark[] = "[2,\"1\",\"x\x1e\",{}]";
  for (uint32_t v = 1; v <= kProtocolVersion; v++) {
    CHECK(encodeMessage(reinterpret_cast<const uint8_t *>(withMark), sizeof withMark - 1, 256, 0, v, cap) == 0, "mark byte refused");
    const char msg[] = "[2,\"1\",\"Heartbeat\",{}]";
    CHECK(encodeMessage(reinterpret_cast<const uint8_t *>(msg), sizeof msg - 1, 16, 0, v, cap) == 0, "line limit too small for a chunk");
  }
}

int main(int argc, char **argv) {
  std::string path = argc > 1 ? argv[1] : "vectors.json";
  std::ifstream f(path);
  if (!f) { std::fprintf(stderr, "cannot read %s\n", path.c_str()); return 2; }
  std::stringstream ss;
  ss << f.rdbuf();
  std::string text = ss.str();
  Value v = jsonmini::Parser(text).parse();
  testVectors(v);
  testLink();
  testVersions();
  testOverflowGuards();
  std::printf("%d checks, %d failures\n", checks, failures);
  return failures == 0 ? 0 : 1;
}
