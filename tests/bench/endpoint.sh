# shellcheck shell=bash disable=SC2154 # work, perf and here are the sourcing script's (below)
# The neutral endpoint of the benchmarks: nginx serving canned answers (a token, a Perform, a
# 2,500-row Retrieve page) on a free loopback port. Sourced by side_by_side.sh and profile.sh,
# which set, before calling start_endpoint:
#   work  a temporary directory of theirs (the endpoint's files go in $work/www and
#         $work/nginx)
#   perf  the performlua binary (it writes the canned answers: canned_answers.lua)
#   here  this directory
# start_endpoint sets `endpoint` (the URL) and `nginx_pid`; stop_endpoint stops it.

# the nginx program: BENCH_NGINX, else nginx on PATH or in /usr/sbin (not on a user's PATH)
nginx_bin() {
  if [ -n "${BENCH_NGINX:-}" ]; then
    [ -x "$BENCH_NGINX" ] && echo "$BENCH_NGINX"
    return 0
  fi
  command -v nginx 2>/dev/null || { [ -x /usr/sbin/nginx ] && echo /usr/sbin/nginx; } || true
}

# Installs Debian's nginx when missing (BENCH_INSTALL=1). The package starts and enables a
# system nginx on port 80 where systemd runs; the bench needs only the program, so a service
# that this install started is stopped and disabled again rather than left listening.
ensure_nginx() {
  [ -n "$(nginx_bin)" ] && return 0
  [ "${BENCH_INSTALL:-1}" = 1 ] && [ -z "${BENCH_NGINX:-}" ] || return 1
  local as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null || { echo "$(basename "$0" .sh): nginx is missing and neither root nor sudo can install it" >&2; return 1; }
    as_root=(sudo)
  fi
  echo "$(basename "$0" .sh): installing nginx (Debian package; a bench-only dependency)"
  "${as_root[@]}" apt-get update -qq
  DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -qq --no-install-recommends nginx >/dev/null
  if [ -d /run/systemd/system ] && systemctl is-active --quiet nginx 2>/dev/null; then
    "${as_root[@]}" systemctl disable --now nginx >/dev/null 2>&1 || true
    echo "$(basename "$0" .sh): stopped and disabled the system nginx service the package started" \
         "(the bench runs its own; 'systemctl enable --now nginx' brings the service back)"
  fi
  [ -n "$(nginx_bin)" ]
}

# start_endpoint: nginx serving $work/www on a free loopback port; sets endpoint and nginx_pid.
start_endpoint() {
  local nginx prefix=$work/nginx
  nginx=$(nginx_bin)
  mkdir -p "$prefix/tmp" "$work/www"
  "$perf" "$here/canned_answers.lua" "$work/www" >/dev/null
  for _ in $(seq 1 20); do
    local port=$((20000 + RANDOM % 40000))
    endpoint="http://127.0.0.1:$port/"
    # soap_instance_url sends the SOAP calls to this same nginx
    printf '{"access_token":"bench-token-%s","token_type":"Bearer","expires_in":1079,"scope":"email_read email_write","soap_instance_url":"%s","rest_instance_url":"%s"}' \
      "$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')" "$endpoint" "$endpoint" >"$work/www/token.json"
    # One process (master_process off) so stopping it is one kill; SOAPAction picks the answer.
    # A POST to a static file is answered 405 by nginx: error_page turns that into the file.
    cat >"$prefix/nginx.conf" <<NGINX
daemon off;
master_process off;
worker_processes 1;
pid $prefix/nginx.pid;
error_log $prefix/error.log warn;
events { worker_connections 512; }
http {
  access_log off;
  client_body_temp_path $prefix/tmp/body;
  proxy_temp_path $prefix/tmp/proxy;
  fastcgi_temp_path $prefix/tmp/fastcgi;
  uwsgi_temp_path $prefix/tmp/uwsgi;
  scgi_temp_path $prefix/tmp/scgi;
  keepalive_requests 1000000;
  types { text/xml xml; application/json json; }
  charset utf-8;
  map \$http_soapaction \$canned {
    ~*Retrieve /retrieve.xml;
    default /perform.xml;
  }
  server {
    listen 127.0.0.1:$port;
    root $work/www;
    location = /v2/token { error_page 405 =200 /token.json; return 405; }
    location = /Service.asmx { error_page 405 =200 \$canned; return 405; }
    location / { internal; }
  }
}
NGINX
    : >"$prefix/error.log"
    "$nginx" -p "$prefix" -e "$prefix/error.log" -c "$prefix/nginx.conf" >"$prefix/out.log" 2>&1 &
    nginx_pid=$!
    for _ in $(seq 1 100); do
      if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
      kill -0 "$nginx_pid" 2>/dev/null || break
      sleep 0.05
    done
    kill "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=
    grep -q 'Address already in use' "$prefix/error.log" "$prefix/out.log" && continue
    echo "$(basename "$0" .sh): nginx did not start:" >&2
    cat "$prefix/out.log" "$prefix/error.log" >&2
    return 1
  done
  echo "$(basename "$0" .sh): found no free port for nginx in 20 tries" >&2
  return 1
}

stop_endpoint() {
  if [ -n "${nginx_pid:-}" ]; then
    kill "$nginx_pid" 2>/dev/null || true
    wait "$nginx_pid" 2>/dev/null || true
    nginx_pid=
  fi
}
