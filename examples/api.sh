#!/usr/bin/env bash
# The HTTP API with curl (README "HTTP API"): log in, store the example contexts and
# cluster, deploy it, follow its event stream until it is completed, scale the workers,
# destroy it and follow it to destroyed.
#
#   CLOUDGATE_API_URL=http://127.0.0.1:8443 CLOUDGATE_API_USER=alice@localhost CLOUDGATE_API_PASSWORD=... examples/api.sh
#
# CLOUDGATE_API_CA: a CA file for HTTPS; CLOUDGATE_API_CLUSTER: the cluster definition (examples/cluster.ini);
# CLOUDGATE_API_CONTEXTS: context files, stored under their base name (examples/head.context.ini
# examples/worker.context.ini); CLOUDGATE_API_SCALE: service=count to scale to (worker=2).
# The password is read from the environment and sent in the body, never on a command line.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
api=${CLOUDGATE_API_URL:?set CLOUDGATE_API_URL, e.g. http://127.0.0.1:8443}
: "${CLOUDGATE_API_USER:?set CLOUDGATE_API_USER}" "${CLOUDGATE_API_PASSWORD:?set CLOUDGATE_API_PASSWORD}"
cluster=${CLOUDGATE_API_CLUSTER:-$here/cluster.ini}
contexts=${CLOUDGATE_API_CONTEXTS:-$here/head.context.ini $here/worker.context.ini}
scale=${CLOUDGATE_API_SCALE:-worker=2}
curl_opts=(--silent --show-error --fail-with-body)
[ -n "${CLOUDGATE_API_CA:-}" ] && curl_opts+=(--cacert "$CLOUDGATE_API_CA")

step() { printf '== %s\n' "$*" >&2; }
json() { jq -nc "$@"; }

step "log in as $CLOUDGATE_API_USER"
token=$(json --arg u "$CLOUDGATE_API_USER" --arg p "$CLOUDGATE_API_PASSWORD" '{username: $u, password: $p}' \
  | curl "${curl_opts[@]}" -H 'content-type: application/json' --data-binary @- "$api/api/v1/login" | jq -r .access_token)
auth=(-H "authorization: Bearer $token")

for f in $contexts; do
  name=$(basename "$f" .context.ini)
  step "store context $name"
  jq -Rsc --arg n "$name" '{name: $n, body: .}' "$f" \
    | curl "${curl_opts[@]}" "${auth[@]}" -H 'content-type: application/json' --data-binary @- "$api/api/v1/contexts" | jq -c '{context: .context.name, version: .context.version, warnings}'
done

step "store cluster $(basename "$cluster")"
name=$(curl "${curl_opts[@]}" "${auth[@]}" -X PUT -H 'content-type: text/plain' --data-binary @"$cluster" "$api/api/v1/clusters" | jq -r .name)

step "deploy $name"
headers=$(mktemp)
trap 'rm -f "$headers"' EXIT
id=$(curl "${curl_opts[@]}" "${auth[@]}" -D "$headers" -H 'content-type: application/json' -H "idempotency-key: api-sh-$$-$RANDOM" \
  -d "$(json --arg c "$name" '{cluster: $c}')" "$api/api/v1/deployments" | jq -r .id)
grep -i '^location:' "$headers" >&2

# Follows the event stream until a state event says `$2`; prints each event.
follow() {
  local id=$1 want=$2 line to
  while IFS= read -r line; do
    case $line in
      data:*) printf '%s\n' "${line#data: }" | jq -r '"  [\(.seq)] \(.type): \(.message)"' >&2
              to=$(printf '%s\n' "${line#data: }" | jq -r 'select(.type == "state") | .data.to')
              [ "$to" = "$want" ] && return 0
              case $to in failed|aborted) echo "deployment $id $to" >&2; return 1 ;; esac ;;
    esac
  done < <(curl "${curl_opts[@]}" -N "${auth[@]}" "$api/api/v1/deployments/$id/events/stream")
  return 1
}

step "follow $id until completed"
follow "$id" 'completed'

svc=${scale%%=*}; count=${scale#*=}
step "scale $svc of $id to $count"
curl "${curl_opts[@]}" "${auth[@]}" -H 'content-type: application/json' -d "$(json --arg s "$svc" --argjson n "$count" '{service: $s, count: $n}')" \
  "$api/api/v1/deployments/$id/scale" >/dev/null
for _ in $(seq 1 600); do
  ready=$(curl "${curl_opts[@]}" "${auth[@]}" "$api/api/v1/deployments/$id" | jq --arg s "$svc" '.services[] | select(.name == $s) | .ready')
  [ "$ready" = "$count" ] && break
  sleep 0.2
done
[ "$ready" = "$count" ] || { echo "scale did not finish: $svc has $ready ready" >&2; exit 1; }
step "$svc: $ready ready"

step "destroy $id"
curl "${curl_opts[@]}" "${auth[@]}" -X DELETE "$api/api/v1/deployments/$id" >/dev/null
for _ in $(seq 1 600); do
  state=$(curl "${curl_opts[@]}" "${auth[@]}" "$api/api/v1/deployments/$id" | jq -r '.destroyed // ""')
  [ "$state" = destroyed ] && break
  sleep 0.2
done
[ "$state" = destroyed ] || { echo "destroy did not finish" >&2; exit 1; }
echo "deployment $id: deployed, scaled, destroyed"
