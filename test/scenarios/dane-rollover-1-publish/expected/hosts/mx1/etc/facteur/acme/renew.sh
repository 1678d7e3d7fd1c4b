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
# The next key (/etc/facteur/tls/next.pem, its TLSA already published beside the current one's) gets its
# certificate now, in a lego tree of its own: at the switch the apply step installs it with the key,
# so the host never serves a self-signed certificate. Nothing here touches what Postfix serves.
NEXT_KEY=/etc/facteur/tls/next.pem
NEXT_CSR=/etc/facteur/acme/next/mx1.relais.tld.csr
nextpub=$(openssl pkey -in "$NEXT_KEY" -pubout)
mkdir -p /etc/facteur/acme/next
if [ ! -s "$NEXT_CSR" ] || [ "$(openssl req -in "$NEXT_CSR" -noout -pubkey)" != "$nextpub" ]; then
  openssl req -new -key "$NEXT_KEY" -subj /CN=mx1.relais.tld -addext subjectAltName=DNS:mx1.relais.tld -out "$NEXT_CSR.new"
  mv -f "$NEXT_CSR.new" "$NEXT_CSR"
fi
set -- lego --accept-tos --email ops@gestion.tld --server https://acme-v02.api.letsencrypt.org/directory --path /etc/facteur/acme/next \
  --http --http.port :80 --csr "$NEXT_CSR"
if [ -s /etc/facteur/acme/next/certificates/mx1.relais.tld.json ] && [ "$(openssl x509 -in /etc/facteur/acme/next/certificates/mx1.relais.tld.crt -noout -pubkey 2>/dev/null)" = "$nextpub" ]; then
  "$@" renew --days 30 --no-random-sleep
else
  "$@" run
fi
