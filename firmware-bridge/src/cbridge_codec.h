// The serial line codec: OCPP-J messages and control lines to bytes and back, protocol version 1 or 2
// (docs/serial-protocol.md §2–4, §7).
// Portable C++11, no Arduino, no heap use after construction. Mirrors src/serial/codec.ts; both are checked
// against test/vectors.json.
#ifndef CBRIDGE_CODEC_H
#define CBRIDGE_CODEC_H

#include <stddef.h>
#include <stdint.h>

namespace cbridge {

uint32_t crc32Update(uint32_t crc, const uint8_t *data, size_t len);
inline uint32_t crc32(const uint8_t *data, size_t len) { return crc32Update(0, data, len); }

enum class Corrupt : uint8_t { Syntax, Crc, Length, Overflow, Sequence, TooBig };
const char *corruptName(Corrupt reason);

/** One control token: key=value, or a bare argument (key == nullptr). Points into the decoder's line buffer. */
struct Token {
  const char *key;
  size_t keyLen;
  const char *value;
  size_t valueLen;
};

struct Control {
  static const size_t kMaxTokens = 12;
  char kind;
  size_t count;
  Token tokens[kMaxTokens];
  /** Value of field `key` (nullptr when absent); *len receives its length. */
  const char *field(const char *key, size_t *len) const;
  /** Field as an unsigned number, or `fallback` when absent or not a number. */
  uint32_t number(const char *key, uint32_t fallback) const;
  /** Bare argument `i` as an unsigned number, or `fallback`. */
  uint32_t arg(size_t i, uint32_t fallback) const;
};

class DecoderSink {
 public:
  virtual ~DecoderSink() {}
  virtual void onText(const uint8_t *line, size_t len) { (void)line; (void)len; }
  virtual void onMessage(const uint8_t *msg, size_t len) = 0;
  virtual void onControl(const Control &control) = 0;
  virtual void onCorrupt(Corrupt reason) { (void)reason; }
};

/**
 * Splits a byte stream into text lines, frames and control lines. A segment starts at the mark byte or after LF
 * and ends at the next mark or LF. The caller owns both buffers.
 */
class Decoder {
 public:
  /** `version`: the highest protocol version whose lines are accepted; lines of lower versions are accepted too. */
  Decoder(uint8_t *lineBuf, size_t maxLine, uint8_t *msgBuf, size_t maxMessage, uint32_t version, DecoderSink &sink);
  void push(const uint8_t *data, size_t len);

 private:
  void finish();
  void decodeFrame(size_t len);
  bool tail(size_t len, uint32_t *version, uint32_t *want, size_t *end) const;
  void decodeMessage(size_t end, uint32_t version);
  void decodeChunk(size_t end, uint32_t version);
  void decodeControl(char kind, size_t end);
  bool numbers(size_t count, size_t end, uint32_t version, uint32_t *out, size_t *payloadAt) const;
  void abandonPartial();

  uint8_t *seg_;
  size_t maxLine_;
  uint8_t *msg_;
  size_t maxMessage_;
  uint32_t version_;
  DecoderSink &sink_;
  size_t len_ = 0;
  bool isFrame_ = false;
  bool discarding_ = false;
  bool partial_ = false;
  uint32_t partMsg_ = 0, partTotal_ = 0, partGot_ = 0;
  bool skipping_ = false;
  uint32_t skipMsg_ = 0;
};

/** Where encoded bytes go. A line is written in a few pieces between beginLine and endLine. */
class LineWriter {
 public:
  virtual ~LineWriter() {}
  virtual void beginLine() {}
  virtual void write(const uint8_t *data, size_t len) = 0;
  virtual void endLine() {}
};

/** True when a message of `len` bytes fits one M line of protocol `version` of at most `maxLine` bytes (LF not
 * counted). */
bool fitsOneLine(size_t len, size_t maxLine, uint32_t version);

/**
 * Encodes one message as lines of protocol `version` of at most `maxLine` bytes (LF not counted): one M line, or
 * C chunks numbered `msgNo`. CR and LF in the message are sent as spaces. Returns the number of lines, 0 when the
 * message holds the mark byte or `maxLine` is too small.
 */
size_t encodeMessage(const uint8_t *msg, size_t len, size_t maxLine, uint32_t msgNo, uint32_t version, LineWriter &out);

/** Encodes a control line; `tokens` are "key=value" or bare arguments without spaces. Control lines have the
 * version 1 form in every version: hello, up and down must read the same before a version is agreed. */
void encodeControl(char kind, const char *const *tokens, size_t count, LineWriter &out);

}  // namespace cbridge

#endif
