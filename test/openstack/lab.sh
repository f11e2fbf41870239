#!/bin/bash
# A real OpenStack (Zed, Debian 12 packages) control plane on 127.0.0.1 for integration tests and CI.
#
#   lab.sh up       install missing packages, write configs, initialise the SQLite DBs, start everything, wait
#   lab.sh seed     create tenants, users, networks, servers, floating IPs; write $STATE/seed.json
#   lab.sh check    smoke-test the seeded cloud over plain HTTP (reads seed.json)
#   lab.sh status   what runs, its process group and memory (PSS)
#   lab.sh down     stop what `up` started (pid files + process groups only)
#   lab.sh reset    down, then delete the state dir (next `up` starts from empty databases)
#
# State (configs, DBs, logs, pid files, keys, images, seed.json) lives in $EXPOSURE_OSLAB_STATE,
# default /var/lib/exposure-exporter-oslab. Needs root. See README.md beside this file.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
STATE=${EXPOSURE_OSLAB_STATE:-/var/lib/exposure-exporter-oslab}
export EXPOSURE_OSLAB_STATE=$STATE
export EXPOSURE_OSLAB_ADMIN_PASSWORD=${EXPOSURE_OSLAB_ADMIN_PASSWORD:-admin}
export EXPOSURE_OSLAB_SERVICE_PASSWORD=${EXPOSURE_OSLAB_SERVICE_PASSWORD:-lab-service-pass}

# Debian's OpenStack is in /usr/bin/python3's dist-packages; pyenv's python3 comes first on PATH here and
# cannot import it. Pin PATH and the interpreter, and keep __pycache__ out of the repository.
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
unset PYTHONPATH PYTHONHOME VIRTUAL_ENV PYENV_VERSION
export PYTHONDONTWRITEBYTECODE=1
PY=/usr/bin/python3

PACKAGES=(keystone glance-api placement-api nova-api nova-conductor nova-scheduler neutron-server rabbitmq-server)
# Start order; `down` stops the OpenStack services together, then rabbitmq, then epmd.
SERVICES=(epmd rabbitmq keystone glance placement nova-api nova-conductor nova-scheduler nova-compute neutron)
KEYSTONE=http://127.0.0.1:5000
RABBIT=rabbit://guest:guest@127.0.0.1:5672/
ETC=$STATE/etc RUN=$STATE/run LOG=$STATE/log DB=$STATE/db

T0=$SECONDS
say() { printf '[oslab %3ds] %s\n' $((SECONDS - T0)) "$*"; }
die() { printf 'lab.sh: %s\n' "$*" >&2; exit 1; }

ports_of() {
  case $1 in
    epmd) echo 4369 ;; rabbitmq) echo 5672 25672 ;; keystone) echo 5000 ;; glance) echo 9292 ;;
    placement) echo 8778 ;; nova-api) echo 8774 ;; neutron) echo 9696 ;;
  esac
}

# ---------------------------------------------------------------------------------------------- processes
# A pid file holds "PID STARTTIME" of a process started with setsid, so PID is also its session and process
# group id: signalling -PID reaches uwsgi workers, glance/neutron forks, beam.smp's helpers and so on.
# STARTTIME (field 22 of /proc/PID/stat) guards against a stale pid file whose number now belongs to a
# stranger. (Not a marker variable in /proc/PID/environ: neutron's setproctitle overwrites that memory.)

