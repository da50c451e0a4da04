// An ESP32 charger on a USB cable: MicroOcpp talks OCPP 1.6J through the chargebridge gateway over Serial,
// and the firmware's debug prints share the same port (the gateway keeps them as the board's device log).
//
// Build with -D MO_CUSTOM_WS (see the README's platformio.ini) so MicroOcpp does not pull in its WebSocket client.
#include <Arduino.h>
#include <MicroOcpp.h>
#include <MicroOcppSerial.h>

static const char kChargeBoxId[] = "FC-BENCH-01";  // the station id the gateway uses towards SteVe
static const uint32_t kBaud = 921600;              // gateway side: SERIAL_PORTS=/dev/ttyUSB0@921600
static const size_t kRxBuffer = 2048;

static cbridge::MicroOcppSerialConnection *ocppLink;
static float energyWh = 0;

void setup() {
  Serial.setRxBufferSize(kRxBuffer);  // before begin(): the window the gateway may fill
  Serial.begin(kBaud);
  Serial.println("flashCharge bench board booting");  // plain text: lands in the device log

  cbridge::BridgeConfig cfg;
  cfg.chargeBoxId = kChargeBoxId;
  cfg.rxWindow = kRxBuffer - 256;  // keep a margin for bytes that arrive while a line is being handled
  cfg.maxLine = 1024;
  cfg.maxMessage = 8192;
  ocppLink = new cbridge::MicroOcppSerialConnection(Serial, cfg);

  mocpp_initialize(*ocppLink, ChargerCredentials("FC-22", "flashCharge"));
  setEnergyMeterInput([]() { return energyWh; });
  setConnectorPluggedInput([]() { return digitalRead(4) == LOW; });
}

void loop() {
  mocpp_loop();  // reads the UART, answers the gateway, sends queued OCPP messages

  static unsigned long last = 0;
  if (millis() - last > 10000) {
    last = millis();
    if (isTransactionRunning()) energyWh += 20;
    ocppLink->debugPrintf("meter %.0f Wh, link %s", energyWh, ocppLink->isConnected() ? "up" : "down");
  }
}
