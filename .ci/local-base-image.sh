#!/usr/bin/env bash
# Builds a local stand-in for node:20-bookworm-slim when no container registry is
# reachable: a minimal Debian bookworm rootfs (debootstrap) plus this host's node and
# npm, imported as an image. Idempotent: does nothing when the tag already exists.
set -euo pipefail
tag="${1:-legion-local/node:20-bookworm}"
# Like the official node images, the base carries node's headers (/usr/local/include/node)
# so native modules (better-sqlite3) compile without downloading them.
if docker image inspect "$tag" >/dev/null 2>&1 && docker run --rm "$tag" test -f /usr/local/include/node/node.h; then
  echo "base image $tag already present"
  exit 0
fi
command -v debootstrap >/dev/null || { apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap; }
node_bin=$(readlink -f "$(command -v node)")
npm_dir=$(dirname "$(dirname "$(readlink -f "$(command -v npm)")")")
mirror=$(grep -hoE 'https?://deb.debian.org/debian/?' /etc/apt/sources.list /etc/apt/sources.list.d/* 2>/dev/null | head -n 1 || true)
rootfs=$(mktemp -d)
trap 'rm -rf "$rootfs"' EXIT
echo "debootstrap bookworm into $rootfs (mirror ${mirror:-default})"
debootstrap --variant=minbase --include=ca-certificates bookworm "$rootfs" ${mirror:+"$mirror"} >/tmp/legion-debootstrap.log 2>&1 \
  || { tail -n 30 /tmp/legion-debootstrap.log; exit 1; }
install -m 0755 "$node_bin" "$rootfs/usr/local/bin/node"
mkdir -p "$rootfs/usr/local/lib/node_modules"
cp -a "$npm_dir" "$rootfs/usr/local/lib/node_modules/npm"
ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$rootfs/usr/local/bin/npm"
ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$rootfs/usr/local/bin/npx"
node_headers=$(dirname "$node_bin")/../include/node
mkdir -p "$rootfs/usr/local/include"
cp -a "$node_headers" "$rootfs/usr/local/include/node"
# node:20-bookworm-slim has a user "node" with uid 1000; keep that true here.
chroot "$rootfs" useradd --uid 1000 --create-home --shell /bin/bash node
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
tar -C "$rootfs" -c . | docker import --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' --change 'CMD ["node"]' - "$tag" >/dev/null
echo "built base image $tag"
