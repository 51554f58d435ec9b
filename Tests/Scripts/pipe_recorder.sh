#!/bin/sh
# A stand-in for route in the MTA tests. Records each call (arguments, the MTA's environment,
# the user it runs as, then the message) as one file in SPOOL/calls/, SPOOL from --spool, and
# exits with the code the recipient's local part names: "exit75@..." exits 75 (after a line
# on standard error for the bounce), anything else 0.
spool= recipient= previous=
for argument in "$@"; do
  case "$previous" in
    --spool) spool=$argument ;;
    --recipient) recipient=$argument ;;
  esac
  previous=$argument
done
[ -n "$spool" ] || { echo "pipe_recorder: no --spool" >&2; exit 64; }
mkdir -p "$spool/calls" || exit 75
temporary=$(mktemp "$spool/calls/.call.XXXXXX") || exit 75
{
  for argument in "$@"; do printf 'argument %s\n' "$argument"; done
  for name in RECIPIENT SENDER LOCAL_PART DOMAIN LOCAL_PART_SUFFIX ORIGINAL_RECIPIENT; do
    eval "[ -z \"\${$name+set}\" ] || printf 'environment %s=%s\n' $name \"\$$name\""
  done
  printf 'uid %s\n\n' "$(id -u)"
  cat
} > "$temporary" || exit 75
mv "$temporary" "$spool/calls/call.$(date +%s%N).$$" || exit 75
address=${recipient:-${RECIPIENT:-$LOCAL_PART@$DOMAIN}}
code=$(printf '%s\n' "$address" | sed -n 's/^exit\([0-9][0-9]*\).*/\1/p')
[ -z "$code" ] || echo "pipe_recorder: exit $code for <$address>" >&2
exit "${code:-0}"
