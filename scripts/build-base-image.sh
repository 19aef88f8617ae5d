#!/usr/bin/env bash
# Build a stand-in for python:3.11-slim-bookworm where base images cannot be pulled (no Docker Hub),
# so the project's Dockerfile builds unchanged. Debian bookworm (minbase) + Debian's Python 3.11,
# /usr/local/bin/python as in the official image. Kept in podman's own image store: a second run
# finds the tag and returns at once (REBUILD=1 forces a new one).
#
# The machine's CA bundle is copied into the stand-in ONLY, with PIP_CERT pointing at it, because
# package downloads during a build on this machine go through a TLS-inspecting proxy. The project's
# Dockerfile does not need (or get) it: with the real base image pip uses its own certificates.
#
#   scripts/build-base-image.sh            needs root, podman and debootstrap (installed with apt-get
#                                          when missing, unless ENERTRACK_NO_APT=1)
set -euo pipefail
TAG=${BASE_TAG:-docker.io/library/python:3.11-slim-bookworm}
ROOTFS_TAG=localhost/enertrack-bookworm-min
SUITE=bookworm
CA_BUNDLE=${CA_BUNDLE:-/etc/ssl/certs/ca-certificates.crt}
say() { echo "[base-image] $*"; }
die() { echo "[base-image] error: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "debootstrap and podman's image store need root (run as root or with sudo)"

need_tools() {
  local missing=()
  command -v podman >/dev/null || missing+=(podman)
  command -v debootstrap >/dev/null || [ -x /usr/sbin/debootstrap ] || missing+=(debootstrap)
  [ "${#missing[@]}" = 0 ] && return 0
  [ "${ENERTRACK_NO_APT:-0}" = 1 ] && die "missing: ${missing[*]} (install with: apt-get install -y ${missing[*]})"
  say "installing ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null 2>&1 || true
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null \
    || die "apt-get install ${missing[*]} failed"
}

# The Debian mirror apt already uses here (deb822 "URIs:" or one-line "deb URL SUITE"), never the
# security archive: debootstrap needs the main archive of $SUITE.
debian_mirror() {
  local files=() url
  [ -f /etc/apt/sources.list ] && files+=(/etc/apt/sources.list)
  for f in /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do [ -f "$f" ] && files+=("$f"); done
  [ "${#files[@]}" = 0 ] && return 1
  url=$(awk -v suite="$SUITE" '
    /^[[:space:]]*#/ { next }
    /^URIs:/ { uris = $2 } 
    /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite && uris !~ /security/) { print uris; exit } }
    /^deb[[:space:]]/ { u = ($2 ~ /^\[/) ? $3 : $2; s = ($2 ~ /^\[/) ? $4 : $3
                        if (s == suite && u !~ /security/) { print u; exit } }
    /^$/ { uris = "" }' "${files[@]}")
  [ -n "$url" ] && echo "$url"
}

if [ "${REBUILD:-0}" != 1 ] && podman image exists "$TAG" 2>/dev/null; then
  say "$TAG already in podman's image store (REBUILD=1 to make it again)"
  exit 0
fi
need_tools
[ -f "$CA_BUNDLE" ] || die "no CA bundle at $CA_BUNDLE (set CA_BUNDLE=...)"
MIRROR=${DEBIAN_MIRROR:-$(debian_mirror || true)}
[ -n "$MIRROR" ] || die "no Debian $SUITE mirror in /etc/apt/sources.list*: set DEBIAN_MIRROR=http://..."

WORK=$(mktemp -d /var/tmp/enertrack-base.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
if ! podman image exists "$ROOTFS_TAG" 2>/dev/null || [ "${REBUILD:-0}" = 1 ]; then
  say "debootstrap --variant=minbase $SUITE from $MIRROR (a minute or two)"
  debootstrap --variant=minbase "$SUITE" "$WORK/rootfs" "$MIRROR" > "$WORK/debootstrap.log" 2>&1 \
    || { tail -20 "$WORK/debootstrap.log" >&2; die "debootstrap failed (log above)"; }
  tar -C "$WORK/rootfs" -c . | podman import --quiet - "$ROOTFS_TAG" >/dev/null
  rm -rf "$WORK/rootfs"
fi

mkdir -p "$WORK/ctx"
cp "$CA_BUNDLE" "$WORK/ctx/ca-bundle.crt"
# The bundle goes beside, not over, the image's own /etc/ssl/certs: installing ca-certificates
# would regenerate that file and drop the machine's extra CA.
cat > "$WORK/ctx/Containerfile" <<EOF
FROM $ROOTFS_TAG
COPY ca-bundle.crt /usr/local/share/enertrack-stand-in/ca-bundle.crt
ENV LANG=C.UTF-8 \\
    PIP_CERT=/usr/local/share/enertrack-stand-in/ca-bundle.crt \\
    REQUESTS_CA_BUNDLE=/usr/local/share/enertrack-stand-in/ca-bundle.crt
RUN apt-get update \\
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \\
      python3 python3-venv python3-pip python3-dev ca-certificates \\
 && rm -rf /var/lib/apt/lists/* \\
 && ln -sf /usr/bin/python3 /usr/local/bin/python \\
 && ln -sf /usr/bin/python3 /usr/local/bin/python3
LABEL org.enertrack.stand-in="python:3.11-slim-bookworm built by scripts/build-base-image.sh"
CMD ["python3"]
EOF
say "building $TAG from $ROOTFS_TAG"
podman build --isolation chroot --network host --quiet -t "$TAG" -f "$WORK/ctx/Containerfile" "$WORK/ctx" >/dev/null
say "ready: $TAG"
