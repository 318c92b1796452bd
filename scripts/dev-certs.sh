#!/usr/bin/env bash
# Makes what TLS and bearer tokens need, for development and tests: a
# private CA, a server certificate signed by it, and two random tokens.
#
#   scripts/dev-certs.sh <dir> [extra DNS name...]
#
# Writes into <dir> (created, mode 700): ca.pem (give it to clients),
# ca.key (keep it: it signs certificates), server.pem and server.key (the
# services' --tls_cert_file and --tls_key_file), writer.token and
# reader.token (--writer_token_file, --reader_token_file). The server
# certificate is valid for 2 days for localhost, 127.0.0.1 and each extra
# name (e.g. command-service, query-service in compose). Existing files are
# replaced. Not for production: use your organisation's CA there.
set -euo pipefail
[ $# -ge 1 ] || { sed -n '2,14p' "$0"; exit 2; }
dir=$1
shift
mkdir -p "$dir"
chmod 700 "$dir"
cd "$dir"
umask 077

names="DNS:localhost,IP:127.0.0.1"
for name in "$@"; do names+=",DNS:$name"; done

# The CA: a self-signed certificate that may sign others.
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout ca.key -out ca.pem -days 2 -subj "/CN=inventory dev CA" \
  -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null
# The server: a key, a signing request, and the certificate the CA signs.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
  -keyout server.key -out server.csr -subj "/CN=localhost" 2>/dev/null
printf 'subjectAltName=%s\nextendedKeyUsage=serverAuth\n' "$names" >server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
  -days 2 -extfile server.ext -out server.pem 2>/dev/null
rm -f server.csr server.ext ca.srl
# Tokens: 32 random bytes each, as hex.
openssl rand -hex 32 >writer.token
openssl rand -hex 32 >reader.token
# umask 077 made the new files private; files that existed keep their
# mode when overwritten, so set it. The services warn about a key or token
# file others may read.
chmod 600 ca.key server.key writer.token reader.token
chmod 644 ca.pem server.pem
echo "made ca.pem, server.pem, server.key, writer.token, reader.token in $dir (server names: $names)"
