// The canonical JSON: number formats, omitted fields, ts in epoch ms, the device-health keys.
#include <doctest/doctest.h>

#include "enertrack_json.h"

using enertrack::Health;
using enertrack::Measurement;
using enertrack::format_number;
using enertrack::reading_json;

TEST_CASE("numbers keep the meter's resolution and drop trailing zeros") {
  CHECK(format_number(230.4f, 1) == "230.4");
  CHECK(format_number(230.0f, 1) == "230");
  CHECK(format_number(1.27f, 3) == "1.27");
  CHECK(format_number(1234.567f, 3) == "1234.567");
  CHECK(format_number(0.96f, 2) == "0.96");
  CHECK(format_number(-0.001, 2) == "0");  // never "-0"
  CHECK(format_number(-0.5, 2) == "-0.5");
  CHECK(format_number(49.95, 1).size() <= 4);
  CHECK(format_number(3.4e38, 1).find('.') == std::string::npos);  // huge values are not truncated
  CHECK(format_number(3.4e38, 1).size() == 39);
}

TEST_CASE("a full reading uses the canonical names, ts in epoch milliseconds") {
  Measurement m;
  m.voltage = 230.4f;
  m.current = 1.27f;
  m.power = 281.5f;
  m.energy_kwh = 1234.567f;
  m.power_factor = 0.96f;
  m.frequency = 50.0f;
  CHECK(reading_json(1750000000123LL, m, Health()) ==
        "{\"ts\":1750000000123,\"voltage\":230.4,\"current\":1.27,\"power\":281.5,\"energy\":1234.567,"
        "\"power_factor\":0.96,\"frequency\":50}");
}

TEST_CASE("a failed read leaves its field out: no NaN, no Infinity, never a zero") {
  Measurement m;
  m.voltage = 231.0f;
  m.current = NAN;
  m.power = INFINITY;
  m.frequency = -INFINITY;
  const std::string json = reading_json(1750000000000LL, m, Health());
  CHECK(json == "{\"ts\":1750000000000,\"voltage\":231}");
  CHECK(json.find("nan") == std::string::npos);
  CHECK(json.find("inf") == std::string::npos);
  CHECK_FALSE(Measurement().any());
  CHECK(m.any());
}

TEST_CASE("device health travels as fw, rssi, uptime_s, dropped and buffered") {
  Measurement m;
  m.power = 12.0f;
  Health h;
  h.fw = "enertrack-fw 1.0.0";
  h.rssi = -67;
  h.has_rssi = true;
  h.uptime_s = 3600;
  h.dropped = 2;
  h.buffered = 0;
  CHECK(reading_json(1750000000000LL, m, h) ==
        "{\"ts\":1750000000000,\"power\":12,\"fw\":\"enertrack-fw 1.0.0\",\"rssi\":-67,\"uptime_s\":3600,"
        "\"dropped\":2,\"buffered\":0}");
}

TEST_CASE("unknown health values are left out, fw is escaped and cut to 32 characters") {
  Measurement m;
  m.power = 1.0f;
  Health h;
  h.fw = "a\"b\\c\n0123456789012345678901234567890123456789";
  const std::string json = reading_json(1750000000000LL, m, h);
  CHECK(json == "{\"ts\":1750000000000,\"power\":1,\"fw\":\"a\\\"b\\\\c\\u000a01234567890123456789012345\"}");
  CHECK(json.find("rssi") == std::string::npos);
  CHECK(json.find("uptime_s") == std::string::npos);
}
