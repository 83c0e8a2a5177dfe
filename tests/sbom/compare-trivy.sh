#!/usr/bin/env bash
# Compares the OS packages of two CycloneDX SBOMs of the same image, cmsd's and trivy's, by name,
# version and package URL, and lists every difference with its reason. Two differences are
# known and explained (the packages are the same; the forms differ):
#   - qualifier order: trivy writes "?arch=..&epoch=..&distro=..", the purl specification's
#     canonical form sorts the keys ("arch, distro, epoch"), which cmsd writes; compared sorted;
#   - epoch: trivy's component version leaves the dpkg epoch out (it is in the purl's "epoch"
#     qualifier), cmsd's is the version as dpkg has it ("1:2.38.1-5+deb12u3"); compared as
#     "<epoch>:<version>".
# Anything else (a package one side lacks, another version or purl) is unexplained: exit 1.
# The operating-system component (name, version) is compared as well.
#
# usage: compare-trivy.sh CMSD_SBOM.json TRIVY_SBOM.json
set -euo pipefail
cmsd=${1:?usage: compare-trivy.sh CMSD_SBOM.json TRIVY_SBOM.json}
trivy=${2:?usage: compare-trivy.sh CMSD_SBOM.json TRIVY_SBOM.json}

# Both documents into {name: {version (with the epoch), purl (qualifiers sorted), raw_*}}.
norm='
def canon: (split("?") as $p | if ($p | length) > 1
        then $p[0] + "?" + ($p[1] | split("&") | sort | join("&")) else $p[0] end);
def epoch: (.purl | capture("[?&]epoch=(?<e>[0-9]+)").e) // null;
[.components[]? | select((.purl // "") | test("^pkg:(deb|apk)/"))
  | {key: .name, value: {version: (if epoch and (.version | test(":") | not)
                                   then "\(epoch):\(.version)" else .version end),
                         purl: (.purl | canon), raw_version: .version, raw_purl: .purl}}]
| from_entries'
os='[.components[]? | select(.type == "operating-system") | "\(.name) \(.version)"] | first // "none"'

jq -n --argjson c "$(jq "$norm" "$cmsd")" --argjson t "$(jq "$norm" "$trivy")" \
        --arg cos "$(jq -r "$os" "$cmsd")" --arg tos "$(jq -r "$os" "$trivy")" -r '
  ([$c, $t] | map(keys) | add | unique) as $names
  | [ (if $cos != $tos then "UNEXPLAINED os: cmsd \($cos), trivy \($tos)" else empty end),
      ($names[] as $n | $c[$n] as $a | $t[$n] as $b
       | if $a == null then "UNEXPLAINED \($n): only trivy has it (\($b.raw_version), \($b.raw_purl))"
         elif $b == null then "UNEXPLAINED \($n): only cmsd has it (\($a.raw_version), \($a.raw_purl))"
         elif $a.version != $b.version or $a.purl != $b.purl then
              "UNEXPLAINED \($n): cmsd \($a.raw_version) \($a.raw_purl), trivy \($b.raw_version) \($b.raw_purl)"
         else
              (if $a.raw_purl != $b.raw_purl then
                   "explained \($n): purl qualifier order (cmsd \($a.raw_purl), trivy \($b.raw_purl))"
               else empty end),
              (if $a.raw_version != $b.raw_version then
                   "explained \($n): epoch (cmsd \($a.raw_version), trivy \($b.raw_version) + epoch qualifier)"
               else empty end)
         end) ] as $lines
  | ($lines[]),
    "summary: \($c | length) cmsd / \($t | length) trivy OS packages, os \($cos); " +
    "\([$lines[] | select(startswith("explained"))] | length) explained, " +
    "\([$lines[] | select(startswith("UNEXPLAINED"))] | length) unexplained differences"
' | tee /dev/stderr | tail -n 1 | grep -q ', 0 unexplained differences$'