starttime() { local stat; stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1; set -- ${stat##*) }; echo "${20}"; }

running() {  # NAME: true if the process group recorded for NAME is still ours and alive
  local pid start now
  [ -s "$RUN/$1.pid" ] || return 1
  read -r pid start <"$RUN/$1.pid"
  if now=$(starttime "$pid"); then
    [ "$now" = "$start" ]
  else
    # Leader gone, members left (e.g. workers): Linux never hands out a pid still used as a group id.
    kill -0 -- "-$pid" 2>/dev/null
  fi
}

pgid_of() { local pid _; read -r pid _ <"$RUN/$1.pid"; echo "$pid"; }

start() {  # NAME CMD...   (environment as set by the caller)
  local name=$1 pid i; shift
  if running "$name"; then say "$name: already running (pgid $(pgid_of "$name"))"; return; fi
  # `cmd &` in a script without job control leaves the child in our process group, so setsid(1) does not
  # need to fork: $! is the service's own pid and becomes its session + process group id.
  setsid "$@" >>"$LOG/$name.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid $(starttime "$pid")" >"$RUN/$name.pid"
  for i in $(seq 50); do
    [ "$(ps -o sid= -p "$pid" 2>/dev/null | tr -d ' ')" = "$pid" ] && break
    sleep 0.1
  done
  running "$name" || die "$name exited at once; see $LOG/$name.log"
  [ "$(ps -o sid= -p "$pid" | tr -d ' ')" = "$pid" ] || die "$name: not in its own session"
  say "$name: started (pgid $pid)"
}

stop_groups() {  # NAME...: TERM every group at once (each needs 5-7 s to exit cleanly), KILL after 20 s
  local name pgid pending=() left i
  for name in "$@"; do
    [ -f "$RUN/$name.pid" ] || continue
    pgid=$(pgid_of "$name")
    if running "$name"; then
      kill -TERM -- "-$pgid" 2>/dev/null || true
      pending+=("$name:$pgid")
    else
      say "$name: not running (stale pid file removed)"
      rm -f "$RUN/$name.pid"
    fi
  done
  for i in $(seq 40); do
    left=0
    for name in "${pending[@]}"; do kill -0 -- "-${name#*:}" 2>/dev/null && left=1; done
    [ $left = 0 ] && break
    sleep 0.5
  done
  for name in "${pending[@]}"; do
    pgid=${name#*:}; name=${name%%:*}
    if kill -0 -- "-$pgid" 2>/dev/null; then
      kill -KILL -- "-$pgid" 2>/dev/null || true
      say "$name: killed (pgid $pgid) after 20 s"
    else
      say "$name: stopped (pgid $pgid)"
    fi
    rm -f "$RUN/$name.pid"
  done
}

check_ports() {  # every port of a service we are about to start must be free, before anything else happens
  local name port busy=""
  for name in "${SERVICES[@]}"; do
    running "$name" && continue
    for port in $(ports_of "$name"); do
      if [ -n "$(ss -Hltn "sport = :$port")" ]; then
        busy+="  port $port (needed by $name): $(ss -Hltnp "sport = :$port" | awk 'NR == 1 {print $4, $6}')"$'\n'
      fi
    done
  done
  [ -z "$busy" ] || die "ports in use, stop whatever holds them first (this script never does):"$'\n'"$busy"
}

wait_http() { "$PY" "$HERE/bootstrap.py" wait-http "$@" || die "no answer from $*; see $LOG/"; }

# ---------------------------------------------------------------------------------------------- packages
install_packages() {
  local missing=() p own_guard=0
  for p in "${PACKAGES[@]}"; do
    dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null | grep -qx installed || missing+=("$p")
  done
  if [ ${#missing[@]} = 0 ]; then say "packages: all installed"; return; fi
  say "packages: installing ${missing[*]}"
  # (no `| grep -q` here: with pipefail, grep quitting early makes apt-cache die of SIGPIPE -> "false")
  [[ $(apt-cache policy keystone 2>/dev/null) == *'Candidate: '[0-9]* ]] || apt-get update -q
  # Maintainer scripts would start rabbitmq-server (on 0.0.0.0), keystone, nova-* ... through invoke-rc.d.
  # policy-rc.d answering 101 ("forbidden") stops that; we add one only if the machine has none, and remove
  # only ours. The debconf questions (configure db, register endpoints) default to "no" when noninteractive.
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\n# exposure-exporter test/openstack/lab.sh: no service starts while installing\nexit 101\n' \
      >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    own_guard=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}"
  if [ $own_guard = 1 ]; then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
  say "packages: installed"
}

# ---------------------------------------------------------------------------------------------- configs
keystone_authtoken() {  # USER SERVICE_TYPE
  # service_type: keystonemiddleware can only check an application credential's access rules against the
  # service it protects when it knows that service's catalog type; without it every such token gets 401.
  cat <<EOF
[keystone_authtoken]
www_authenticate_uri = $KEYSTONE/v3
auth_url = $KEYSTONE/v3
auth_type = password
user_domain_name = Default
project_domain_name = Default
project_name = service
username = $1
password = $EXPOSURE_OSLAB_SERVICE_PASSWORD
service_type = $2
EOF
}

service_client() {  # SECTION USER: credentials one service uses to call another
  cat <<EOF
[$1]
auth_url = $KEYSTONE/v3
auth_type = password
user_domain_name = Default
project_domain_name = Default
project_name = service
username = $2
password = $EXPOSURE_OSLAB_SERVICE_PASSWORD
region_name = RegionOne
EOF
}

write_configs() {
  mkdir -p "$ETC"/{rabbitmq,keystone,glance,placement,nova,neutron} "$RUN" "$LOG" "$DB" "$STATE"/{bin,lock} \
    "$STATE"/keystone/{fernet,credential} "$STATE"/glance/{images,staging,tasks} "$STATE"/nova/instances \
    "$STATE"/neutron "$STATE"/rabbitmq
  touch "$STATE/.exposure-oslab-state"   # `reset` deletes only a directory carrying this marker

  # RabbitMQ reads nothing from /etc/rabbitmq: our own (empty) env file and plugin list, loopback listener.
  : >"$ETC/rabbitmq/rabbitmq-env.conf"
  echo '[].' >"$ETC/rabbitmq/enabled_plugins"
  cat >"$ETC/rabbitmq/rabbitmq.conf" <<EOF
listeners.tcp.default = 127.0.0.1:5672
log.console = true
log.file = false
EOF

  cat >"$ETC/keystone/keystone.conf" <<EOF
[database]
connection = sqlite:///$DB/keystone.sqlite
[token]
provider = fernet
[fernet_tokens]
key_repository = $STATE/keystone/fernet
[fernet_receipts]
# fernet_setup also creates the (MFA) receipt keys; left at its default it writes /etc/keystone/fernet-keys.
key_repository = $STATE/keystone/fernet
[credential]
key_repository = $STATE/keystone/credential
[identity]
# bcrypt's minimum cost: Keystone on 2 cores is the bottleneck, and every password login pays this.
password_hash_rounds = 4
EOF

  { cat <<EOF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9292
workers = 1
[database]
connection = sqlite:///$DB/glance.sqlite
[paste_deploy]
flavor = keystone
config_file = /usr/share/glance-common/glance-api-paste.ini
[glance_store]
stores = file
default_store = file
filesystem_store_datadir = $STATE/glance/images
[os_glance_staging_store]
filesystem_store_datadir = $STATE/glance/staging
[os_glance_tasks_store]
filesystem_store_datadir = $STATE/glance/tasks
[oslo_concurrency]
lock_path = $STATE/lock
EOF
    keystone_authtoken glance image; } >"$ETC/glance/glance-api.conf"

  { cat <<EOF
[api]
auth_strategy = keystone
[placement_database]
connection = sqlite:///$DB/placement.sqlite
EOF
    keystone_authtoken placement placement; } >"$ETC/placement/placement.conf"

  { cat <<EOF
[DEFAULT]
transport_url = $RABBIT
host = lab-compute-1
my_ip = 127.0.0.1
state_path = $STATE/nova
instances_path = $STATE/nova/instances
# The fake virt driver "spawns" instantly and touches nothing on the host.
compute_driver = fake.FakeDriver
# No metadata API: nothing listens on 8775.
enabled_apis = osapi_compute
osapi_compute_listen = 127.0.0.1
osapi_compute_listen_port = 8774
osapi_compute_workers = 1
heal_instance_info_cache_interval = 10
# The fake driver keeps its instances in memory only: after a down/up it knows none of them. Do not let
# nova-compute reconcile power states against it; the database (what the APIs show) stays the truth.
sync_power_state_interval = -1
[api_database]
connection = sqlite:///$DB/nova_api.sqlite
[database]
connection = sqlite:///$DB/nova.sqlite
[conductor]
workers = 1
[scheduler]
workers = 1
# up runs discover_hosts itself once nova-compute has registered.
discover_hosts_in_cells_interval = -1
[wsgi]
api_paste_config = /usr/share/nova-common/api-paste.ini
[oslo_concurrency]
lock_path = $STATE/lock
[glance]
api_servers = http://127.0.0.1:9292
[vnc]
enabled = false
# The least-privilege persona: role "observer" may list every project's servers, nothing more.
[oslo_policy]
policy_file = $ETC/nova/policy.yaml
EOF
    keystone_authtoken nova compute
    service_client placement placement
    service_client neutron neutron
  } >"$ETC/nova/nova.conf"
  # Zed's default for listing all projects' servers is admin only; this is the override an operator would
  # add to give a monitoring role exactly that (oslo.policy re-reads the file when it changes).
  cat >"$ETC/nova/policy.yaml" <<'EOF'
"os_compute_api:servers:detail:get_all_tenants": "rule:context_is_admin or role:observer"
"os_compute_api:servers:index:get_all_tenants": "rule:context_is_admin or role:observer"
EOF

  { cat <<EOF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = 9696
core_plugin = ml2
service_plugins = router
auth_strategy = keystone
transport_url = $RABBIT
state_path = $STATE/neutron
api_paste_config = /usr/share/neutron-common/api-paste.ini
api_workers = 1
rpc_workers = 0
rpc_state_report_workers = 0
dhcp_agent_notification = false
# Port changes are pushed to Nova, which then shows floating IPs in the server's addresses.
notify_nova_on_port_status_changes = true
notify_nova_on_port_data_changes = true
[database]
connection = sqlite:///$DB/neutron.sqlite
[oslo_concurrency]
lock_path = $STATE/lock
EOF
    keystone_authtoken neutron network
    service_client nova nova
  } >"$ETC/neutron/neutron.conf"

  cat >"$ETC/neutron/ml2_conf.ini" <<EOF
[ml2]
type_drivers = flat,vxlan
tenant_network_types = vxlan
# No L2 agent runs here, so no real driver would bind a port and Nova would fail every build with
# PortBindingFailed. bind_all (pylib/ beside lab.sh) binds every port; only neutron-server loads it.
mechanism_drivers = bind_all
extension_drivers = port_security
[ml2_type_flat]
flat_networks = public,provider
[ml2_type_vxlan]
vni_ranges = 1:1000
EOF

  # nova-compute's entry point ships in the nova-compute package, which drags in libvirt, qemu, open-iscsi
  # (hundreds of packages). The fake driver only needs python3-nova, which nova-api already installed.
  printf '#!/usr/bin/python3\nimport sys\nfrom nova.cmd.compute import main\nsys.exit(main())\n' \
    >"$STATE/bin/nova-compute"
  chmod 755 "$STATE/bin/nova-compute"
}

# ---------------------------------------------------------------------------------------------- databases
# WAL journal on every SQLite DB, set on the empty file before the schema is made (the mode is stored in the
# file). oslo.db wraps every session in BEGIN; with the default rollback journal one idle read transaction
# holds a SHARED lock and the next writer fails after 5 s with "database is locked". In WAL readers never
# block the writer.
new_db() { local d; for d in "$@"; do "$PY" -c 'import sqlite3, sys; sqlite3.connect(sys.argv[1]).execute("pragma journal_mode=wal")' "$DB/$d.sqlite"; done; }
pending() { [ ! -e "$DB/$1.ready" ]; }
quiet() { "$@" >>"$LOG/db-init.log" 2>&1 || die "failed: $*; see $LOG/db-init.log"; }
ready() { touch "$DB/$1.ready"; say "$1: database initialised"; }

init_databases() {
  local nova=(--config-file "$ETC/nova/nova.conf")
  local neutron=(--config-file "$ETC/neutron/neutron.conf" --config-file "$ETC/neutron/ml2_conf.ini")
  local km=(keystone-manage --config-file "$ETC/keystone/keystone.conf")
  if pending keystone; then
    new_db keystone
    quiet "${km[@]}" db_sync
    # Keystone runs as root here, so the key repositories belong to root (it warns they are readable).
    quiet "${km[@]}" fernet_setup --keystone-user root --keystone-group root
    quiet "${km[@]}" credential_setup --keystone-user root --keystone-group root
    quiet "${km[@]}" bootstrap --bootstrap-password "$EXPOSURE_OSLAB_ADMIN_PASSWORD" --bootstrap-region-id RegionOne \
      --bootstrap-admin-url "$KEYSTONE/v3" --bootstrap-internal-url "$KEYSTONE/v3" \
      --bootstrap-public-url "$KEYSTONE/v3"
    ready keystone
  fi
  if pending glance; then
    new_db glance
    quiet glance-manage --config-file "$ETC/glance/glance-api.conf" db_sync
    ready glance
  fi
  if pending placement; then
    new_db placement
    quiet placement-manage --config-file "$ETC/placement/placement.conf" db sync
    ready placement
  fi
  if pending nova; then
    new_db nova_api nova_cell0 nova
    quiet nova-manage "${nova[@]}" api_db sync
    quiet nova-manage "${nova[@]}" cell_v2 map_cell0 --database_connection "sqlite:///$DB/nova_cell0.sqlite"
    [[ $(nova-manage "${nova[@]}" cell_v2 list_cells 2>/dev/null) == *' cell1 '* ]] ||
      quiet nova-manage "${nova[@]}" cell_v2 create_cell --name cell1
    quiet nova-manage "${nova[@]}" db sync
    ready nova
  fi
  if pending neutron; then
    new_db neutron
    # `neutron-db-manage upgrade heads` dies on SQLite (a Mitaka migration ALTERs constraints). Build the
    # tables from the models as Neutron's own unit tests do, then stamp the migration heads as applied.
    quiet "$PY" "$HERE/neutron_tools.py" schema "sqlite:///$DB/neutron.sqlite"
    quiet neutron-db-manage "${neutron[@]}" stamp heads
    ready neutron
  fi
}

# ---------------------------------------------------------------------------------------------- services
rabbitmq_env() {
  # /usr/sbin/rabbitmq-server su's to the rabbitmq user and logs under /var/log; run the real script as
  # root with everything (cookie in $HOME, mnesia, config) in the state dir, and Erlang's distribution
  # port and epmd on loopback only.
  export HOME=$STATE/rabbitmq RABBITMQ_NODENAME=exposure-oslab@localhost \
    RABBITMQ_NODE_IP_ADDRESS=127.0.0.1 RABBITMQ_NODE_PORT=5672 RABBITMQ_DIST_PORT=25672 \
    RABBITMQ_CONFIG_FILE=$ETC/rabbitmq/rabbitmq.conf RABBITMQ_CONF_ENV_FILE=$ETC/rabbitmq/rabbitmq-env.conf \
    RABBITMQ_ENABLED_PLUGINS_FILE=$ETC/rabbitmq/enabled_plugins \
    RABBITMQ_MNESIA_BASE=$STATE/rabbitmq/mnesia RABBITMQ_LOG_BASE=$LOG/rabbitmq \
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS='-kernel inet_dist_use_interface {127,0,0,1}' \
    ERL_EPMD_ADDRESS=127.0.0.1
}

# uwsgi for Keystone and Placement:
#  - one thread per process: SQLite connections must stay in the thread that made them, else
#    "SQLite objects created in a thread can only be used in that same thread" and then locked DBs;
#  - lazy-apps: each worker opens its own DB connections after the fork instead of sharing the master's;
#  - "Connection: close": uwsgi's --http-socket cannot keep a connection alive, and keystoneauth clients
#    that reuse one (Placement's calls to Keystone, nova-compute's to Placement) get ECONNRESET -> 503;
#  - die-on-term: without it uwsgi treats SIGTERM as "reload" and `down` would have to wait for the KILL.
#  - Placement gets one process: at load each worker syncs the trait table; two workers doing that at once
#    on a fresh DB hit "database is locked", one fails to load, and --need-app then stops the whole server
#    a minute later (seen here). Placement is not on any hot path.
UWSGI=(uwsgi --plugin python3 --master --threads 1 --lazy-apps --die-on-term --no-orphans --need-app
  --buffer-size 65535 --add-header 'Connection: close')

start_services() {
  local nova=(--config-file "$ETC/nova/nova.conf")
  ( rabbitmq_env
    # epmd started by us (rather than by beam on demand, daemonised) so it has a pid file and stops on `down`.
    start epmd epmd -address 127.0.0.1
    cd "$STATE/rabbitmq" && start rabbitmq /usr/lib/rabbitmq/bin/rabbitmq-server )
  init_databases   # meanwhile RabbitMQ boots (~8 s)
  ( rabbitmq_env
    for _ in $(seq 120); do
      /usr/lib/rabbitmq/bin/rabbitmqctl -q await_startup >/dev/null 2>&1 && exit 0
      running rabbitmq || exit 1
      sleep 1
    done; exit 1 ) || die "rabbitmq did not start; see $LOG/rabbitmq.log"
  say "rabbitmq: ready"

  start keystone "${UWSGI[@]}" --processes 2 --http-socket 127.0.0.1:5000 --wsgi-file /usr/bin/keystone-wsgi-public \
    --chdir "$STATE" --env "OS_KEYSTONE_CONFIG_DIR=$ETC/keystone"
  wait_http "$KEYSTONE/v3"
  say "keystone: ready"
  "$PY" "$HERE/bootstrap.py" catalog   # service users and endpoints, before any service validates a token

  start glance glance-api --config-file "$ETC/glance/glance-api.conf"
  start placement "${UWSGI[@]}" --processes 1 --http-socket 127.0.0.1:8778 --wsgi-file /usr/bin/placement-api \
    --chdir "$STATE" --env "OS_PLACEMENT_CONFIG_DIR=$ETC/placement"
  start nova-api nova-api "${nova[@]}"
  start nova-conductor nova-conductor "${nova[@]}"
  start nova-scheduler nova-scheduler "${nova[@]}"
  start nova-compute "$STATE/bin/nova-compute" "${nova[@]}"
  # Only neutron-server sees the bind_all driver (found through its entry point in pylib/).
  PYTHONPATH=$HERE/pylib start neutron neutron-server \
    --config-file "$ETC/neutron/neutron.conf" --config-file "$ETC/neutron/ml2_conf.ini"

  wait_http http://127.0.0.1:9292/ http://127.0.0.1:8778/ http://127.0.0.1:8774/v2.1/ http://127.0.0.1:9696/
  say "glance, placement, nova-api, neutron: answering"
  "$PY" "$HERE/bootstrap.py" wait-compute || die "nova services not up; see $LOG/nova-*.log"
  nova-manage "${nova[@]}" cell_v2 discover_hosts >/dev/null 2>&1   # map lab-compute-1 into cell1
  say "nova: conductor, scheduler and compute up, host mapped"
  local name
  for name in "${SERVICES[@]}"; do  # an answer is not enough: a uwsgi master may still be shutting down
    running "$name" || die "$name died while starting; see $LOG/$name.log"
  done
}

# ---------------------------------------------------------------------------------------------- commands
cmd_up() {
  [ "$(id -u)" = 0 ] || die "needs root (apt, /var/lib, setsid services)"
  command -v ss >/dev/null || die "needs ss to check the ports first: apt-get install iproute2"
  mkdir -p "$RUN"
  check_ports
  install_packages
  write_configs
  start_services
  local stray
  stray=$(ss -Hltn | awk '{print $4}' | grep -E ':(5000|8774|8778|9292|9696|5672|4369|25672)$' |
    grep -vE '^(127\.0\.0\.1|\[::1\]):' || true)
  [ -z "$stray" ] || say "WARNING: listening beyond loopback: $stray"
  say "up: done; state in $STATE, logs in $LOG"
}

cmd_down() {
  [ -d "$RUN" ] || { say "down: nothing started from $STATE"; return; }
  stop_groups neutron nova-compute nova-scheduler nova-conductor nova-api placement glance keystone
  stop_groups rabbitmq
  stop_groups epmd
  say "down: done"
}

cmd_status() {
  local name pgid procs pss up=0
  printf '%-15s %-8s %7s %6s %8s  %s\n' service state pgid procs pss_MiB ports
  for name in "${SERVICES[@]}"; do
    pgid=- procs=0 pss=0
    if running "$name"; then
      pgid=$(pgid_of "$name") up=$((up + 1))
      read -r procs pss < <(for p in $(ps -e -o pid=,pgid= | awk -v g="$pgid" '$2 == g { print $1 }'); do
        awk '/^Pss:/ { print $2 }' "/proc/$p/smaps_rollup" 2>/dev/null; done | awk '{ n++; s += $1 } END { printf "%d %.0f\n", n, s / 1024 }')
    fi
    printf '%-15s %-8s %7s %6s %8s  %s\n' "$name" "$([ "$pgid" = - ] && echo stopped || echo running)" \
      "$pgid" "$procs" "$pss" "$(ports_of "$name")"
  done
  [ $up = ${#SERVICES[@]} ]
}

cmd_reset() {
  cmd_down
  if [ -d "$STATE" ]; then
    [ -e "$STATE/.exposure-oslab-state" ] || die "$STATE is not a lab state dir (no marker); not deleting it"
    rm -rf "$STATE"
    say "reset: removed $STATE"
  fi
}

case ${1:-} in
  up) cmd_up ;;
  down) cmd_down ;;
  seed) running keystone || die "the lab is not up (run: $0 up)"; "$PY" "$HERE/seed.py" ;;
  check) [ -s "$STATE/seed.json" ] || die "no $STATE/seed.json (run: $0 seed)"; "$PY" "$HERE/check.py" ;;
  status) cmd_status ;;
  reset) cmd_reset ;;
  *) echo "usage: $0 up|seed|check|status|down|reset   (state: $STATE)" >&2; exit 2 ;;
esac
