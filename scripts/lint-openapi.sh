#!/usr/bin/env bash
# Validates openapi.yaml (or the file given as $1) with two independent real validators:
#   1. Redocly CLI's `lint` with the recommended ruleset, strict (redocly.yaml): structure, refs,
#      examples checked against their schemas, operation ids, security...;
#   2. @seriousme/openapi-schema-validator: the document against the official OpenAPI JSON Schema.
# The tools are pinned in package.json/package-lock.json and installed into ./node_modules
# (git-ignored) from the npm registry on first use; later runs install nothing and stay quiet.
# Exits non-zero on any problem.
set -euo pipefail

cd "$(dirname "$0")/.."
spec=${1:-openapi.yaml}

die() {
        echo "lint-openapi: $*" >&2
        exit 1
}

[ -f "$spec" ] || die "$spec: no such file"
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
        die "node and npm are needed (make deps installs them)"

# @redocly/cli 2.x refuses older Node.js; say so plainly instead of failing deep inside npx.
node -e '
        const [maj, min] = process.versions.node.split(".").map(Number);
        process.exit(maj > 22 || (maj === 22 && min >= 12) || (maj === 20 && min >= 19) ? 0 : 1);
' || die "Node.js $(node --version) is too old for @redocly/cli: need >= 20.19 or >= 22.12"

# `npm ls` fails when a pinned package is missing or at another version: only then install.
if ! npm ls --depth=0 >/dev/null 2>&1; then
        echo "lint-openapi: installing the pinned validators into node_modules/"
        if [ -f package-lock.json ]; then
                npm ci --no-audit --no-fund --loglevel=error
        else
                npm install --no-audit --no-fund --loglevel=error
        fi
fi

# No telemetry and no update notices: CI and developers' machines reach only the registry.
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_NOTIFICATIONS=true

npx --no-install redocly lint --config redocly.yaml "$spec"

if ! out=$(npx --no-install validate-api "$spec" 2>&1); then
        echo "$out" >&2
        die "$spec does not validate against the OpenAPI JSON Schema"
fi
# The spec and the route table describe the same routes: "METHOD /path" from both, compared.
# Only when checking the project's own spec (a file given as $1 may be a draft).
if [ "$#" -eq 0 ]; then
        routes=$(grep -oE '(\{|OPEN_INLINE\()"(GET|POST|PUT|DELETE|PATCH)", "/[^"]*"' api/router.c |
                sed -E 's/^(\{|OPEN_INLINE\()"([A-Z]+)", "([^"]*)"/\2 \3/; s/\{([a-z_]+)\*\}/{\1}/g' |
                sort -u)
        documented=$(awk '
                /^paths:/ { inpaths = 1; next }
                inpaths && /^[^ ]/ { inpaths = 0 }
                inpaths && /^  \/[^ ]*:$/ { path = $1; sub(/:$/, "", path); next }
                inpaths && /^    (get|post|put|delete|patch):/ {
                        m = $1; sub(/:$/, "", m); print toupper(m) " " path
                }' "$spec" | sort -u)
        if [ "$routes" != "$documented" ]; then
                diff <(echo "$routes") <(echo "$documented") | sed 's/^</  only in api\/router.c:/; s/^>/  only in the spec:/' | grep only >&2
                die "$spec and api/router.c list different routes"
        fi
fi
echo "lint-openapi: $spec passes redocly lint, the OpenAPI JSON Schema and matches api/router.c"
