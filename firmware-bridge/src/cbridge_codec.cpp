#include "cbridge_codec.h"

#include <string.h>

#include "cbridge_protocol.h"

namespace cbridge {

namespace {

const uint8_t kStar = '*';
const uint8_t kSpace = ' ';
const size_t kTail = 9;       // v1: '*' + 8 hex digits
const size_t kMinFrame = 11;  // v1: mark + kind + tail
const size_t kTailV2 = 7;     // v2: '*' + 6 base64url characters
const size_t kMinFrameV2 = 10;  // v2: mark + kind + a digit + tail

// Nibble table: 64 bytes of flash instead of the usual 1 KiB.
const uint32_t kCrcNibble[16] = {
    0x00000000, 0x1db71064, 0x3b6e20c8, 0x26d930ac, 0x76dc4190, 0x6b6b51f4, 0x4db26158, 0x5005713c,
    0xedb88320, 0xf00f9344, 0xd6d6a3e8, 0xcb61b38c, 0x9b64c2b0, 0x86d3d2d4, 0xa00ae278, 0xbdbdf21c,
};

const char kHex[] = "0123456789abcdef";
const char kB64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

// Bytes an M line adds to a message apart from the length digits: v1 mark M SP SP * 8hex, v2 mark M SP * 6b64.
size_t messageOverhead(uint32_t version) { return version >= 2 ? 10 : 13; }

int b64Value(uint8_t b) {
  if (b >= 'A' && b <= 'Z') return b - 'A';
  if (b >= 'a' && b <= 'z') return b - 'a' + 26;
  if (b >= '0' && b <= '9') return b - '0' + 52;
  if (b == '-') return 62;
  if (b == '_') return 63;
  return -1;
}

size_t digits(uint32_t n) {
  size_t d = 1;
  while (n >= 10) { n /= 10; d++; }
  return d;
}

size_t putNumber(char *out, uint32_t n) {
  char tmp[10];
  size_t i = 0;
  do { tmp[i++] = static_cast<char>('0' + n % 10); n /= 10; } while (n != 0);
  for (size_t k = 0; k < i; k++) out[k] = tmp[i - 1 - k];
  return i;
}

bool isLowerHex(uint8_t b) { return (b >= '0' && b <= '9') || (b >= 'a' && b <= 'f'); }

// Reads a decimal number (no sign, no leading zeros, at most 10 digits, <= 2^32-1) at buf[*at..end).
bool readNumber(const uint8_t *buf, size_t *at, size_t end, uint32_t *out) {
  size_t start = *at, i = start;
  uint64_t n = 0;
  while (i < end && i - start < 10 && buf[i] >= '0' && buf[i] <= '9') {
    n = n * 10 + (buf[i] - '0');
    i++;
  }
  if (i == start || (buf[start] == '0' && i - start > 1) || n > 0xffffffffULL) return false;
  *at = i;
  *out = static_cast<uint32_t>(n);
  return true;
}

// Writes the pieces of one line and keeps the running CRC.
class Sealer {
 public:
  Sealer(LineWriter &out, uint32_t version) : out_(out), version_(version) { out_.beginLine(); }
  void put(const uint8_t *data, size_t len) {
    if (len == 0) return;
    crc_ = crc32Update(crc_, data, len);
    out_.write(data, len);
  }
  void put(const char *text, size_t len) { put(reinterpret_cast<const uint8_t *>(text), len); }
  // Payload with CR and LF sent as spaces.
  void putPayload(const uint8_t *data, size_t len) {
    size_t run = 0;
    for (size_t i = 0; i < len; i++) {
      if (data[i] == kCr || data[i] == kLf) {
        put(data + run, i - run);
        put(&kSpace, 1);
        run = i + 1;
      }
    }
    put(data + run, len - run);
  }
  void close() {
    uint8_t tail[10];
    size_t n = 0;
    tail[n++] = kStar;
    if (version_ >= 2) {
      // The CRC's 32 bits in six 6-bit groups, most significant first; the last group is padded with 4 zero bits.
      for (int i = 0; i < 5; i++) tail[n++] = static_cast<uint8_t>(kB64[(crc_ >> (26 - 6 * i)) & 0x3f]);
      tail[n++] = static_cast<uint8_t>(kB64[(crc_ & 0x3) << 4]);
    } else {
      for (int i = 0; i < 8; i++) tail[n++] = static_cast<uint8_t>(kHex[(crc_ >> (28 - 4 * i)) & 0xf]);
    }
    tail[n++] = kLf;
    out_.write(tail, n);
    out_.endLine();
  }

