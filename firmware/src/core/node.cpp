#include "node.h"

#include <stdio.h>

#include "clock_rule.h"

namespace enertrack {

namespace {

std::string number(long long value) {
  char text[24];
  snprintf(text, sizeof text, "%lld", value);
  return text;
}

}  // namespace

Node::Node(const NodeSettings& settings, Sensor& sensor, Clock& clock, Network& network, Random& random, Log& log)
    : settings_(settings),
      sensor_(sensor),
      clock_(clock),
      network_(network),
      log_(log),
      backoff_(settings.backoff_base_ms, settings.backoff_max_ms, random),
      buffer_(settings.buffer_capacity) {
  next_sample_ms_ = clock_.monotonic_ms();
}

void Node::loop() {
  const uint64_t now = clock_.monotonic_ms();
  if (online_) network_.poll(*this);
  stamp_held(now);  // first: held readings are older than the one sample_if_due may take now
  sample_if_due(now);
  keep_connected(now);
  if (online_) publish_next(now);
}

void Node::sample_if_due(uint64_t now) {
  if (now < next_sample_ms_) return;
  if (settings_.max_readings != 0 && taken_ >= settings_.max_readings) return;
  // Keep the cadence (no drift), unless a blocking connect made us miss a whole interval.
  next_sample_ms_ += settings_.interval_ms;
  if (next_sample_ms_ <= now) next_sample_ms_ = now + settings_.interval_ms;

  Sample sample;
  sample.m = sensor_.read();
  if (!sample.m.any()) {
    log_.line("sensor read failed: no field measured (check the PZEM wiring and its mains power)");
    return;
  }
  ++taken_;
  sample.taken_mono_ms = now;
  int64_t epoch = 0;
  const bool known = clock_.epoch_ms(epoch);
  if (clock_is_set(known, epoch)) {
    sample.ts_ms = own_second(epoch);
    sample.stamped = true;
  }
  const uint32_t dropped_before = buffer_.dropped();
  buffer_.push(sample);
  if (buffer_.dropped() != dropped_before) {
    if (held_ > 0) --held_;  // held readings are the oldest: the dropped one was held
    log_.line("buffer full: dropped the oldest reading (" + number(buffer_.dropped()) + " dropped since boot)");
  }
  if (sample.stamped) {
    log_.line("reading ts=" + number(sample.ts_ms) + " buffered=" + number(static_cast<long long>(buffer_.size())));
  } else {
    ++held_;
    log_.line("reading held: clock not set yet (" + number(static_cast<long long>(held_)) + " held)");
  }
}

int64_t Node::own_second(int64_t ts_ms) {
  // The daemon keeps one reading per node and second: at a 1 s interval, scheduling jitter could
  // put two readings in one second and the second would be taken for a duplicate. Move such a
  // reading to the start of the next second (a few ms). A clock stepped back is left alone.
  const int64_t second = ts_ms / 1000;
  if (last_second_ >= 0 && second == last_second_) ts_ms = (second + 1) * 1000;
  last_second_ = ts_ms / 1000;
  return ts_ms;
}

void Node::stamp_held(uint64_t now) {
  if (held_ == 0) return;
  int64_t epoch = 0;
  const bool known = clock_.epoch_ms(epoch);
  if (!clock_is_set(known, epoch)) return;
  // Held readings are the oldest ones: the clock, once set, stays set.
  for (size_t i = 0; i < buffer_.size(); ++i) {
    Sample& sample = buffer_.at(i);
    if (sample.stamped) continue;
    sample.ts_ms = own_second(stamp_from_monotonic(epoch, now, sample.taken_mono_ms));
    sample.stamped = true;
    log_.line("reading ts=" + number(sample.ts_ms) + " stamped from the monotonic clock");
  }
  log_.line("clock set: " + number(static_cast<long long>(held_)) + " held readings stamped");
  held_ = 0;
}

void Node::keep_connected(uint64_t now) {
  if (online_ && !network_.connected()) lose_connection(now, "connection lost");
  if (online_) {
    if (inflight_ && now - inflight_since_ms_ > settings_.puback_timeout_ms) {
      network_.disconnect();
      lose_connection(now, "no PUBACK within " + number(settings_.puback_timeout_ms) + " ms");
    }
    return;
  }
  if (now < next_attempt_ms_) return;
  int64_t epoch = 0;
  const bool known = clock_.epoch_ms(epoch);
  std::string waiting;
  if (!network_.link_up()) waiting = "waiting for Wi-Fi";
  else if (!clock_is_set(known, epoch)) waiting = "waiting for the clock (NTP) before connecting: TLS checks dates";
  if (!waiting.empty()) {
    if (waiting != waiting_for_) log_.line(waiting);
    waiting_for_ = waiting;
    return;
  }
  waiting_for_.clear();
  std::string error;
  Will will;
  will.topic = status_topic();
  will.payload = "offline";
  uint16_t token = 0;
  if (network_.connect(will, error) && network_.publish(status_topic(), "online", true, token)) {
    online_ = true;
    backoff_.reset();
    log_.line("mqtt connected; " + number(static_cast<long long>(buffer_.size())) + " readings to send");
    return;
  }
  if (error.empty()) error = "could not publish the status";
  network_.disconnect();
  const uint32_t delay = backoff_.next_delay_ms();
  next_attempt_ms_ = clock_.monotonic_ms() + delay;
  log_.line("mqtt connect failed (" + error + "): retry in " + number(delay) + " ms");
}

void Node::lose_connection(uint64_t now, const std::string& why) {
  online_ = false;
  inflight_ = false;  // not acknowledged: it stays at the front and is sent again
  const uint32_t delay = backoff_.next_delay_ms();
  next_attempt_ms_ = now + delay;
  log_.line("mqtt " + why + ": " + number(static_cast<long long>(buffer_.size())) + " readings buffered, reconnecting in " +
            number(delay) + " ms");
}

void Node::publish_next(uint64_t now) {
  if (inflight_ || buffer_.empty() || !buffer_.front().stamped) return;
  if (last_publish_ms_ != 0 && now - last_publish_ms_ < settings_.replay_gap_ms) return;
  uint16_t token = 0;
  if (!network_.publish(telemetry_topic(), payload_for(buffer_.front()), false, token)) {
    network_.disconnect();
    lose_connection(now, "publish failed");
    return;
  }
  inflight_ = true;
  inflight_id_ = buffer_.front_id();
  inflight_token_ = token;
  inflight_since_ms_ = now;
  last_publish_ms_ = now;
}

void Node::on_puback(uint16_t token) {
  if (!inflight_ || token != inflight_token_) return;  // e.g. the PUBACK of `online`
  inflight_ = false;
  buffer_.acknowledge(inflight_id_);  // false if overflow dropped it meanwhile: nothing to remove
}

std::string Node::payload_for(const Sample& sample) {
  // Health as it is now, when the message leaves, not when the reading was taken.
  Health health;
  health.fw = settings_.fw;
  long dbm = 0;
  if (network_.rssi(dbm)) {
    health.rssi = dbm;
    health.has_rssi = true;
  }
  health.uptime_s = static_cast<long long>(clock_.monotonic_ms() / 1000);
  health.dropped = buffer_.dropped();
  health.buffered = static_cast<long long>(buffer_.size()) - 1;  // waiting behind this one
  return reading_json(sample.ts_ms, sample.m, health);
}

void Node::shutdown() {
  if (!online_) return;
  uint16_t token = 0;
  network_.publish(status_topic(), "offline", true, token);
  network_.disconnect();
  online_ = false;
  log_.line("mqtt disconnected: " + number(static_cast<long long>(buffer_.size())) + " readings not sent");
}

}  // namespace enertrack
