#!/usr/bin/env bash
# Fetches the pinned graphql-ws browser build from the npm registry into this folder
# (see README.md). Needs npm.
set -euo pipefail
cd "$(dirname "$0")"
version=6.4.2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent "graphql-ws@$version" >/dev/null)
tar xzf "$work/graphql-ws-$version.tgz" -C "$work"
cp "$work/package/umd/graphql-ws.min.js" .
cp "$work/package/LICENSE.md" LICENSE.graphql-ws
sed -i 's|//# sourceMappingURL=[^ ]*$||' graphql-ws.min.js
sha256sum graphql-ws.min.js
