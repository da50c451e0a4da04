// A small JSON reader for the host tests (vectors.json). Test-only: strict enough for our own file.
#ifndef CBRIDGE_JSON_MINI_H
#define CBRIDGE_JSON_MINI_H

#include <cstdint>
#include <map>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace jsonmini {

struct Value {
  enum Type { Null, Bool, Number, String, Array, Object } type = Null;
  bool b = false;
  double n = 0;
  std::string s;
  std::vector<Value> a;
  std::vector<std::pair<std::string, Value>> o;  // keeps key order

  const Value &operator[](const std::string &key) const {
    for (const auto &kv : o) if (kv.first == key) return kv.second;
    throw std::runtime_error("missing key " + key);
  }
  bool has(const std::string &key) const {
    for (const auto &kv : o) if (kv.first == key) return true;
    return false;
  }
};

class Parser {
 public:
  explicit Parser(const std::string &text) : t_(text) {}
  Value parse() {
    Value v = value();
    ws();
    if (i_ != t_.size()) fail("trailing text");
    return v;
  }

 private:
  [[noreturn]] void fail(const char *what) { throw std::runtime_error(std::string("json: ") + what + " at " + std::to_string(i_)); }
  void ws() { while (i_ < t_.size() && (t_[i_] == ' ' || t_[i_] == '\n' || t_[i_] == '\r' || t_[i_] == '\t')) i_++; }
  char peek() { ws(); if (i_ >= t_.size()) fail("end"); return t_[i_]; }
  void expect(char c) { if (peek() != c) fail("unexpected character"); i_++; }
  Value value() {
    char c = peek();
    Value v;
    if (c == '{') {
      v.type = Value::Object;
      i_++;
      if (peek() == '}') { i_++; return v; }
      for (;;) {
        std::string k = str();
        expect(':');
        v.o.emplace_back(k, value());
        if (peek() == ',') { i_++; continue; }
        expect('}');
        return v;
      }
    }
    if (c == '[') {
      v.type = Value::Array;
      i_++;
      if (peek() == ']') { i_++; return v; }
      for (;;) {
        v.a.push_back(value());
        if (peek() == ',') { i_++; continue; }
        expect(']');
        return v;
      }
    }
    if (c == '"') { v.type = Value::String; v.s = str(); return v; }
    if (t_.compare(i_, 4, "true") == 0) { i_ += 4; v.type = Value::Bool; v.b = true; return v; }
    if (t_.compare(i_, 5, "false") == 0) { i_ += 5; v.type = Value::Bool; return v; }
    if (t_.compare(i_, 4, "null") == 0) { i_ += 4; return v; }
    size_t start = i_;
    while (i_ < t_.size() && (isdigit(static_cast<unsigned char>(t_[i_])) || t_[i_] == '-' || t_[i_] == '.' || t_[i_] == 'e' || t_[i_] == 'E' || t_[i_] == '+')) i_++;
    if (start == i_) fail("bad value");
    v.type = Value::Number;
    v.n = std::stod(t_.substr(start, i_ - start));
    return v;
  }
  unsigned hex4() {
    if (i_ + 4 > t_.size()) fail("short \\u");
    unsigned u = static_cast<unsigned>(std::stoul(t_.substr(i_, 4), nullptr, 16));
    i_ += 4;
    return u;
  }
  static void utf8(std::string &out, uint32_t cp) {
    if (cp < 0x80) out += static_cast<char>(cp);
    else if (cp < 0x800) { out += static_cast<char>(0xc0 | (cp >> 6)); out += static_cast<char>(0x80 | (cp & 0x3f)); }
    else if (cp < 0x10000) { out += static_cast<char>(0xe0 | (cp >> 12)); out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f)); out += static_cast<char>(0x80 | (cp & 0x3f)); }
    else { out += static_cast<char>(0xf0 | (cp >> 18)); out += static_cast<char>(0x80 | ((cp >> 12) & 0x3f)); out += static_cast<char>(0x80 | ((cp >> 6) & 0x3f)); out += static_cast<char>(0x80 | (cp & 0x3f)); }
  }
  std::string str() {
    expect('"');
    std::string out;
    while (i_ < t_.size() && t_[i_] != '"') {
      char c = t_[i_++];
      if (c != '\\') { out += c; continue; }
      char e = t_[i_++];
      switch (e) {
        case 'n': out += '\n'; break;
        case 'r': out += '\r'; break;
        case 't': out += '\t'; break;
        case 'b': out += '\b'; break;
        case 'f': out += '\f'; break;
        case 'u': {
          uint32_t cp = hex4();
          if (cp >= 0xd800 && cp < 0xdc00 && t_.compare(i_, 2, "\\u") == 0) {
            i_ += 2;
            uint32_t lo = hex4();
            cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
          }
          utf8(out, cp);
          break;
        }
        default: out += e;
      }
    }
    expect('"');
    return out;
  }
  const std::string &t_;
  size_t i_ = 0;
};

}  // namespace jsonmini

#endif
