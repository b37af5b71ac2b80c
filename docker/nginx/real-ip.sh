#!/bin/sh
# Writes nginx's realip settings for the balancer in front, from NGINX_REAL_IP_FROM (addresses
# or CIDR networks, separated by commas or spaces): nginx then takes the client's address from
# that balancer's X-Forwarded-For, for its logs, its rate limits and the X-Forwarded-For it passes
# on. Unset or empty: no file, and the peer's own address is the client's.
#
#   real-ip.sh [OUTPUT]   default: /etc/nginx/real-ip/platform.conf (the official image's prefix)
#
# The official image runs it from /docker-entrypoint.d/ (docker/compose.yml); scripts/stack.sh
# runs it into its private prefix. The template includes real-ip/*.conf, which may match nothing.
set -eu

output="${1:-/etc/nginx/real-ip/platform.conf}"
mkdir -p "$(dirname "$output")"
rm -f "$output"

networks="$(printf '%s' "${NGINX_REAL_IP_FROM:-}" | tr ',' ' ')"
[ -n "$(printf '%s' "$networks" | tr -d ' \t')" ] || exit 0

ipv4='([0-9]{1,3}\.){3}[0-9]{1,3}(/[0-9]{1,2})?'
ipv6='[0-9A-Fa-f:]*:[0-9A-Fa-f:.]*(/[0-9]{1,3})?'
lines=""
for network in $networks; do
    # Only addresses and networks reach the file: a stray ';' or word would inject nginx syntax.
    if ! printf '%s' "$network" | grep -Eqx "$ipv4|$ipv6"; then
        echo "real-ip.sh: NGINX_REAL_IP_FROM: '$network' is not an address or a CIDR network" >&2
        exit 1
    fi
    lines="${lines}set_real_ip_from $network;
"
done

temporary="$output.tmp.$$"
{
    echo "# Written by docker/nginx/real-ip.sh from NGINX_REAL_IP_FROM: the balancer(s) in front."
    printf '%s' "$lines"
    echo "real_ip_header X-Forwarded-For;"
    # The rightmost address that is not one of the balancers': what the client's own hop said.
    echo "real_ip_recursive on;"
} >"$temporary"
mv "$temporary" "$output"
echo "real-ip.sh: nginx takes the client address from X-Forwarded-For set by $networks" >&2
