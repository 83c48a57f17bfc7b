#!/usr/bin/env bash
# Adds what the official node images have beyond the packages: a non-root user `node`
# (uid/gid 1000, home /home/node, shell /bin/sh) that build containers run as.
set -euo pipefail
root=${1:?rootfs}

if ! grep -q '^node:' "$root/etc/passwd"; then
	chroot "$root" groupadd --gid 1000 node
	chroot "$root" useradd --uid 1000 --gid node --create-home --home-dir /home/node \
		--shell /bin/sh node
fi
# Node 20, as in node:20-alpine: Debian 12 ships Node 18, which today's tools (Vite 8, for one:
# the dashboard's build in the Dockerfile) refuse. When this machine has Node >= 20 from a Debian
# package (NodeSource's, on these machines), its files replace Debian's node and npm; the recipe
# key (scripts/test-env.sh) includes that version.
host_node=$(command -v node || true)
if [ -n "$host_node" ] && dpkg -S "$(readlink -f "$host_node")" >/dev/null 2>&1 &&
	[ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -ge 20 ]; then
	pkg=$(dpkg -S "$(readlink -f "$host_node")" | cut -d: -f1)
	rm -f "$root/usr/bin/npm" "$root/usr/bin/npx"
	dpkg -L "$pkg" | grep -Ev '^/usr/(share/(doc|man)|include|lib/node_modules/npm)(/|$)' |
		while read -r f; do
			if [ -d "$f" ] && [ ! -L "$f" ]; then
				mkdir -p "$root$f"
			elif [ -e "$f" ] || [ -L "$f" ]; then
				cp -a "$f" "$root$f"
			fi
		done
	# npm as it is now (it may have upgraded itself past the package's copy)
	rm -rf "$root/usr/lib/node_modules/npm"
	mkdir -p "$root/usr/lib/node_modules"
	cp -a /usr/lib/node_modules/npm "$root/usr/lib/node_modules/npm"
	ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
	ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
fi
# The machine's trust store: where the npm registry is reached through a TLS-inspecting proxy,
# its CA is in the host bundle, and builds (and `npm ci` in docker build) must trust it too.
# The image sets NODE_EXTRA_CA_CERTS to it (scripts/test-env.sh).
if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
	mkdir -p "$root/etc/ssl/certs"
	cp /etc/ssl/certs/ca-certificates.crt "$root/etc/ssl/certs/ca-certificates.crt"
fi
# Sanity check: the tools a build command relies on must run.
chroot "$root" /bin/sh -c 'node --version && npm --version && git --version' >/dev/null
