#!/usr/bin/env bash
# Installs the Debian packages the integration tests drive as real peers, only those missing.
# Peers: SIPp (sip-tester), baresip, Kamailio, stunnel (TLS client in front of SIPp, whose Debian
# build has no TLS), sipsak, sipvicious, tshark, iproute2 (network namespaces for baresip), ffmpeg
# (an independent SRTP implementation, and media files for streaming), mkvtoolnix (mkvinfo checks
# the streamed MKV).
set -euo pipefail
declare -A bin_of=(
  [sip-tester]=sipp
  [baresip]=baresip
  [kamailio]=kamailio
  [stunnel4]=stunnel4
  [sipsak]=sipsak
  [sipvicious]=svmap
  [tshark]=tshark
  [iproute2]=ip
  [ffmpeg]=ffmpeg
  [mkvtoolnix]=mkvinfo
)
if [ "${1:-}" = "--bench" ]; then
  bin_of[rtpengine-daemon]=rtpengine
  bin_of[gcc]=gcc
fi
missing=()
for pkg in "${!bin_of[@]}"; do
  command -v "${bin_of[$pkg]}" >/dev/null 2>&1 || missing+=("$pkg")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "test peers: all present"
  exit 0
fi
echo "test peers: installing ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
echo "wireshark-common wireshark-common/install-setuid boolean false" | $SUDO debconf-set-selections || true
$SUDO apt-get update -qq
# policy-rc.d keeps the packaged services (kamailio) from starting at install time.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
for pkg in "${missing[@]}"; do
  command -v "${bin_of[$pkg]}" >/dev/null 2>&1 || { echo "test peers: $pkg did not install ${bin_of[$pkg]}" >&2; exit 1; }
done
echo "test peers: ready"
