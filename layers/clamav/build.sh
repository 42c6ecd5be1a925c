#!/usr/bin/env bash
# Builds the ClamAV layer into $1 (default ./build): run inside Amazon Linux 2023 for the functions'
# architecture (CDK does: infra/cdk/clamav_layer.py), or by hand:
#   docker run --rm --platform linux/arm64 -v "$PWD":/asset-input -v "$PWD/build":/asset-output \
#       public.ecr.aws/amazonlinux/amazonlinux:2023 bash /asset-input/build.sh /asset-output
set -euo pipefail
out=${1:-build}
mkdir -p "$out/clamav/bin" "$out/clamav/lib64" "$out/clamav/db"

dnf install -y -q clamav clamav-lib clamd clamav-update >/dev/null
for binary in clamscan clamd freshclam clamdscan; do
  cp "$(command -v "$binary")" "$out/clamav/bin/"
done
# The shared libraries the binaries need that the Lambda runtime does not already have.
for binary in "$out"/clamav/bin/*; do
  ldd "$binary" | awk '/=> \// {print $3}'
done | sort -u | while read -r lib; do
  case "$lib" in
    /lib64/libc.so*|/lib64/libm.so*|/lib64/libpthread.so*|/lib64/libdl.so*|/lib64/ld-linux*) ;;
    *) cp -L "$lib" "$out/clamav/lib64/" ;;
  esac
done

# Signatures current at build time; layers/clamav/refresh-definitions.sh replaces them on a schedule.
cat > /tmp/freshclam.conf <<CONF
DatabaseDirectory $out/clamav/db
DatabaseMirror database.clamav.net
CompressLocalDatabase yes
CONF
freshclam --config-file=/tmp/freshclam.conf --stdout
chmod -R a+rX "$out"
