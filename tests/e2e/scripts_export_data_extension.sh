#!/usr/bin/env bash
# scripts/export_data_extension.lua against the sandbox: the seed's data extension to CSV,
# RFC 4180 quoting of awkward values, standard output, a wrong key, paging.
source "$(dirname "$0")/lib/scripts.sh"

# 1. The default data extension, with no arguments.
run "$PERFORMLUA" --sandbox "$SCRIPTS/export_data_extension.lua"
expect_status "default export" 0
expect_match "columns" "^Exporting data extension '.+' \([0-9]+ columns: .+\)$"
expect_match "wrote" "^Wrote [0-9]+ rows to .+\.csv$"
file=$(grep -E '^Wrote ' <<<"$out" | sed -E 's/^Wrote [0-9]+ rows to (.*)$/\1/')
rows=$(grep -E '^Wrote ' <<<"$out" | sed -E 's/^Wrote ([0-9]+) rows.*/\1/')
[ -f "$file" ] || fail "no file $file"
[ ! -e "$file.part" ] || fail "the temporary file was left behind"
# a header plus one line per row, every line ended by CRLF
lines=$(wc -l <"$file")
[ "$lines" = "$((rows + 1))" ] || fail "$file has $lines lines for $rows rows"
crlf=$(grep -c $'\r$' "$file" || true)
[ "$crlf" = "$lines" ] || fail "only $crlf of $lines lines end with CRLF"
header=$(head -n1 "$file" | tr -d '\r')
columns=$(grep -E '^Exporting' <<<"$out" | sed -E 's/.*columns: (.*)\)$/\1/' | sed 's/, /,/g')
[ "$header" = "$columns" ] || fail "header '$header' is not the columns '$columns'"

# 2. Awkward values, in a sandbox of its own: a row is added, then exported with paging.
start_sandbox
key=$(grep -E '^Exporting' <<<"$out" | sed -E "s/^Exporting data extension '(.*)' .*/\1/")
first_column=${columns%%,*}
cat > add_row.lua <<'LUA'
local mc = require "performlua"
local c = mc.connect()
local key, column = arg[1], arg[2]
local cols = c:default_properties("DataExtensionObject[" .. key .. "]")
local props = {}
for i, col in ipairs(cols) do
  props[i] = {Name = col, Value = col == column and 'Smith, "Jo"' or ""}
end
c:create(mc.DataExtensionObject{CustomerKey = key, Properties = props}):check()
print(#cols)
LUA
run "$PERFORMLUA" add_row.lua "$key" "$first_column"
expect_status "add an awkward row" 0
ncols=$out
run "$PERFORMLUA" "$SCRIPTS/export_data_extension.lua" "$key" out.csv --page-size=7
expect_status "paged export" 0
expect_line "paged: wrote" "Wrote $((rows + 1)) rows to out.csv"
# the quoted field, then empty fields for the other columns
expected="\"Smith, \"\"Jo\"\"\"$(printf ',%.0s' $(seq 2 "$ncols"))"
grep -Fxq "$expected"$'\r' out.csv || fail "no line '$expected' in out.csv: $(cat -A out.csv | tail -n3)"
# the same rows as the unpaged export, plus the new one
cmp <(tail -n +2 "$file") <(tail -n +2 out.csv | grep -vFx "$expected"$'\r') || fail "paged rows differ"

# 3. Standard output and chosen columns: the CSV alone on stdout, messages on stderr.
run "$PERFORMLUA" "$SCRIPTS/export_data_extension.lua" "$key" - --columns="$first_column"
expect_status "stdout" 0
[ "$(head -n1 <<<"$out" | tr -d '\r')" = "$first_column" ] || fail "stdout header"
grep -Fxq "Wrote $((rows + 1)) rows to standard output" <<<"$err" || fail "stdout: message on stderr"

# 4. A wrong key.
run "$PERFORMLUA" "$SCRIPTS/export_data_extension.lua" no-such-de
expect_status "wrong key" 1
expect_err_line "wrong key: message" "Export stopped: No data extension with the external key 'no-such-de' was found (or it has no columns). Check the key: keys are case-sensitive."
[ ! -e no-such-de.csv ] && [ ! -e no-such-de.csv.part ] || fail "wrong key: a file was left"

# 5. A column the data extension does not have: checked against its columns before the export
#    starts (a usage error, status 2, naming the column meant), so standard output holds no CSV
#    header that looks like the start of an export. Column names are not case-sensitive.
run "$PERFORMLUA" "$SCRIPTS/export_data_extension.lua" "$key" - --columns="$first_column,NoSuchColumn"
expect_status "wrong column" 2
[ -z "$out" ] || fail "wrong column: something was written to standard output"
grep -Eq "^export_data_extension: --columns: data extension '$key' has no column 'NoSuchColumn'; its columns: $first_column, " <<<"$err" || fail "wrong column: message"
misspelt=$(sed 's/.$//' <<<"$first_column")
run "$PERFORMLUA" "$SCRIPTS/export_data_extension.lua" "$key" cols.csv --columns="$misspelt"
expect_status "wrong column (file)" 2
grep -Fq "has no column '$misspelt' (did you mean '$first_column'?)" <<<"$err" || fail "misspelt column: no did-you-mean"
run "$PERFORMLUA" "$SCRIPTS/export_data_extension.lua" "$key" - --columns="${first_column,,}"
expect_status "column in another case" 0
[ "$(head -n1 <<<"$out" | tr -d '\r')" = "$first_column" ] || fail "column in another case: header"
[ ! -e cols.csv ] && [ ! -e cols.csv.part ] || fail "wrong column: a file was left"

# 6. A file that cannot be written: the reason once, in words.
run "$PERFORMLUA" "$SCRIPTS/export_data_extension.lua" "$key" no-such-dir/out.csv
expect_status "unwritable" 1
expect_err_line "unwritable" "Export stopped: Cannot write the file: no-such-dir/out.csv.part: No such file or directory"

# 7. One argument too many is refused, not ignored.
run "$PERFORMLUA" "$SCRIPTS/export_data_extension.lua" "$key" out2.csv extra
expect_status "extra argument" 2
grep -Fxq "export_data_extension: unexpected argument 'extra': this script takes at most 2 (DE_KEY OUTPUT.csv)" <<<"$err" || fail "extra argument: message"
[ ! -e out2.csv ] || fail "extra argument: exported anyway"
echo "ok"
