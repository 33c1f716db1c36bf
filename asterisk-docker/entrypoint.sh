#!/usr/bin/env bash
# entrypoint.sh -- container start for the production Asterisk image.
# The config files were copied into /etc/asterisk at image build time (the same files the
# sandbox uses); here only the site-specific includes are rendered from the environment,
# by the same render-config.sh as sandbox.sh, with container defaults: bind 0.0.0.0.
# Then Asterisk runs in the foreground as PID 1's child (compose sets init: true).
set -euo pipefail

export HOTLINE_HTTP_BIND=${HOTLINE_HTTP_BIND:-0.0.0.0}
export HOTLINE_SIP_BIND=${HOTLINE_SIP_BIND:-0.0.0.0}

/usr/local/lib/hotline/render-config.sh /etc/asterisk
chown root:asterisk /etc/asterisk/ari_users.conf /etc/asterisk/http_bind.conf /etc/asterisk/pjsip_site.conf

# Volumes may arrive empty and root-owned.
install -d -o asterisk -g asterisk /var/run/asterisk /var/log/asterisk /var/spool/asterisk /var/lib/asterisk

# The secret has done its job; Asterisk does not need it in its environment.
unset HOTLINE_ARI_PASSWORD

# -f: foreground, no console; its notices/warnings/errors (logger.conf "console") go to
# stdout for `docker logs`, uncoloured (-n); also /var/log/asterisk/messages.log (volume).
exec /usr/sbin/asterisk -f -n -U asterisk -G asterisk "$@"
