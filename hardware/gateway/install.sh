#!/bin/sh
# Provision a Raspberry Pi as a Mingle gateway. Run as root: sh install.sh gw-01 expo mqtt://hub:1883
set -eu
GATEWAY="$1"; SITE="$2"; BROKER="$3"
HERE="$(cd "$(dirname "$0")" && pwd)"
apt-get update
apt-get install -y python3-venv bluez chrony
id mingle >/dev/null 2>&1 || useradd --system --groups bluetooth --home /opt/mingle mingle
mkdir -p /opt/mingle
python3 -m venv /opt/mingle/venv
/opt/mingle/venv/bin/pip install "mingle[edge]"
install -m 644 "$HERE/chrony.conf" /etc/chrony/chrony.conf
grep -q '^Experimental = true' /etc/bluetooth/main.conf || cat "$HERE/bluetooth-main.conf" >> /etc/bluetooth/main.conf
sed -e "s/^MINGLE_GATEWAY=.*/MINGLE_GATEWAY=$GATEWAY/" -e "s/^MINGLE_SITE=.*/MINGLE_SITE=$SITE/" \
    -e "s|^MINGLE_BROKER=.*|MINGLE_BROKER=$BROKER|" "$HERE/mingle-edge.env" > /etc/default/mingle-edge
install -m 644 "$HERE/mingle-edge.service" /etc/systemd/system/mingle-edge.service
systemctl restart chrony bluetooth
systemctl daemon-reload
systemctl enable --now mingle-edge
