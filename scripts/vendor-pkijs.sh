#!/usr/bin/env bash
# Rebuilds ca-server/web/vendor/pki.min.js, the one JavaScript library the
# applicants' page uses (PKI.js with asn1js: PKCS#10, PKCS#12 and CMS on top of the
# browser's WebCrypto), and its licence file, from the npm registry at pinned
# versions. Not part of the build: the bundle is committed, so `cargo build` needs
# no Node.js. Run it to upgrade; review the diff.
set -euo pipefail
cd "$(dirname "$0")/.."
out=ca-server/web/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(
    cd "$work"
    npm init -y >/dev/null
    npm install --no-audit --no-fund --ignore-scripts pkijs@4.0.0 asn1js@4.0.0 esbuild@0.28.2 >/dev/null
    printf 'export * as pkijs from "pkijs";\nexport * as asn1js from "asn1js";\n' >entry.js
    node node_modules/esbuild/bin/esbuild entry.js --bundle --format=iife --global-name=PKI --minify \
        --target=es2020 --legal-comments=none --outfile=pki.min.js
)
cp "$work/pki.min.js" "$out/pki.min.js"
{
    echo "pki.min.js bundles these packages from the npm registry, under their licences below."
    for p in pkijs asn1js bytestreamjs @noble/hashes @peculiar/utils; do
        dir="$work/node_modules/$p"
        version=$(node -p "require('$dir/package.json').version")
        echo
        echo "==== $p $version ===="
        cat "$dir/LICENSE"
    done
} >"$out/LICENSES.txt"
echo "wrote $out/pki.min.js ($(wc -c <"$out/pki.min.js") bytes) and $out/LICENSES.txt"
