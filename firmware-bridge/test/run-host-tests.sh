#!/usr/bin/env bash
# Builds the portable codec with g++ on the host and runs its unit tests against the shared vectors.
# Also builds the device stand-in the pty tests and benchmark drive. Output: firmware-bridge/build/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
out=${CBRIDGE_BUILD_DIR:-$root/build}
mkdir -p "$out"
CXX=${CXX:-g++}
flags=(-std=c++17 -O2 -Wall -Wextra -Werror -I"$root/src")
sources=("$root/src/cbridge_codec.cpp" "$root/src/cbridge_link.cpp")
# Build to a private name, then rename: several test processes may build at once.
"$CXX" "${flags[@]}" -o "$out/host_tests.$$" "$here/host_tests.cpp" "${sources[@]}"
"$CXX" "${flags[@]}" -o "$out/device_standin.$$" "$here/device_standin.cpp" "${sources[@]}"
mv -f "$out/host_tests.$$" "$out/host_tests"
mv -f "$out/device_standin.$$" "$out/device_standin"
# The Arduino adapter against stub headers: catches interface mistakes without an ESP32 toolchain.
"$CXX" "${flags[@]}" -DARDUINO -I"$here/stubs" -fsyntax-only "$root/src/MicroOcppSerial.cpp"
"$out/host_tests" "$here/vectors.json"
