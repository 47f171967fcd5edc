#!/usr/bin/env bash
# gen-common-passwords.sh regenerates internal/password/common-passwords.txt,
# the list behind the block_common password rule, and its source note
# internal/password/COMMON-PASSWORDS-SOURCE.md.
#
# The list is src/passwords.json of the MIT-licensed npm package
# @zxcvbn-ts/language-common: about 49,000 passwords, most common first. We
# keep that order, lower-case each entry and drop repeats (the first, most
# frequent, occurrence stays). The version is pinned so that regenerating is
# reproducible; pass another one to update:
#
#   make common-passwords                       # the pinned version
#   scripts/gen-common-passwords.sh 4.1.3       # a given version
#   scripts/gen-common-passwords.sh latest      # whatever npm calls latest
#
# Needs npm, tar and node (the list is JSON; node parses it exactly).
set -euo pipefail

pkg=@zxcvbn-ts/language-common
version=${1:-4.1.3}

root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/internal/password/common-passwords.txt
note=$root/internal/password/COMMON-PASSWORDS-SOURCE.md

say() { echo "gen-common-passwords: $*"; }

for cmd in npm tar node; do
	command -v "$cmd" >/dev/null || { say "$cmd not found"; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# npm pack checks the tarball against the registry's integrity hash.
(cd "$tmp" && npm pack --silent "$pkg@$version" >pack.txt)
tgz=$tmp/$(tail -n 1 "$tmp/pack.txt")
tar -xzf "$tgz" -C "$tmp"
resolved=$(node -p 'require(process.argv[1]).version' "$tmp/package/package.json")
license=$(node -p 'require(process.argv[1]).license' "$tmp/package/package.json")
if [ "$license" != MIT ]; then
	say "$pkg@$resolved is licensed $license, not MIT: refusing"
	exit 1
fi

node - "$tmp/package/src/passwords.json" "$out.tmp" <<'EOF'
const fs = require("fs");
const [src, dst] = process.argv.slice(2);
const list = JSON.parse(fs.readFileSync(src, "utf8"));
if (!Array.isArray(list)) throw new Error(src + ": not a JSON array");
const seen = new Set();
const lines = [];
for (const entry of list) {
  const pw = String(entry).toLowerCase();
  // One password per line: an entry that is empty or holds a line break
  // could not be read back, and a surrounding space would be invisible.
  if (pw === "" || /[\r\n]/.test(pw) || pw !== pw.trim()) continue;
  if (seen.has(pw)) continue;
  seen.add(pw);
  lines.push(pw);
}
if (lines.length < 40000) throw new Error(`only ${lines.length} passwords, want at least 40000`);
fs.writeFileSync(dst, lines.join("\n") + "\n");
EOF
count=$(wc -l <"$out.tmp" | tr -d ' ')
mv "$out.tmp" "$out"

{
	cat <<EOF
# common-passwords.txt

\`common-passwords.txt\` is the list behind the \`block_common\` password rule:
$count passwords, one per line, most common first, lower-cased, without repeats.
It is generated; do not edit it by hand.

- Package: [\`$pkg\`](https://www.npmjs.com/package/$pkg) version $resolved
  (<https://github.com/zxcvbn-ts/zxcvbn>, \`packages/languages/common\`)
- File: \`src/passwords.json\` of the package tarball
- Conversion: each entry lower-cased; later repeats dropped; order kept
- Regenerate: \`make common-passwords\` (runs \`scripts/gen-common-passwords.sh\`;
  \`scripts/gen-common-passwords.sh VERSION\` takes another version)
- Licence: MIT, reproduced below from the package's \`LICENSE.txt\`

\`\`\`
EOF
	cat "$tmp/package/LICENSE.txt"
	echo '```'
} >"$note"

say "wrote $count passwords from $pkg@$resolved to ${out#"$root"/}"
