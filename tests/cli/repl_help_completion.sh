#!/usr/bin/env bash
# Help and Tab completion at the prompt, through a real pseudo-terminal (tests/tools/ptyrun.c):
# ?Type, help(...), constructors shown as what they build; completion that knows where the
# cursor is (fields inside mc.Type{, the types a field takes, enumeration values inside a
# field's string, Perform actions, retrieve types and properties, a client's public methods
# only, help topics after ?). Each completed line is run, so what was inserted is proven.
source "$(dirname "$0")/lib/pty.sh"
has_line() { grep -qxF -- "$1" "$work/transcript" || fail "no line '$1'"; }
lacks() { ! grep -qF -- "$1" "$work/transcript" || fail "unexpected '$1'"; }
session() {
  set +e
  # a wide terminal: libedit redraws a line that wraps, which would garble the transcript
  "$ptyrun" -c 200 -t 30 -o "$work/transcript" -- "$PERFORMLUA" "$@" 2>"$work/ptyrun.err"
  rc=$?
  set -e
  if [ "$rc" = 124 ]; then cat "$work/ptyrun.err"; exit 1; fi
  [ "$rc" = 0 ] || fail "exit status $rc"
}

# --- help ------------------------------------------------------------------------------------
session <<'STEPS'
prompt > 
send ?SimpleFilterPart\r
expect fields left out are not sent.
prompt > 
send ? RecurrenceTypeEnum\r
expect Yearly
prompt > 
send help("c:wait")\r
expect to its end
prompt > 
send mc.EmailSendDefinition\r
expect see mc.help
prompt > 
send ?Sned\r
expect did you mean
prompt > 
send ?mc.connect\r
expect lists them)
prompt > 
send \x04
STEPS
has_line 'SimpleFilterPart: 4 fields, derives from FilterPart'
has_line '  field           type             required  list  values'
has_line '  Property        string           yes'
has_line '  SimpleOperator  SimpleOperators  yes'
has_line '      equals, notEquals, greaterThan, lessThan, isNull, isNotNull, greaterThanOrEqual, lessThanOrEqual, between, IN, like, existsInString, existsInStringAsAWord, notExistsInString, beginsWith,'
has_line 'RecurrenceTypeEnum: an enumeration of 7 values'
has_line '  Secondly, Minutely, Hourly, Daily, Weekly, Monthly, Yearly'
has_line 'c:wait(result[, {timeout =, interval =, report_every =}]) -> status'
has_line 'mc.EmailSendDefinition{...}: 57 fields, see mc.help("EmailSendDefinition")'
has_line "usage error: mc.help: no type, enumeration, function or method is named 'Sned' (did you mean 'Send'?); mc.help() says what there is"
has_line 'mc.connect{settings} -> client'
lacks 'function: 0x'

# --- completion -------------------------------------------------------------------------------
# Each Tab completes a unique candidate; "sleep" lets libedit redraw before the next keys.
session --sandbox <<'STEPS'
prompt > 
send x = mc.EmailSendDefinition{Cust\t
sleep 200
send  = "k", SenderProfile = mc.SenderPr\t
sleep 200
send {CustomerK\t
sleep 200
send  = "s"}}\r
prompt > 
send f = mc.SimpleFilterPart{Property = "Status", SimpleOperator = "equ\t
sleep 200
send ", Value = "Active"}\r
prompt > 
send d = mc.DataExtension{Fields = {{FieldTy\t
sleep 200
send  = "Em\t
sleep 200
send "}}}\r
prompt > 
send c = mc.connect()\r
prompt > 
send r = c:perform("GetMax\t
sleep 200
send ", mc.EmailSendDefinition{CustomerKey = "spring-sale-send"})\r
prompt > 
send p = c:retrieve("SenderProf\t
sleep 200
send ", {"FromAddr\t
sleep 200
send "})\r
prompt > 
send x.CustomerKey, x.SenderProfile.CustomerKey, f.SimpleOperator, d.Fields[1].FieldType\r
expect "EmailAddress"
prompt > 
send r.Results[1].Task.StatusMessage, p.Results[1].FromAddress\r
expect @
prompt > 
send c:\t\t
sleep 400
send \x15\r
prompt > 
send ?SimpleOpera\t
sleep 200
send \r
expect an enumeration of
prompt > 
send \x04
STEPS
has_line '> x = mc.EmailSendDefinition{CustomerKey = "k", SenderProfile = mc.SenderProfile{CustomerKey = "s"}}'
has_line '> f = mc.SimpleFilterPart{Property = "Status", SimpleOperator = "equals", Value = "Active"}'
has_line '> d = mc.DataExtension{Fields = {{FieldType = "EmailAddress"}}}'
has_line '> r = c:perform("GetMaxCount", mc.EmailSendDefinition{CustomerKey = "spring-sale-send"})'
has_line '> p = c:retrieve("SenderProfile", {"FromAddress"})'
has_line '"k", "s", "equals", "EmailAddress"'
grep -qE '^"1250", "[a-z.-]+@[a-z.-]+"$' "$work/transcript" || fail "the completed calls did not run"
# c:<Tab><Tab> lists the public methods, nothing private or internal
for m in perform retrieve wait help each default_properties system_status; do
  grep -qE "(^| )c:$m( |$)" "$work/transcript" || fail "c:<Tab> does not list c:$m"
done
lacks 'c:_'
lacks 'c:__'
has_line '> ?SimpleOperators'
has_line 'SimpleOperators: an enumeration of 22 values'

echo "repl_help_completion: all passed"
