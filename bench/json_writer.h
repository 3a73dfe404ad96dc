// Copyright 2026 The natsrpc Authors.
//
// A minimal streaming JSON writer for the benchmark report.

#ifndef NATSRPC_BENCH_JSON_WRITER_H_
#define NATSRPC_BENCH_JSON_WRITER_H_

#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

namespace natsrpc_bench {

class JsonWriter {
 public:
  void BeginObject() { Open('{'); }
  void EndObject() { Close('}'); }
  void BeginArray() { Open('['); }
  void EndArray() { Close(']'); }

  void Key(const char* key) {
    Separate();
    Quote(key);
    out_ += ": ";
    after_key_ = true;
  }
  void Value(double v) {
    Separate();
    if (!std::isfinite(v)) {
      out_ += "null";
      return;
    }
    char buf[40];
    std::snprintf(buf, sizeof(buf), "%.6g", v);
    out_ += buf;
  }
  void Value(bool v) {
    Separate();
    out_ += v ? "true" : "false";
  }
  void Value(const std::string& v) {
    Separate();
    Quote(v);
  }
  void Value(const char* v) { Value(std::string(v)); }
  void Null() {
    Separate();
    out_ += "null";
  }
  template <typename T>
  void Field(const char* key, const T& v) {
    Key(key);
    Value(v);
  }

  const std::string& str() const { return out_; }

 private:
  void Open(char c) {
    Separate();
    out_ += c;
    first_.push_back(true);
  }
  void Close(char c) {
    const bool empty = first_.back();
    first_.pop_back();
    if (!empty) Newline();
    out_ += c;
  }
  void Separate() {
    if (after_key_) {
      after_key_ = false;
      return;
    }
    if (first_.empty()) return;
    if (!first_.back()) out_ += ',';
    first_.back() = false;
    Newline();
  }
  void Newline() {
    out_ += '\n';
    out_.append(2 * first_.size(), ' ');
  }
  void Quote(const std::string& s) {
    out_ += '"';
    for (unsigned char c : s) {
      switch (c) {
        case '"':
          out_ += "\\\"";
          break;
        case '\\':
          out_ += "\\\\";
          break;
        case '\n':
          out_ += "\\n";
          break;
        case '\r':
          out_ += "\\r";
          break;
        case '\t':
          out_ += "\\t";
          break;
        default:
          if (c < 0x20) {
            char buf[8];
            std::snprintf(buf, sizeof(buf), "\\u%04x", c);
            out_ += buf;
          } else {
            out_ += static_cast<char>(c);
          }
      }
    }
    out_ += '"';
  }

  std::string out_;
  std::vector<bool> first_;
  bool after_key_ = false;
};

}  // namespace natsrpc_bench

#endif  // NATSRPC_BENCH_JSON_WRITER_H_
