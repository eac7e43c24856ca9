#!/usr/bin/env bash
# Installs the Debian 12 packages the project needs, only those missing. Run as root.
set -euo pipefail

packages=(
	gcc make cmake pkg-config
	mosquitto mosquitto-dev libmosquitto-dev mosquitto-clients
	libcbor-dev libuv1-dev libjansson-dev libexpat1-dev libsqlite3-dev uthash-dev
	libmicrohttpd-dev libgnutls28-dev libcurl4-openssl-dev libcoap3-dev libcoap3-bin libmbedtls-dev libssl-dev
	libcmocka-dev python3-paho-mqtt python3-cbor2 python3-cryptography openssl curl gdb sqlite3
)

missing=()
for p in "${packages[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done

if [ ${#missing[@]} -eq 0 ]; then
	exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}; run as root (or install them) and retry" >&2
	exit 1
fi
echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
