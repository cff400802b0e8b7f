#!/usr/bin/env bash
# Makes the root filesystem of the container image in a directory: what the Dockerfile copies into
# its `FROM scratch` stage, and what tests/deploy/image.sh runs, so the tested layout is the
# shipped one.
#
#   deploy/rootfs.sh BINARY DIR [CA_BUNDLE]
#
# DIR/toolbox                            the static binary (musl; refused if it is dynamic)
# DIR/etc/ssl/certs/ca-certificates.crt  the CA bundle (default: the build machine's, from Debian's
#                                        ca-certificates): the roots the authorization client
#                                        (reqwest with the platform verifier) trusts for identity
#                                        providers; database TLS uses the roots compiled into the
#                                        binary (webpki-roots) or a queryParams sslrootcert file
# DIR/etc/passwd, DIR/etc/group          the user toolbox, UID and GID 65532, no shell, no home
# DIR/data                               for SQLite files (owned by 65532, see the Dockerfile)
# DIR/tmp                                SQLite's temporary files (mode 1777)
set -euo pipefail

die() { echo "rootfs.sh: $*" >&2; exit 1; }
[[ $# -ge 2 ]] || die "usage: deploy/rootfs.sh BINARY DIR [CA_BUNDLE]"
binary=$1 dir=$2 bundle=${3:-/etc/ssl/certs/ca-certificates.crt}
[[ -x "$binary" ]] || die "no executable at $binary"
[[ -s "$bundle" ]] || die "no CA bundle at $bundle (apt-get install ca-certificates)"
# A scratch image has no dynamic loader: the binary must be static.
if command -v file >/dev/null; then
    file -L "$binary" | grep -Eq 'statically linked|static-pie linked' \
        || die "$binary is not static: build it with cargo build --profile dist --target x86_64-unknown-linux-musl"
fi

mkdir -p "$dir/etc/ssl/certs" "$dir/data" "$dir/tmp"
install -m 0755 "$binary" "$dir/toolbox"
install -m 0644 "$bundle" "$dir/etc/ssl/certs/ca-certificates.crt"
echo 'toolbox:x:65532:65532:toolbox:/nonexistent:/sbin/nologin' >"$dir/etc/passwd"
echo 'toolbox:x:65532:' >"$dir/etc/group"
chmod 0644 "$dir/etc/passwd" "$dir/etc/group"
chmod 1777 "$dir/tmp"
chmod 0755 "$dir/data"
echo "rootfs.sh: $dir ($(du -sh "$dir" | cut -f1)): /toolbox, the CA bundle, the user 65532"
