#!/bin/sh
# Installs the Debian packages Shoal needs, only those that are missing.
# `apt-get update` runs once, and only when something has to be installed.
set -eu
PKGS="gcc make libc6-dev pkg-config librdkafka-dev libpq-dev libcjson-dev libcurl4-openssl-dev
      libmicrohttpd-dev libxml2-dev python3-yaml docker-compose
      postgresql kcat python3-confluent-kafka procps chromium fonts-dejavu-core
      clang cppcheck clang-tidy valgrind iproute2"
missing=""
for p in $PKGS; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
[ -z "$missing" ] && exit 0
echo "deps: installing:$missing" >&2
SUDO=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "deps: need root (or sudo) to install:$missing" >&2; exit 1; }
  SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
# shellcheck disable=SC2086
$SUDO apt-get install -y -q --no-install-recommends $missing
