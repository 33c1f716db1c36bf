#!/bin/bash
# moh-g711.sh SRC DEST -- music on hold as the calls carry it: every GSM file of SRC written
# to DEST as raw G.711 mu-law (.ulaw) and A-law (.alaw), 8 kHz mono.
#
# Why: Asterisk plays the file format that costs least to send. With only the GSM files of
# asterisk-moh-opsound-gsm, every caller waiting in a queue had its own GSM decoder and
# G.711 encoder running; with 1,000 callers parked that alone took the 2 cores of the test
# machine (answer p99 3.8-5.5 s; 0.2-0.9 s in G.711). In the calls' own codecs the frames are
# sent as read.
# Needs sox (with GSM support, as Debian builds it). Files already converted are kept.
set -euo pipefail
src=${1:?usage: moh-g711.sh SRC DEST}
dest=${2:?usage: moh-g711.sh SRC DEST}
command -v sox >/dev/null || { echo "moh-g711: sox is not installed" >&2; exit 1; }
install -d -m 0755 "$dest"
shopt -s nullglob
files=("$src"/*.gsm)
((${#files[@]})) || { echo "moh-g711: no GSM files in $src" >&2; exit 1; }
for f in "${files[@]}"; do
    base=$(basename "$f" .gsm)
    for law in ulaw:ul alaw:al; do
        out="$dest/$base.${law%%:*}"
        [[ -s $out && $out -nt $f ]] && continue
        sox -q -t gsm "$f" -r 8000 -c 1 -t "${law##*:}" "$out.part"
        mv -f "$out.part" "$out"
        chmod 0644 "$out"
    done
done
