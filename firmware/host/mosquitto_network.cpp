#include "mosquitto_network.h"

#include <errno.h>
#include <mosquitto.h>
#include <string.h>

#include <chrono>

namespace host {

namespace {

const int kKeepAliveS = 30;
const int kConnectTimeoutMs = 5000;

std::string describe(int rc) {
  if (rc == MOSQ_ERR_ERRNO) return strerror(errno);
  return mosquitto_strerror(rc);
}

}  // namespace

MosquittoNetwork::~MosquittoNetwork() { destroy(); }

void MosquittoNetwork::destroy() {
  if (mosq_ != nullptr) mosquitto_destroy(mosq_);
  mosq_ = nullptr;
  connected_ = false;
  acks_.clear();
}

bool MosquittoNetwork::connect(const enertrack::Will& will, std::string& error) {
  // A fresh client per attempt: libmosquitto would otherwise resend its own copies of unacknowledged
  // messages, and the node resends from its buffer anyway.
  destroy();
  mosq_ = mosquitto_new(settings_.client_id.c_str(), true, this);
  if (mosq_ == nullptr) {
    error = "out of memory";
    return false;
  }
  mosquitto_connect_callback_set(mosq_, &MosquittoNetwork::on_connect);
  mosquitto_disconnect_callback_set(mosq_, &MosquittoNetwork::on_disconnect);
  mosquitto_publish_callback_set(mosq_, &MosquittoNetwork::on_publish);
  mosquitto_username_pw_set(mosq_, settings_.user.c_str(), settings_.password.c_str());
  // Certificate and host name are verified (SSL_VERIFY_PEER = 1); there is no insecure mode.
  int rc = mosquitto_tls_set(mosq_, settings_.ca_file.c_str(), nullptr, nullptr, nullptr, nullptr);
  if (rc == MOSQ_ERR_SUCCESS) rc = mosquitto_tls_opts_set(mosq_, 1, nullptr, nullptr);
  if (rc == MOSQ_ERR_SUCCESS)
    rc = mosquitto_will_set(mosq_, will.topic.c_str(), static_cast<int>(will.payload.size()), will.payload.data(), 1, true);
  if (rc != MOSQ_ERR_SUCCESS) {
    error = "TLS or Last Will setup: " + describe(rc) + " (is --ca a readable PEM file?)";
    return false;
  }
  connack_ = -1;
  rc = mosquitto_connect(mosq_, settings_.host.c_str(), settings_.port, kKeepAliveS);
  if (rc != MOSQ_ERR_SUCCESS) {
    error = describe(rc);
    return false;
  }
  const std::chrono::steady_clock::time_point deadline =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(kConnectTimeoutMs);
  while (connack_ < 0 && std::chrono::steady_clock::now() < deadline) {
    rc = mosquitto_loop(mosq_, 100, 1);
    if (rc != MOSQ_ERR_SUCCESS) {
      error = describe(rc);
      return false;
    }
  }
  if (connack_ != 0) {
    error = connack_ < 0 ? "no CONNACK within 5 s" : mosquitto_connack_string(connack_);
    return false;
  }
  return true;
}

bool MosquittoNetwork::publish(const std::string& topic, const std::string& payload, bool retain, uint16_t& token) {
  if (!connected()) return false;
  int mid = 0;
  const int rc = mosquitto_publish(mosq_, &mid, topic.c_str(), static_cast<int>(payload.size()), payload.data(), 1, retain);
  if (rc != MOSQ_ERR_SUCCESS) return false;
  token = static_cast<uint16_t>(mid);
  // Hand the packet to the socket now rather than at the next poll.
  mosquitto_loop(mosq_, 0, 1);
  return true;
}

void MosquittoNetwork::poll(enertrack::NetworkListener& listener) {
  if (mosq_ == nullptr) return;
  const int rc = mosquitto_loop(mosq_, 0, 1);
  if (rc != MOSQ_ERR_SUCCESS) connected_ = false;
  std::vector<uint16_t> acks;
  acks.swap(acks_);
  for (size_t i = 0; i < acks.size(); ++i) listener.on_puback(acks[i]);
}

void MosquittoNetwork::disconnect() {
  if (mosq_ != nullptr && connected_) {
    // Let an `offline` status go out before the DISCONNECT.
    for (int i = 0; i < 10 && mosquitto_want_write(mosq_); ++i) mosquitto_loop(mosq_, 50, 1);
    mosquitto_disconnect(mosq_);
    mosquitto_loop(mosq_, 50, 1);
  }
  destroy();
}

void MosquittoNetwork::on_connect(struct mosquitto*, void* self, int rc) {
  MosquittoNetwork* network = static_cast<MosquittoNetwork*>(self);
  network->connack_ = rc;
  network->connected_ = rc == 0;
}

void MosquittoNetwork::on_disconnect(struct mosquitto*, void* self, int) {
  static_cast<MosquittoNetwork*>(self)->connected_ = false;
}

void MosquittoNetwork::on_publish(struct mosquitto*, void* self, int mid) {
  // libmosquitto calls this for a QoS 1 message when its PUBACK arrives.
  static_cast<MosquittoNetwork*>(self)->acks_.push_back(static_cast<uint16_t>(mid));
}

}  // namespace host
