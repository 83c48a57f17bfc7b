#!/usr/bin/env bash
# Lays out a Debian nginx rootfs like the official nginx:alpine image: content in
# /usr/share/nginx/html, /etc/nginx/conf.d/*.conf included, logs to stdout/stderr, and every
# writable path under /var/cache/nginx, /var/run or /tmp, so it runs with a read-only rootfs
# plus tmpfs on exactly those three. LaunchPad's serve containers run it as the nginx user
# (101:101) with no capability and their own whole configuration, writing only a tmpfs on /tmp:
# the last check below proves the image can.
set -euo pipefail
root=${1:?rootfs}
recipe=${LAUNCHPAD_IMAGE_RECIPE:?}

# The nginx user, as in nginx:alpine (uid/gid 101).
if ! grep -q '^nginx:' "$root/etc/passwd"; then
	chroot "$root" groupadd --system --gid 101 nginx
	chroot "$root" useradd --system --uid 101 --gid nginx --no-create-home \
		--home-dir /nonexistent --shell /usr/sbin/nologin nginx
fi

# Debian's site layout is not used; only conf.d is.
rm -rf "$root/etc/nginx/sites-available" "$root/etc/nginx/sites-enabled" "$root/var/www"
mkdir -p "$root/etc/nginx/conf.d" "$root/usr/share/nginx/html" "$root/var/cache/nginx"
install -m 0644 "$recipe/nginx.conf" "$root/etc/nginx/nginx.conf"
install -m 0644 "$recipe/default.conf" "$root/etc/nginx/conf.d/default.conf"
install -m 0644 "$recipe/index.html" "$root/usr/share/nginx/html/index.html"
install -m 0644 "$recipe/50x.html" "$root/usr/share/nginx/html/50x.html"

# Logs go to the container's stdout/stderr, as in the official image.
rm -rf "$root/var/log/nginx"
mkdir -p "$root/var/log/nginx"
ln -sf /dev/stdout "$root/var/log/nginx/access.log"
ln -sf /dev/stderr "$root/var/log/nginx/error.log"

# Debian compiles its temp paths into /var/lib/nginx; nginx.conf moves them to /var/cache/nginx.
# Keep the compiled-in directory as a link there so nothing ever writes to the read-only rootfs.
rm -rf "$root/var/lib/nginx"
ln -s /var/cache/nginx "$root/var/lib/nginx"

# Sanity checks: the configuration must parse inside the rootfs, and nginx must run as the
# nginx user (101:101, LaunchPad's serve containers have no capability) with a configuration
# like the controller's: everything it writes under /tmp.
chroot "$root" /usr/sbin/nginx -t -q
install -m 0644 "$recipe/unprivileged.conf" "$root/tmp/launchpad-unprivileged.conf"
chroot --userspec=101:101 "$root" /usr/sbin/nginx -t -q -c /tmp/launchpad-unprivileged.conf
rm -rf "$root"/var/cache/nginx/* "$root"/run/nginx.pid "$root"/tmp/*
