// The node's behaviour, free of hardware: sample every interval, keep readings until their PUBACK,
// replay oldest first at a gentle pace, reconnect with backoff, stamp readings held before NTP.
#ifndef ENERTRACK_NODE_H
#define ENERTRACK_NODE_H

#include <stddef.h>
#include <stdint.h>

#include <string>

#include "backoff.h"
#include "ports.h"
#include "reading_buffer.h"

#ifndef ENERTRACK_FW_VERSION
#define ENERTRACK_FW_VERSION "enertrack-fw 1.0.0"
#endif

namespace enertrack {

// 1024 readings x 48 bytes = 48 KiB of RAM: 2 h 50 min of readings at the default 10 s interval.
const size_t kDefaultBufferCapacity = 1024;

struct NodeSettings {
  std::string node_id;
  std::string topic_prefix = "enertrack";
  uint32_t interval_ms = 10000;
  size_t buffer_capacity = kDefaultBufferCapacity;
  uint32_t replay_gap_ms = 100;        // at most 10 messages a second while replaying a backlog
  uint32_t puback_timeout_ms = 10000;  // a PUBACK later than this means the connection is dead
  uint32_t backoff_base_ms = 1000;
  uint32_t backoff_max_ms = 60000;
  uint32_t max_readings = 0;           // stop sampling after this many (0: never; the host node's --count)
  const char* fw = ENERTRACK_FW_VERSION;
};

class Node : public NetworkListener {
 public:
  Node(const NodeSettings& settings, Sensor& sensor, Clock& clock, Network& network, Random& random, Log& log);

  // Do whatever is due now; call it as often as possible (every few milliseconds).
  void loop();
  // Stop cleanly: publish `offline` (a clean disconnect suppresses the Last Will) and disconnect.
  void shutdown();
  void on_puback(uint16_t token) override;

  const ReadingBuffer& buffer() const { return buffer_; }
  // Readings taken since boot (held, sent or dropped).
  uint32_t taken() const { return taken_; }
  std::string telemetry_topic() const { return settings_.topic_prefix + "/" + settings_.node_id + "/telemetry"; }
  std::string status_topic() const { return settings_.topic_prefix + "/" + settings_.node_id + "/status"; }

 private:
  void sample_if_due(uint64_t now);
  void stamp_held(uint64_t now);
  void keep_connected(uint64_t now);
  void publish_next(uint64_t now);
  void lose_connection(uint64_t now, const std::string& why);
  std::string payload_for(const Sample& sample);
  int64_t own_second(int64_t ts_ms);

  NodeSettings settings_;
  Sensor& sensor_;
  Clock& clock_;
  Network& network_;
  Log& log_;
  Backoff backoff_;
  ReadingBuffer buffer_;
  uint64_t next_sample_ms_ = 0;
  uint64_t next_attempt_ms_ = 0;
  uint64_t last_publish_ms_ = 0;
  bool online_ = false;          // connected and `online` published
  bool inflight_ = false;        // the front sample is sent, its PUBACK not yet in
  uint32_t inflight_id_ = 0;
  uint16_t inflight_token_ = 0;
  uint64_t inflight_since_ms_ = 0;
  size_t held_ = 0;              // readings waiting for the clock
  uint32_t taken_ = 0;
  int64_t last_second_ = -1;     // epoch second of the newest stamped reading
  std::string waiting_for_;      // what the last "waiting for" line said, to say it once
};

}  // namespace enertrack

#endif  // ENERTRACK_NODE_H
