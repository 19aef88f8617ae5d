#!/usr/bin/env bash
# Make the services the tests need usable: MariaDB, Mosquitto, headless Chromium (+ driver),
# VictoriaMetrics (an InfluxDB line-protocol peer). Starts what is installed but stopped; installs
# with apt-get what is missing when run as root, unless ENERTRACK_NO_APT=1. Prints what is still
# missing otherwise: those tests then skip with that reason (and fail when CI=true).
#   scripts/test-services.sh build-deps   packages needed to pip-install mysqlclient (the [mysql] extra)
#   scripts/test-services.sh start        the services themselves; writes $VENV/test.env
#   scripts/test-services.sh firmware-deps the firmware's host build: g++, libmosquitto-dev, doctest-dev
#                                         (exit 1 when still missing)
set -u
VENV=${VENV:-.venv}
ROOT=0; [ "$(id -u)" = 0 ] && ROOT=1
# Root that must not change the system (a test of the Makefile, a shared machine): only say what is missing.
NO_APT=${ENERTRACK_NO_APT:-0}
APT_UPDATED=0
say() { echo "[services] $*"; }

apt_install() {
  if [ "$ROOT" != 1 ] || [ "$NO_APT" = 1 ] || ! command -v apt-get >/dev/null; then
    say "missing: $* (install with: sudo apt-get install -y $*)"; return 1
  fi
  if [ "$APT_UPDATED" = 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true; APT_UPDATED=1
  fi
  say "installing $*"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >/dev/null 2>&1 || { say "apt-get install $* failed"; return 1; }
}

have() { command -v "$1" >/dev/null 2>&1 || [ -x "/usr/sbin/$1" ] || [ -x "/usr/bin/$1" ]; }

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

wait_port() {
  for _ in $(seq 1 60); do port_open "$1" && return 0; sleep 0.5; done; return 1
}

# What pip needs to compile mysqlclient (it has no Linux wheels): a C compiler, the headers of the
# Python that builds it, and the MariaDB client library with pkg-config to find it.
build_deps() {
  local py="$VENV/bin/python" missing=()
  [ -x "$py" ] || py=python3
  have gcc && have make || missing+=(build-essential)
  "$py" -c 'import os, sys, sysconfig; sys.exit(not os.path.exists(os.path.join(sysconfig.get_paths()["include"], "Python.h")))' \
    || missing+=(python3-dev)
  pkg-config --exists mysqlclient 2>/dev/null || pkg-config --exists mariadb 2>/dev/null \
    || missing+=(default-libmysqlclient-dev pkg-config)
  [ "${#missing[@]}" = 0 ] && return 0
  apt_install "${missing[@]}" \
    || say "mysqlclient may not build without them: the MariaDB tests then skip (and fail with CI=true)"
}

mariadb() {
  if ! have mariadbd && ! have mysqld; then apt_install mariadb-server mariadb-client || return; fi
  if ! port_open 3306; then
    say "starting MariaDB"
    if [ "$ROOT" = 1 ]; then
      mkdir -p /run/mysqld && chown mysql:mysql /run/mysqld 2>/dev/null
      start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd >/dev/null 2>&1 \
        || service mariadb start >/dev/null 2>&1 || true
    fi
    wait_port 3306 || { say "MariaDB did not start on 127.0.0.1:3306"; return; }
  fi
  # Tests connect as root@127.0.0.1 without a password (this machine's setup). Where root uses
  # unix_socket auth instead, create a dedicated test account through the socket.
  if ! mariadb-admin -uroot -h127.0.0.1 --protocol=tcp ping >/dev/null 2>&1 \
     && [ "$ROOT" = 1 ] && mariadb -uroot -e "SELECT 1" >/dev/null 2>&1; then
    mariadb -uroot -e "CREATE USER IF NOT EXISTS 'enertrack_test'@'127.0.0.1' IDENTIFIED BY 'enertrack_test';
      GRANT ALL PRIVILEGES ON \`enertrack\\_test\\_%\`.* TO 'enertrack_test'@'127.0.0.1';" \
      && echo "ENERTRACK_TEST_MYSQL_URL=mysql+mysqldb://enertrack_test:enertrack_test@127.0.0.1:3306" >> "$VENV/test.env"
  fi
  say "MariaDB ready on 127.0.0.1:3306"
}

mosquitto_broker() {
  have mosquitto || apt_install mosquitto mosquitto-clients || return
  have mosquitto_passwd || apt_install mosquitto-clients || true
  if ! port_open 1883; then
    say "starting Mosquitto on 127.0.0.1:1883"
    if [ -f /etc/mosquitto/mosquitto.conf ] && [ "$ROOT" = 1 ]; then
      mosquitto -d -c /etc/mosquitto/mosquitto.conf >/dev/null 2>&1
    else
      mosquitto -d -p 1883 >/dev/null 2>&1
    fi
    wait_port 1883 || say "Mosquitto did not start on 127.0.0.1:1883"
  fi
  say "Mosquitto ready (binary: $(command -v mosquitto || echo /usr/sbin/mosquitto))"
}

chromium_browser() {
  if ! have chromium || ! have chromedriver; then apt_install chromium chromium-driver || return; fi
  say "Chromium ready ($(chromium --version 2>/dev/null | head -1))"
}

# `make firmware` compiles the ESP32 core on this machine: a C++ compiler, libmosquitto for the
# host node's network layer, doctest for the unit tests.
firmware_deps() {
  local missing=()
  have g++ || missing+=(g++)
  [ -f /usr/include/mosquitto.h ] || missing+=(libmosquitto-dev)
  [ -f /usr/include/doctest/doctest.h ] || missing+=(doctest-dev)
  [ "${#missing[@]}" = 0 ] && return 0
  apt_install "${missing[@]}"
}

victoria() {
  have victoria-metrics || apt_install victoria-metrics || return
  say "VictoriaMetrics ready"
}

case "${1:-start}" in
  build-deps) build_deps ;;
  firmware-deps) firmware_deps || exit 1 ;;
  start)
    mkdir -p "$VENV"; : > "$VENV/test.env"
    mariadb; mosquitto_broker; chromium_browser; victoria; firmware_deps
    ;;
  *) echo "usage: $0 build-deps|start|firmware-deps" >&2; exit 2 ;;
esac
exit 0
