#!/bin/sh
# Turns a file into a C translation unit exporting `const char NAME[]` and `NAME_len`.
set -eu
file=$1 name=$2
printf '/* generated from %s by scripts/embed.sh */\n#include <stddef.h>\nconst char %s[] = {\n' "$file" "$name"
od -An -v -tx1 "$file" | sed -E 's/ ([0-9a-f]{2})/0x\1,/g'
printf '0x00};\nconst size_t %s_len = sizeof(%s) - 1;\n' "$name" "$name"
