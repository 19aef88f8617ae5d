// Copy to include/secrets.h (git-ignored) to pre-fill the configuration at compile time.
// Values saved in NVS (captive portal, serial console `save`) take precedence over these.
// Leave a macro out, or empty, to set that field on the device instead.
#define ENERTRACK_WIFI_SSID ""
#define ENERTRACK_WIFI_PASSWORD ""
#define ENERTRACK_MQTT_HOST ""  // e.g. "energy.example.org", as the node page says
#define ENERTRACK_MQTT_PORT "8883"
#define ENERTRACK_NODE_ID ""  // the node id registered in EnerTrack; also its MQTT user by default
#define ENERTRACK_MQTT_USER ""
#define ENERTRACK_MQTT_PASSWORD ""
#define ENERTRACK_INTERVAL_S "10"
// The PEM of the CA that signed the broker's certificate, line breaks kept:
#define ENERTRACK_MQTT_CA \
  ""
// e.g.
// #define ENERTRACK_MQTT_CA
//   "-----BEGIN CERTIFICATE-----\n"
//   "MIIBdzCCAR2gAwIBAgIU...\n"
//   "-----END CERTIFICATE-----\n"