 private:
  LineWriter &out_;
  uint32_t version_;
  uint32_t crc_ = 0;
};

}  // namespace

uint32_t crc32Update(uint32_t crc, const uint8_t *data, size_t len) {
  crc = ~crc;
  for (size_t i = 0; i < len; i++) {
    crc ^= data[i];
    crc = (crc >> 4) ^ kCrcNibble[crc & 0xf];
    crc = (crc >> 4) ^ kCrcNibble[crc & 0xf];
  }
  return ~crc;
}

const char *corruptName(Corrupt reason) {
  switch (reason) {
    case Corrupt::Syntax: return "syntax";
    case Corrupt::Crc: return "crc";
    case Corrupt::Length: return "length";
    case Corrupt::Overflow: return "overflow";
    case Corrupt::Sequence: return "sequence";
    case Corrupt::TooBig: return "too-big";
  }
  return "?";
}

const char *Control::field(const char *key, size_t *len) const {
  size_t keyLen = strlen(key);
  for (size_t i = 0; i < count; i++) {
    const Token &t = tokens[i];
    if (t.key && t.keyLen == keyLen && memcmp(t.key, key, keyLen) == 0) {
      *len = t.valueLen;
      return t.value;
    }
  }
  return nullptr;
}

static uint32_t parseOr(const char *s, size_t len, uint32_t fallback) {
  size_t at = 0;
  uint32_t n;
  if (!s || !readNumber(reinterpret_cast<const uint8_t *>(s), &at, len, &n) || at != len) return fallback;
  return n;
}

uint32_t Control::number(const char *key, uint32_t fallback) const {
  size_t len = 0;
  const char *v = field(key, &len);
  return parseOr(v, len, fallback);
}

uint32_t Control::arg(size_t i, uint32_t fallback) const {
  size_t seen = 0;
  for (size_t k = 0; k < count; k++) {
    if (tokens[k].key) continue;
    if (seen++ == i) return parseOr(tokens[k].value, tokens[k].valueLen, fallback);
  }
  return fallback;
}

Decoder::Decoder(uint8_t *lineBuf, size_t maxLine, uint8_t *msgBuf, size_t maxMessage, uint32_t version, DecoderSink &sink)
    : seg_(lineBuf), maxLine_(maxLine), msg_(msgBuf), maxMessage_(maxMessage), version_(version), sink_(sink) {}

void Decoder::push(const uint8_t *data, size_t n) {
  for (size_t i = 0; i < n; i++) {
    uint8_t b = data[i];
    if (b == kMark || b == kLf) {
      finish();
      isFrame_ = b == kMark;
      discarding_ = false;
      len_ = 0;
      if (b == kMark) seg_[len_++] = b;
      continue;
    }
    if (discarding_) continue;
    if (len_ == maxLine_) {
      if (isFrame_) {
        sink_.onCorrupt(Corrupt::Overflow);
        discarding_ = true;
        continue;
      }
      sink_.onText(seg_, len_);
      len_ = 0;
    }
    seg_[len_++] = b;
  }
}

void Decoder::finish() {
  if (discarding_) return;
  size_t len = len_;
  if (len > 0 && seg_[len - 1] == kCr) len--;
  if (isFrame_) decodeFrame(len);
  else if (len > 0) sink_.onText(seg_, len);
}

// The CRC tail: '*' + 8 lowercase hex (v1) or '*' + 6 base64url (v2). Both cannot fit one line: a v1 tail has a
// hex digit where a v2 tail has its '*'.
bool Decoder::tail(size_t len, uint32_t *version, uint32_t *want, size_t *end) const {
  if (len >= kMinFrame && seg_[len - kTail] == kStar) {
    uint32_t w = 0;
    size_t i = len - 8;
    for (; i < len && isLowerHex(seg_[i]); i++) w = (w << 4) | static_cast<uint32_t>(seg_[i] <= '9' ? seg_[i] - '0' : seg_[i] - 'a' + 10);
    if (i == len) {
      *version = 1;
      *want = w;
      *end = len - kTail;
      return true;
    }
  }
  if (version_ < 2 || len < kMinFrameV2 || seg_[len - kTailV2] != kStar) return false;
  uint32_t w = 0;
  for (size_t i = len - 6; i < len - 1; i++) {
    int v = b64Value(seg_[i]);
    if (v < 0) return false;
    w = (w << 6) | static_cast<uint32_t>(v);
  }
  // The last character carries the CRC's 2 lowest bits; its other 4 bits must be 0, so each CRC has one spelling.
  int last = b64Value(seg_[len - 1]);
  if (last < 0 || (last & 0x0f) != 0) return false;
  *version = 2;
  *want = (w << 2) | static_cast<uint32_t>(last >> 4);
  *end = len - kTailV2;
  return true;
}

void Decoder::decodeFrame(size_t len) {
  uint32_t version = 0, want = 0;
  size_t end = 0;
  if (!tail(len, &version, &want, &end)) return sink_.onCorrupt(Corrupt::Syntax);
  if (crc32(seg_, end) != want) return sink_.onCorrupt(Corrupt::Crc);
  uint8_t kind = seg_[1];
  if (kind < 'A' || kind > 'Z') return sink_.onCorrupt(Corrupt::Syntax);
  if (kind == kKindMessage) return decodeMessage(end, version);
  if (kind == kKindChunk) return decodeChunk(end, version);
  if (version >= 2) return sink_.onCorrupt(Corrupt::Syntax);  // control lines have the v1 form
  decodeControl(static_cast<char>(kind), end);
}

// v1: " n1 n2 ... nk " from index 2; v2: "n1 n2 ... nk " (no space after the kind).
bool Decoder::numbers(size_t count, size_t end, uint32_t version, uint32_t *out, size_t *payloadAt) const {
  size_t at = 2;
  for (size_t k = 0; k < count; k++) {
    if (k > 0 || version < 2) {
      if (at >= end || seg_[at] != kSpace) return false;
      at++;
    }
    if (!readNumber(seg_, &at, end, &out[k])) return false;
  }
  if (at >= end || seg_[at] != kSpace) return false;
  *payloadAt = at + 1;
  return true;
}

void Decoder::decodeMessage(size_t end, uint32_t version) {
  uint32_t length;
  size_t at;
  if (!numbers(1, end, version, &length, &at)) return sink_.onCorrupt(Corrupt::Syntax);
  if (end - at != length) return sink_.onCorrupt(Corrupt::Length);
  if (length > maxMessage_) return sink_.onCorrupt(Corrupt::TooBig);
  abandonPartial();
  sink_.onMessage(seg_ + at, length);
}

void Decoder::decodeChunk(size_t end, uint32_t version) {
  uint32_t n[4];
  size_t at;
  if (!numbers(4, end, version, n, &at)) return sink_.onCorrupt(Corrupt::Syntax);
  uint32_t msg = n[0], off = n[1], total = n[2], length = n[3];
  if (end - at != length || length == 0 || static_cast<uint64_t>(off) + length > total) {
    return sink_.onCorrupt(Corrupt::Length);
  }
  if (off == 0) {
    abandonPartial();
    skipping_ = false;
    if (total > maxMessage_) {
      skipping_ = true;
      skipMsg_ = msg;
      return sink_.onCorrupt(Corrupt::TooBig);
    }
    partial_ = true;
    partMsg_ = msg;
    partTotal_ = total;
    partGot_ = 0;
  } else if (skipping_ && skipMsg_ == msg) {
    return;
  }
  if (!partial_ || partMsg_ != msg || partTotal_ != total || partGot_ != off) {
    partial_ = false;
    return sink_.onCorrupt(Corrupt::Sequence);
  }
  memcpy(msg_ + off, seg_ + at, length);
  partGot_ += length;
  if (partGot_ == partTotal_) {
    partial_ = false;
    sink_.onMessage(msg_, partTotal_);
  }
}

void Decoder::abandonPartial() {
  if (!partial_) return;
  partial_ = false;
  sink_.onCorrupt(Corrupt::Sequence);
}

void Decoder::decodeControl(char kind, size_t end) {
  Control c;
  c.kind = kind;
  c.count = 0;
  if (end > 2) {
    if (seg_[2] != kSpace) return sink_.onCorrupt(Corrupt::Syntax);
    size_t start = 3;
    for (size_t i = 3; i <= end; i++) {
      if (i < end && seg_[i] != kSpace) continue;
      if (i == start || c.count == Control::kMaxTokens) return sink_.onCorrupt(Corrupt::Syntax);
      const char *tok = reinterpret_cast<const char *>(seg_ + start);
      size_t tokLen = i - start;
      const char *eq = static_cast<const char *>(memchr(tok, '=', tokLen));
      Token &t = c.tokens[c.count++];
      if (eq && eq != tok) {
        t.key = tok;
        t.keyLen = static_cast<size_t>(eq - tok);
        t.value = eq + 1;
        t.valueLen = tokLen - t.keyLen - 1;
      } else {
        t.key = nullptr;
        t.keyLen = 0;
        t.value = tok;
        t.valueLen = tokLen;
      }
      start = i + 1;
    }
  }
  sink_.onControl(c);
}

bool fitsOneLine(size_t len, size_t maxLine, uint32_t version) {
  return len + digits(static_cast<uint32_t>(len)) + messageOverhead(version) <= maxLine;
}

size_t encodeMessage(const uint8_t *msg, size_t len, size_t maxLine, uint32_t msgNo, uint32_t version, LineWriter &out) {
  if (memchr(msg, kMark, len) != nullptr) return 0;
  char head[64];
  uint32_t total = static_cast<uint32_t>(len);
  bool spaceAfterKind = version < 2;  // v2 drops it; the numbers that follow keep theirs
  if (fitsOneLine(len, maxLine, version)) {
    size_t h = 0;
    head[h++] = static_cast<char>(kMark);
    head[h++] = kKindMessage;
    if (spaceAfterKind) head[h++] = ' ';
    h += putNumber(head + h, total);
    head[h++] = ' ';
    Sealer line(out, version);
    line.put(head, h);
    line.putPayload(msg, len);
    line.close();
    return 1;
  }
  uint32_t no = msgNo % kChunkMsgModulo;
  size_t overhead = messageOverhead(version) + 3 + digits(no) + 3 * digits(total);
  if (maxLine <= overhead) return 0;
  size_t room = maxLine - overhead;
  size_t lines = 0;
  for (size_t off = 0; off < len; off += room) {
    size_t part = len - off < room ? len - off : room;
    size_t h = 0;
    head[h++] = static_cast<char>(kMark);
    head[h++] = kKindChunk;
    if (spaceAfterKind) head[h++] = ' ';
    h += putNumber(head + h, no);
    head[h++] = ' ';
    h += putNumber(head + h, static_cast<uint32_t>(off));
    head[h++] = ' ';
    h += putNumber(head + h, total);
    head[h++] = ' ';
    h += putNumber(head + h, static_cast<uint32_t>(part));
    head[h++] = ' ';
    Sealer line(out, version);
    line.put(head, h);
    line.putPayload(msg + off, part);
    line.close();
    lines++;
  }
  return lines;
}

void encodeControl(char kind, const char *const *tokens, size_t count, LineWriter &out) {
  Sealer line(out, 1);
  uint8_t head[2] = {kMark, static_cast<uint8_t>(kind)};
  line.put(head, 2);
  for (size_t i = 0; i < count; i++) {
    line.put(&kSpace, 1);
    line.put(tokens[i], strlen(tokens[i]));
  }
  line.close();
}

}  // namespace cbridge
