#!/bin/sh
# mx1.relais.tld: its ACME certificate (lego, HTTP-01 on port 80), issued on the first run, renewed
# when 30 days or fewer are left; Postfix reloads when the certificate changed.
# Run by facteur-acme.timer. Rendered by facteur from the spec's acme; edit the spec, not this file.
set -eu
CERT=/etc/facteur/acme/certificates/mx1.relais.tld.crt
before=$(cat "$CERT" 2>/dev/null | sha256sum)
# The certificate is for the host's managed key (/etc/facteur/tls/key.pem, pinned by its TLSA records): lego
# gets a CSR made from it, never a key of its own, so renewals keep the key and the TLSA valid.
KEY=/etc/facteur/tls/key.pem
CSR=/etc/facteur/acme/mx1.relais.tld.csr
keypub=$(openssl pkey -in "$KEY" -pubout)
if [ ! -s "$CSR" ] || [ "$(openssl req -in "$CSR" -noout -pubkey)" != "$keypub" ]; then
  openssl req -new -key "$KEY" -subj /CN=mx1.relais.tld -addext subjectAltName=DNS:mx1.relais.tld -out "$CSR.new"
  mv -f "$CSR.new" "$CSR"
fi
set -- lego --accept-tos --email ops@gestion.tld --server https://acme-v02.api.letsencrypt.org/directory --path /etc/facteur/acme \
  --http --http.port :80 --csr "$CSR"
# Renew only a certificate the CA issued for this very key; after a key switch (or while the
# apply step's bootstrap certificate is served) issue anew.
if [ -s /etc/facteur/acme/certificates/mx1.relais.tld.json ] && [ "$(openssl x509 -in "$CERT" -noout -pubkey 2>/dev/null)" = "$keypub" ] \
  && [ "$(openssl x509 -in "$CERT" -noout -issuer -nameopt compat 2>/dev/null | sed 's/^issuer=//')" != "$(openssl x509 -in "$CERT" -noout -subject -nameopt compat 2>/dev/null | sed 's/^subject=//')" ]; then
  "$@" renew --days 30 --no-random-sleep
else
  "$@" run
fi
if [ "$(sha256sum <"$CERT")" != "$before" ]; then
  postfix -c /etc/postfix reload
fi
