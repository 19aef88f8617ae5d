// The host node's network layer: libmosquitto, QoS 1, TLS verified against the CA file, one thread.
#ifndef ENERTRACK_HOST_MOSQUITTO_NETWORK_H
#define ENERTRACK_HOST_MOSQUITTO_NETWORK_H

#include <string>
#include <vector>

#include "ports.h"

struct mosquitto;

namespace host {

struct BrokerSettings {
  std::string host;
  int port = 8883;
  std::string ca_file;
  std::string user;
  std::string password;
  std::string client_id;
};

class MosquittoNetwork : public enertrack::Network {
 public:
  explicit MosquittoNetwork(const BrokerSettings& settings) : settings_(settings) {}
  ~MosquittoNetwork();

  bool link_up() override { return true; }
  bool connected() override { return mosq_ != nullptr && connected_; }
  bool connect(const enertrack::Will& will, std::string& error) override;
  bool publish(const std::string& topic, const std::string& payload, bool retain, uint16_t& token) override;
  void poll(enertrack::NetworkListener& listener) override;
  void disconnect() override;
  bool rssi(long&) override { return false; }  // no radio: the key is left out

 private:
  static void on_connect(struct mosquitto*, void* self, int rc);
  static void on_disconnect(struct mosquitto*, void* self, int rc);
  static void on_publish(struct mosquitto*, void* self, int mid);
  void destroy();

  BrokerSettings settings_;
  struct mosquitto* mosq_ = nullptr;
  bool connected_ = false;
  int connack_ = -1;
  std::vector<uint16_t> acks_;
};

}  // namespace host

#endif  // ENERTRACK_HOST_MOSQUITTO_NETWORK_H
