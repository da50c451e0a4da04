// Host stand-in for MicroOcpp v1.x's transport interface (shared/reference/microocpp.md: loop, sendTXT,
// setReceiveTXTcallback, getLastConnected, isConnected), for the compile check in run-host-tests.sh.
#ifndef CBRIDGE_STUB_MO_CONNECTION_H
#define CBRIDGE_STUB_MO_CONNECTION_H
#include <stddef.h>
#include <functional>
namespace MicroOcpp {
using ReceiveTXTcallback = std::function<bool(const char *, size_t)>;
class Connection {
 public:
  virtual ~Connection() = default;
  virtual void loop() = 0;
  virtual bool sendTXT(const char *msg, size_t length) = 0;
  virtual void setReceiveTXTcallback(ReceiveTXTcallback &receiveTXT) = 0;
  virtual unsigned long getLastRecv() { return 0; }
  virtual unsigned long getLastConnected() = 0;
  virtual bool isConnected() { return true; }
};
}  // namespace MicroOcpp
#endif
