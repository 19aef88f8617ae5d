// Hand-driven stand-ins for the hardware ports: the tests move the clocks and the network.
#ifndef ENERTRACK_TEST_FAKES_H
#define ENERTRACK_TEST_FAKES_H

#include <deque>
#include <string>
#include <vector>

#include "../src/core/ports.h"

namespace fakes {

struct Clock : enertrack::Clock {
  uint64_t mono = 1000;
  bool set = true;
  int64_t epoch_at_zero = 1750000000000LL;  // epoch ms when mono was 0
  bool epoch_ms(int64_t& out) override {
    out = set ? epoch_at_zero + static_cast<int64_t>(mono) : static_cast<int64_t>(mono);  // unset: 1970
    return true;
  }
  uint64_t monotonic_ms() override { return mono; }
};

struct Sensor : enertrack::Sensor {
  int reads = 0;
  bool fail = false;
  enertrack::Measurement read() override {
    ++reads;
    enertrack::Measurement m;
    if (fail) return m;
    m.voltage = 230.0f + reads;  // tells readings apart
    m.power = 100.0f;
    return m;
  }
};

struct Message {
  std::string topic, payload;
  bool retain;
  uint16_t token;
  uint64_t at;  // monotonic ms when it was published
};

struct Network : enertrack::Network {
  bool link = true;
  bool broker_up = true;
  bool is_connected = false;
  bool auto_ack = true;  // acknowledge every publish at the next poll
  int connects = 0;
  enertrack::Will will;
  std::vector<Message> sent;
  std::deque<uint16_t> acks;
  uint16_t next_token = 1;
  const uint64_t* now_ms = nullptr;  // the fake clock, to timestamp publishes

  bool link_up() override { return link; }
  bool connected() override { return is_connected && broker_up; }
  bool connect(const enertrack::Will& w, std::string& error) override {
    ++connects;
    will = w;
    if (!broker_up || !link) {
      error = "connection refused";
      return false;
    }
    is_connected = true;
    return true;
  }
  bool publish(const std::string& topic, const std::string& payload, bool retain, uint16_t& token) override {
    if (!connected()) return false;
    token = next_token++;
    sent.push_back(Message{topic, payload, retain, token, now_ms ? *now_ms : 0});
    if (auto_ack) acks.push_back(token);
    return true;
  }
  void poll(enertrack::NetworkListener& listener) override {
    if (!connected()) return;
    while (!acks.empty()) {
      uint16_t token = acks.front();
      acks.pop_front();
      listener.on_puback(token);
    }
  }
  void disconnect() override {
    is_connected = false;
    acks.clear();
  }
  bool rssi(long& dbm) override {
    dbm = -61;
    return true;
  }
  std::vector<Message> telemetry() const {
    std::vector<Message> out;
    for (size_t i = 0; i < sent.size(); ++i)
      if (sent[i].topic.find("/telemetry") != std::string::npos) out.push_back(sent[i]);
    return out;
  }
};

struct Random : enertrack::Random {
  uint32_t value = 0;
  uint32_t next() override { return value; }
};

struct Log : enertrack::Log {
  std::vector<std::string> lines;
  void line(const std::string& text) override { lines.push_back(text); }
  bool has(const std::string& part) const {
    for (size_t i = 0; i < lines.size(); ++i)
      if (lines[i].find(part) != std::string::npos) return true;
    return false;
  }
};

struct Storage : enertrack::Storage {
  std::vector<std::pair<std::string, std::string> > items;
  bool get(const char* key, std::string& value) override {
    for (size_t i = 0; i < items.size(); ++i)
      if (items[i].first == key) {
        value = items[i].second;
        return true;
      }
    return false;
  }
  bool put(const char* key, const std::string& value) override {
    for (size_t i = 0; i < items.size(); ++i)
      if (items[i].first == key) {
        items[i].second = value;
        return true;
      }
    items.push_back(std::make_pair(std::string(key), value));
    return true;
  }
};

// The value of "key": in a flat JSON object of numbers (enough for these payloads), or "" when absent.
inline std::string json_value(const std::string& json, const std::string& key) {
  const std::string needle = "\"" + key + "\":";
  size_t at = json.find(needle);
  if (at == std::string::npos) return "";
  at += needle.size();
  size_t end = json.find_first_of(",}", at);
  return json.substr(at, end - at);
}

}  // namespace fakes

#endif  // ENERTRACK_TEST_FAKES_H
