#!/usr/bin/env bash
# Fetches the pinned GraphiQL and React production builds from the npm registry into
# this folder (see README.md). Needs npm.
set -euo pipefail
cd "$(dirname "$0")"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack --silent graphiql@3.8.3 react@18.3.1 react-dom@18.3.1 >/dev/null)
for tarball in "$work"/*.tgz; do tar xzf "$tarball" -C "$work" --one-top-level; done
cp "$work"/graphiql-3.8.3/package/graphiql.min.{js,css} .
cp "$work"/react-18.3.1/package/umd/react.production.min.js .
cp "$work"/react-dom-18.3.1/package/umd/react-dom.production.min.js .
cp "$work"/graphiql-3.8.3/package/LICENSE LICENSE.graphiql
cp "$work"/react-18.3.1/package/LICENSE LICENSE.react
cp "$work"/react-dom-18.3.1/package/LICENSE LICENSE.react-dom
for f in *.js *.css; do
  sed -i 's|//# sourceMappingURL=[^ ]*$||; s|/\*# sourceMappingURL=[^*]*\*/||' "$f"
done
sha256sum ./*.js ./*.css
