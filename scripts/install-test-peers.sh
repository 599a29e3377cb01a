#!/usr/bin/env bash
# Installs the Debian packages the integration tests drive as real peers, only those missing.
# Peers: SIPp (sip-tester), baresip and baresip-ffmpeg (its avcodec/avformat modules: H.264
# video peers), Kamailio, stunnel (TLS client in front of SIPp, whose Debian build has no TLS),
# sipsak, sipvicious, tshark, iproute2 (network namespaces for baresip), ffmpeg (an independent
# SRTP implementation, media files for streaming, H.264 RTP video peers), mkvtoolnix (mkvinfo
# checks the streamed MKV), awscli, python3-botocore and curl (independent SigV4 signers for the API).
# --bench adds rtpengine and gcc; --prompts adds espeak-ng and sox (scripts/make-prompts.sh).
# A package is present when its binary is on PATH, or, where the check is a path (awscli: Debian's
# /usr/bin/aws, not a pip or pyenv `aws` earlier on PATH), when that file is executable; a Python
# library is present when Debian's /usr/bin/python3 imports its module; a baresip module package
# when its module file is there.
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
  [awscli]=/usr/bin/aws
  [curl]=curl
)
declare -A module_of=(
  [python3-botocore]=botocore
)
declare -A file_of=(
  [baresip-ffmpeg]=/usr/lib/baresip/modules/avcodec.so
)
if [ "${1:-}" = "--bench" ]; then
  bin_of[rtpengine-daemon]=rtpengine
  bin_of[gcc]=gcc
fi
# --prompts: the tools scripts/make-prompts.sh needs (not CI's default set: the prompts are committed).
if [ "${1:-}" = "--prompts" ]; then
  bin_of[espeak-ng]=espeak-ng
  bin_of[sox]=sox
fi
present() {
  local pkg=$1
  if [ -n "${file_of[$pkg]:-}" ]; then
    [ -f "${file_of[$pkg]}" ]
  elif [ -n "${module_of[$pkg]:-}" ]; then
    /usr/bin/python3 -c "import ${module_of[$pkg]}" >/dev/null 2>&1
  elif [ "${bin_of[$pkg]#/}" != "${bin_of[$pkg]}" ]; then
    [ -x "${bin_of[$pkg]}" ]
  else
    command -v "${bin_of[$pkg]}" >/dev/null 2>&1
  fi
}
missing=()
for pkg in "${!bin_of[@]}" "${!module_of[@]}" "${!file_of[@]}"; do
  present "$pkg" || missing+=("$pkg")
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
  present "$pkg" || { echo "test peers: $pkg did not install ${bin_of[$pkg]:-${file_of[$pkg]:-python3 module ${module_of[$pkg]:-}}}" >&2; exit 1; }
done
echo "test peers: ready"
