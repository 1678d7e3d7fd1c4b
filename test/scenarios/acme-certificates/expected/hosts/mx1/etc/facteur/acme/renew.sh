#!/bin/sh
# mx1.relais.tld: its ACME certificate (lego, HTTP-01 on port 80), issued on the first run, renewed
# when 3650 days or fewer are left; Postfix reloads when the certificate changed.
# Run by facteur-acme.timer. Rendered by facteur from the spec's acme; edit the spec, not this file.
set -eu
CERT=/etc/facteur/acme/certificates/mx1.relais.tld.crt
before=$(cat "$CERT" 2>/dev/null | sha256sum)
set -- lego --accept-tos --email ops@gestion.tld --server https://acme.lab.tld:14000/dir --path /etc/facteur/acme \
  --key-type ec256 --http --http.port :80 --domains mx1.relais.tld
# Until the CA has issued one, the certificate is the bootstrap one the apply step made.
if [ -s /etc/facteur/acme/certificates/mx1.relais.tld.json ]; then
  # The timer already spreads runs over an hour (RandomizedDelaySec): no second random sleep here.
  "$@" renew --days 3650 --no-random-sleep
else
  "$@" run
fi
if [ "$(sha256sum <"$CERT")" != "$before" ]; then
  postfix -c /etc/postfix reload
fi
