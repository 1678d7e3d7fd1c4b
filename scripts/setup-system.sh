#!/usr/bin/env bash
# Installs the Debian 12 packages the lab and the tests run for real (the same ones the hosts run).
# Idempotent; CI and new machines start bare, so .ci/run calls this first.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
PACKAGES=(
  postfix opendkim opendkim-tools postsrsd knot knot-dnsutils
  policyd-rate-limit rspamd
  postgresql python3-psycopg2 postfix-mta-sts-resolver unbound pebble lego prometheus-postfix-exporter
  sasl2-bin libsasl2-modules
  swaks libnet-ssleay-perl libauthen-sasl-perl python3-dkim python3-spf python3-dnspython
  iproute2 nftables procps psmisc openssl ca-certificates
  openssh-server
)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  # postfix asks debconf questions on install: answer them so a non-interactive install works.
  echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# Debian starts packaged daemons on install where it can; the lab runs its own instances only.
for svc in postfix opendkim postsrsd knot saslauthd policyd-rate-limit rspamd redis-server ssh postgresql postfix-mta-sts-resolver unbound prometheus-postfix-exporter; do
  (service "$svc" stop >/dev/null 2>&1 || true)
done
echo "system packages ready: ${PACKAGES[*]}"
