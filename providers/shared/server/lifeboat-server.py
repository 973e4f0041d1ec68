#!/usr/bin/python3
"""lifeboat-server: the one command every Lifeboat server has.

The operations (failover, status, backup) act on a database server through
this command and nothing else, the same way on every provider: the clouds'
and the `ssh` provider's servers get it from their cloud-init user-data
(/usr/local/sbin/lifeboat-server), and the local provider runs this very file
in the server's directory. It reads where PostgreSQL and pgBackRest live from
the environment, with Debian's defaults, prints one JSON document on stdout,
and exits 0; on failure it prints what failed on stderr and exits 1 (2 for
bad usage). Python 3's standard library only: cloud-init, which every server
boots with, brings Python 3.

Subcommands (each safe to repeat):
  position                      role, WAL position, newest transaction, system identifier, timeline
  checkpoint                    where a stopped cluster's WAL ends (pg_controldata)
  hold-read-only                standby.signal in the data directory: once started, PostgreSQL refuses writes
  promote [--timeout S]         pg_promote, then wait until writable
  wait-replay LSN [--timeout S] wait until a standby has replayed LSN
  wait-writable [--timeout S]   wait until recovery (a restore) has ended
  salvage --into DIR --name N   copy the data directory to DIR/N (never over an earlier copy)
  probe                         replication, slot, archiver and pg_wal facts for `lifeboat status`
  backup-config                 whether pgBackRest is configured here, and how many repositories
  repositories                  what each repository holds: backups and newest archived WAL
  stanza-create [--retry-for S] the stanza in every repository that answers, one at a time
  backup --repo N | --all       a full backup into repository N, or into each in turn (a standby does nothing)
  verify-point --database D     a restore point with the tables' statistics at that instant
  wait-archived --repo N --wal W [--timeout S]
  admit-standby ADDRESS         admit the standby at ADDRESS for replication (TLS, SCRAM, that /32 only) and keep its slot
  synchronous-standby NAME | --none
                                a primary waits for the standby whose application_name is NAME before a commit returns
                                (synchronous replication), or for no standby (--none: asynchronous)
  forget-synchronous            drop the synchronous settings from postgresql.auto.conf (running or stopped): a copy of a
                                primary (a clone, a promoted standby, a restore) must never wait for its old primary's standby
  admit-workload --database D ADDRESS...
                                admit exactly these app servers (a /32 each) to D, in pg_hba and the host firewall
  clone PRIMARY --database D [--application-name N]
                                make this server a streaming standby of PRIMARY (never over a cluster holding D), known there as N
  health --url URL              what an HTTP health check on this server answers (the apps are reached from their ingress only)
  restore-verify --repo N [--target NAME] --database D [--sql Q] [--scratch DIR]
                                restore into a scratch cluster, read its statistics (and Q), throw it away
  fence-check [--wait S]        read the fence record from every repository; if the newest names this
                                site, hold the database read-only (restarting it if it runs writable)
  restore [--timeout S]         a cold failover's target: replace the empty cluster its user-data left with
                                the newest backup of the first repository that restores, then start it (it
                                replays the archive and promotes itself); never over a cluster holding data
"""
import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

ENV = os.environ
PGDATA = ENV.get("LIFEBOAT_PGDATA", "/var/lib/postgresql/15/main")
PGHOST = ENV.get("LIFEBOAT_PGHOST", "/var/run/postgresql")
PGPORT = ENV.get("LIFEBOAT_PGPORT", "5432")
PGBIN = ENV.get("LIFEBOAT_PGBIN", "/usr/lib/postgresql/15/bin")
PGBACKREST_CONFIG = ENV.get("LIFEBOAT_PGBACKREST_CONFIG", "/etc/pgbackrest/pgbackrest.conf")
STANZA = ENV.get("LIFEBOAT_STANZA", "lifeboat")
SLOT = ENV.get("LIFEBOAT_REPLICATION_SLOT", "lifeboat_standby")
OS_USER = ENV.get("LIFEBOAT_OS_USER", "postgres")
PGBACKREST = ENV.get("LIFEBOAT_PGBACKREST", "/usr/bin/pgbackrest")
PGHBA = ENV.get("LIFEBOAT_PGHBA", "/etc/postgresql/15/main/pg_hba.conf")
REPLICATION_USER = ENV.get("LIFEBOAT_REPLICATION_USER", "replicator")
REPLICATION_PASSFILE = ENV.get("LIFEBOAT_REPLICATION_PASSFILE", "/etc/lifeboat/replication.pgpass")
# The database's systemd unit, for the subcommands that stop and start it on a server (clone).
DATABASE_UNIT = ENV.get("LIFEBOAT_DATABASE_UNIT", "postgresql")
# The fence check's settings (rendered by the user-data: providers/shared/bootstrap/fence.ts), and what it last found.
FENCE_CONFIG = ENV.get("LIFEBOAT_FENCE_CONFIG", "/etc/lifeboat/fence.json")
FENCE_STATE = ENV.get("LIFEBOAT_FENCE_STATE", "/run/lifeboat/fence.json")
CURL = ENV.get("LIFEBOAT_CURL", "curl")
SYSTEMCTL = ENV.get("LIFEBOAT_SYSTEMCTL", "systemctl")
FIREWALL_DROP_INS = ENV.get("LIFEBOAT_FIREWALL_DROP_INS", "/etc/lifeboat/nftables.d")
# A cold failover's target: the user-data leaves this marker, and `restore` the state of its restore.
RESTORE_PENDING = ENV.get("LIFEBOAT_RESTORE_PENDING", "/etc/lifeboat/restore-pending")
RESTORE_STATE = ENV.get("LIFEBOAT_RESTORE_STATE", "/var/lib/lifeboat/restore.json")


class Failure(Exception):
    """What the caller reads on stderr: one line saying what failed."""


def as_postgres():
    """
    Run PostgreSQL's tools as its own user when started as root (PostgreSQL
    refuses root), with that user's HOME: libpq reads ~/.postgresql for client
    certificates, and root's home is not readable to postgres.
    """
    if os.geteuid() != 0 or not OS_USER:
        return {}
    import pwd
    return {"user": OS_USER, "group": OS_USER, "env": {**os.environ, "HOME": pwd.getpwnam(OS_USER).pw_dir}, "cwd": "/"}


def run(argv, input_text=None, timeout=None, check=True):
    try:
        done = subprocess.run(argv, input=input_text or "", capture_output=True, text=True, timeout=timeout, **as_postgres())
    except subprocess.TimeoutExpired:
        raise Failure(f"{os.path.basename(argv[0])} did not finish within {timeout} s")
    if check and done.returncode != 0:
        detail = (done.stderr or done.stdout).strip()
        raise Failure(f"{os.path.basename(argv[0])} {next((a for a in argv[1:] if not a.startswith('-')), '')} failed: {detail}")
    return done


def psql(sql, database="postgres", timeout=30, host=None):
    argv = [f"{PGBIN}/psql", "-h", host or PGHOST, "-p", PGPORT, "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-XAtqF", "\t", "-f", "-"]
    return run(argv, input_text=sql, timeout=timeout).stdout.strip()


def pgbackrest(args, config=None, timeout=None):
    return run([PGBACKREST, f"--config={config or PGBACKREST_CONFIG}", f"--stanza={STANZA}", *args], timeout=timeout)


def lsn_value(lsn):
    high, low = lsn.split("/")
    return (int(high, 16) << 32) + int(low, 16)


def iso(epoch_seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%S.000Z", time.gmtime(epoch_seconds))


def sql_string(value):
    return "'" + value.replace("'", "''") + "'"


def sql_identifier(value):
    return '"' + value.replace('"', '""') + '"'


def emit(value):
    json.dump(value, sys.stdout)
    sys.stdout.write("\n")


# Positions and promotion.

POSITION_SQL = """SELECT json_build_object(
  'recovery', pg_is_in_recovery(),
  'lsn', CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn()::text ELSE pg_current_wal_lsn()::text END,
  'lastTransactionAt', pg_last_xact_replay_timestamp(),
  'systemIdentifier', (SELECT system_identifier::text FROM pg_control_system()),
  'timeline', CASE WHEN pg_is_in_recovery() THEN (SELECT timeline_id FROM pg_control_checkpoint())
                   ELSE ('x' || substr(pg_walfile_name(pg_current_wal_lsn()), 1, 8))::bit(32)::int END)"""


def position():
    raw = json.loads(psql(POSITION_SQL))
    out = {"writable": raw["recovery"] is False, "systemIdentifier": raw["systemIdentifier"], "timeline": raw["timeline"]}
    if raw.get("lsn"):
        out["lsn"] = raw["lsn"]
    if raw.get("lastTransactionAt"):
        out["lastTransactionAt"] = raw["lastTransactionAt"]
    return out


def poll(what, probe, done, timeout, interval=0.1):
    """Calls probe() until done(value) or the time is up; a probe that fails counts as not done."""
    deadline = time.monotonic() + timeout
    last, error = None, None
    while True:
        try:
            last, error = probe(), None
            if done(last):
                return last
        except Failure as failure:
            error = failure
        if time.monotonic() > deadline:
            raise Failure(f"{what} within {timeout:g} s" + (f" (last answer: {error})" if error else f" (last: {json.dumps(last)})"))
        time.sleep(interval)


def cmd_position(_args):
    emit(position())


def cmd_checkpoint(_args):
    if not os.path.exists(os.path.join(PGDATA, "PG_VERSION")):
        raise Failure(f"no database cluster in {PGDATA}")
    text = run([f"{PGBIN}/pg_controldata", PGDATA]).stdout
    field = lambda name: (re.search(rf"^{re.escape(name)}:\s+(.+)$", text, re.M) or [None, None])[1]
    emit({"lsn": field("Latest checkpoint location"), "systemIdentifier": field("Database system identifier"), "timeline": int(field("Latest checkpoint's TimeLineID") or 0), "state": field("Database cluster state")})


def cmd_hold_read_only(_args):
    if not os.path.exists(os.path.join(PGDATA, "PG_VERSION")):
        raise Failure(f"no database cluster in {PGDATA}")
    signal = os.path.join(PGDATA, "standby.signal")
    already = os.path.exists(signal)
    if not already:
        open(signal, "w").close()
        owner = os.stat(PGDATA)
        if os.geteuid() == 0:
            os.chown(signal, owner.st_uid, owner.st_gid)
    emit({"already": already})


def cmd_promote(args):
    before = position()
    # A promoted standby has no standby of its own: if it kept the synchronous settings its copy of the
    # primary brought (postgresql.auto.conf), every write on the new primary would wait for nobody.
    forget_synchronous(PGDATA, reload=True)
    if not before["writable"]:
        psql(f"SELECT pg_promote(true, {int(args.timeout)})", timeout=args.timeout + 10)
    after = poll("the database did not become writable after pg_promote", position, lambda p: p["writable"], args.timeout)
    # The newest replayed transaction is the data position: read before promotion, it is what the standby had.
    if before.get("lastTransactionAt"):
        after["lastTransactionAt"] = before["lastTransactionAt"]
    emit(after)


def cmd_wait_replay(args):
    target = lsn_value(args.lsn)
    reached = lambda p: p["writable"] or ("lsn" in p and lsn_value(p["lsn"]) >= target)
    emit(poll(f"the standby did not replay up to {args.lsn}", position, reached, args.timeout))


def cmd_wait_writable(args):
    emit(poll("the database is still recovering", position, lambda p: p["writable"], args.timeout, interval=0.5))


def cmd_salvage(args):
    if not os.path.exists(os.path.join(PGDATA, "PG_VERSION")):
        emit({"path": None})
        return
    target = os.path.join(args.into, args.name)
    # Never over an earlier copy (a rerun after the site was partly destroyed would copy less); whole or not at all.
    if not os.path.exists(target):
        os.makedirs(args.into, exist_ok=True)
        shutil.rmtree(target + ".partial", ignore_errors=True)
        subprocess.run(["cp", "-a", PGDATA, target + ".partial"], check=True)
        os.rename(target + ".partial", target)
    emit({"path": target})


# Status probes.

PRIMARY_SQL = f"""SELECT json_build_object(
  'archiveMode', current_setting('archive_mode'),
  'synchronousStandbyNames', current_setting('synchronous_standby_names'),
  'synchronousCommit', current_setting('synchronous_commit'),
  'waitingForStandby', (SELECT count(*) FROM pg_stat_activity WHERE wait_event = 'SyncRep'),
  'replication', (SELECT coalesce(json_agg(json_build_object(
      'clientAddress', host(client_addr), 'applicationName', application_name, 'state', state, 'syncState', sync_state,
      'lagBytes', pg_wal_lsn_diff(pg_current_wal_lsn(), replay_lsn),
      'lagSeconds', extract(epoch FROM replay_lag)) ORDER BY application_name), '[]'::json) FROM pg_stat_replication),
  'slot', (SELECT json_build_object('name', slot_name, 'active', active, 'retainedBytes', pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn))
      FROM pg_replication_slots WHERE slot_name = {sql_string(SLOT)}),
  'archiver', (SELECT json_build_object('archivedCount', archived_count, 'lastArchivedWal', last_archived_wal, 'lastArchivedAt', last_archived_time,
      'failedCount', failed_count, 'lastFailedWal', last_failed_wal, 'lastFailedAt', last_failed_time) FROM pg_stat_archiver))"""

STANDBY_SQL = """SELECT json_build_object(
  'receiveLsn', pg_last_wal_receive_lsn()::text,
  'replayLsn', pg_last_wal_replay_lsn()::text,
  'lastReplayedTransactionAt', pg_last_xact_replay_timestamp(),
  'receiver', (SELECT json_build_object('status', status, 'senderHost', sender_host) FROM pg_stat_wal_receiver LIMIT 1))"""


def wal_facts():
    """Ready files and size of pg_wal, read from the data directory (works while PostgreSQL is down too)."""
    try:
        wal = os.path.join(PGDATA, "pg_wal")
        ready = sum(1 for name in os.listdir(os.path.join(wal, "archive_status")) if name.endswith(".ready"))
        size = sum(entry.stat().st_size for entry in os.scandir(wal) if entry.is_file())
        return {"readyFiles": ready, "bytes": size}
    except OSError:
        return None


def cmd_probe(args):
    recovery = psql("SELECT pg_is_in_recovery()", timeout=args.timeout)
    if recovery not in ("t", "f"):
        raise Failure(f"unexpected answer to pg_is_in_recovery(): {recovery}")
    facts = json.loads(psql(STANDBY_SQL if recovery == "t" else PRIMARY_SQL, timeout=args.timeout))
    emit({"role": "standby" if recovery == "t" else "primary", "facts": facts, "wal": wal_facts()})


# pgBackRest: configuration, repositories, stanza, backups.

def repository_count(config=None):
    with open(config or PGBACKREST_CONFIG) as f:
        return len(set(re.findall(r"^repo(\d+)-type=", f.read(), re.M)))


def cmd_backup_config(_args):
    present = os.path.exists(PGBACKREST_CONFIG)
    emit({"present": present, "repositories": repository_count() if present else 0})


SEGMENT = re.compile(r"/[0-9A-F]{24}-[0-9a-f]{40}")


def newest_archived_wal(repo, timeout):
    listing = json.loads(pgbackrest([f"--repo={repo}", "repo-ls", "--recurse", "--output=json", f"archive/{STANZA}"], timeout=timeout).stdout)
    newest = None
    for name, entry in listing.items():
        # Segments only (24 hex digits, then a checksum); .history and .backup files are not WAL.
        if entry.get("type") != "file" or not SEGMENT.search("/" + name) or entry.get("time") is None:
            continue
        if newest is None or entry["time"] > newest[1] or (entry["time"] == newest[1] and name > newest[0]):
            newest = (name, entry["time"])
    return {"newestWal": os.path.basename(newest[0])[:24], "newestWalAt": iso(newest[1])} if newest else {}


def backup_summary(backup):
    return {
        "label": backup["label"],
        "type": backup["type"],
        "startedAt": iso(backup["timestamp"]["start"]),
        "stoppedAt": iso(backup["timestamp"]["stop"]),
        "databaseBytes": backup["info"]["size"],
        "repositoryBytes": backup["info"]["repository"]["size"],
    }


def repository_contents(count, timeout):
    info = (json.loads(pgbackrest(["info", "--output=json"], timeout=timeout).stdout) or [{}])[0]
    out = []
    for repo in range(1, count + 1):
        status = next((r["status"] for r in info.get("repo", []) if r.get("key") == repo), None)
        contents = {"repo": repo, "backups": [backup_summary(b) for b in info.get("backup", []) if b["database"]["repo-key"] == repo]}
        # code 0: ok, 2: no valid backups yet (WAL may still be there); anything else is a problem with the repository.
        if status and status.get("code") not in (0, 2):
            contents["error"] = status.get("message", "")
        try:
            contents.update(newest_archived_wal(repo, timeout))
        except Failure as failure:
            contents.setdefault("error", str(failure))
        out.append(contents)
    return out


def cmd_repositories(args):
    emit(repository_contents(repository_count(), args.timeout))


def single_repository_config(text, n):
    """pgbackrest.conf with only repository n, renumbered repo1: for the commands that take no --repo."""
    keep = []
    for line in text.split("\n"):
        match = re.match(r"^(# )?repo(\d+)([-:])", line)
        if match and match.group(2) != str(n):
            continue
        keep.append(re.sub(rf"^(# )?repo{n}([-:])", r"\1repo1\2", line))
    return "\n".join(keep)


def private_file(directory, content):
    handle, name = tempfile.mkstemp(dir=directory, prefix="lifeboat-", suffix=".conf")
    with os.fdopen(handle, "w") as f:
        f.write(content)
    if os.geteuid() == 0 and OS_USER:
        shutil.chown(name, OS_USER, OS_USER)
    return name


def stanza_create_once():
    with open(PGBACKREST_CONFIG) as f:
        text = f.read()
    count = repository_count()
    failures = []
    for n in range(1, count + 1):
        single = private_file(os.path.dirname(PGBACKREST_CONFIG), single_repository_config(text, n))
        try:
            deadline = time.monotonic() + 30
            while True:
                done = run([PGBACKREST, f"--config={single}", f"--stanza={STANZA}", "stanza-create"], timeout=120, check=False)
                error = (done.stderr or done.stdout).strip() if done.returncode else None
                # The asynchronous WAL push may hold pgBackRest's lock for a moment.
                if not error or "unable to acquire lock" not in error or time.monotonic() > deadline:
                    break
                time.sleep(0.5)
            if error:
                failures.append(f"repo{n}: {error}")
        finally:
            os.unlink(single)
    return count, failures


def cmd_stanza_create(args):
    """stanza-create in each repository by itself, so one that does not answer does not stop the others; with --retry-for, until one takes it."""
    deadline = time.monotonic() + args.retry_for
    while True:
        count, failures = stanza_create_once()
        if not count or len(failures) < count or time.monotonic() > deadline:
            break
        print(f"lifeboat: no repository took the stanza yet ({'; '.join(failures)}); retrying in 20 s", file=sys.stderr)
        time.sleep(20)
    emit({"repositories": count, "failures": failures})
    if count and len(failures) == count:
        raise Failure("no backup repository could be set up:\n" + "\n".join(failures))


def cmd_backup(args):
    if args.all:
        # The daily timer: a standby backs up nothing until it is promoted; one repository failing does not stop the next.
        if psql("SELECT pg_is_in_recovery()") == "t":
            emit({"backups": [], "skipped": "this server is a standby; the primary takes the backups"})
            return
        results, failed = [], []
        for repo in range(1, repository_count() + 1):
            try:
                pgbackrest([f"--repo={repo}", "backup", "--type=full"])
                results.append({"repo": repo, "ok": True})
            except Failure as failure:
                results.append({"repo": repo, "ok": False, "error": str(failure)})
                failed.append(repo)
        emit({"backups": results})
        if failed:
            raise Failure(f"the full backup failed in repo{', repo'.join(map(str, failed))}")
        return
    if args.repo is None:
        raise Failure("say which repository (--repo N) or --all")
    pgbackrest([f"--repo={args.repo}", "backup", "--type=full"])
    contents = repository_contents(args.repo, 60)[args.repo - 1]
    if not contents["backups"]:
        raise Failure(f"pgBackRest reported success but repo{args.repo} lists no backup")
    emit(contents["backups"][-1])


# Replication: admitting a standby on the primary, cloning the primary on the standby.

def host_cidr(address):
    if not re.fullmatch(r"[0-9a-fA-F.:]+", address):
        raise Failure(f"{address} is not an IP address")
    return f"{address}/128" if ":" in address else f"{address}/32"


def rewrite_pg_hba(keep, add):
    """pg_hba.conf without the lines `keep` refuses, then the `add` lines; replaced whole, with its owner and mode."""
    with open(PGHBA) as f:
        lines = [line for line in f.read().split("\n") if keep(line)]
    while lines and lines[-1] == "":
        lines.pop()
    lines.extend(add)
    replace_file(PGHBA, "\n".join(lines) + "\n")


def replace_file(path, text):
    """The file replaced whole (never half-written), keeping its mode and owner (PostgreSQL's files are postgres's)."""
    stat = os.stat(path)
    tmp = path + ".lifeboat-new"
    with open(tmp, "w") as f:
        f.write(text)
    os.chmod(tmp, stat.st_mode & 0o777)
    if os.geteuid() == 0:
        os.chown(tmp, stat.st_uid, stat.st_gid)
    os.replace(tmp, path)


def open_firewall(name, cidrs, why):
    """The host firewall (from the user-data) opens 5432 to `cidrs` too, on a server that has one; None where it has none."""
    if not (os.path.isdir(FIREWALL_DROP_INS) and os.path.exists("/etc/nftables.conf")):
        return None
    with open(os.path.join(FIREWALL_DROP_INS, f"{name}.nft"), "w") as f:
        for cidr in cidrs:
            family = "ip6" if ":" in cidr else "ip"
            f.write(f'add rule inet lifeboat input {family} saddr {cidr} tcp dport 5432 accept comment "{why}"\n')
    subprocess.run(["nft", "-f", "/etc/nftables.conf"], check=True, capture_output=True)
    return [f"{cidr} to 5432" for cidr in cidrs]


AUTO_CONF = "postgresql.auto.conf"
SYNCHRONOUS_SETTINGS = ("synchronous_standby_names", "synchronous_commit")
APPLICATION_NAME = re.compile(r"[a-z0-9_]{1,63}")


def forget_synchronous(pgdata, reload=False):
    """
    postgresql.auto.conf without the synchronous settings (ALTER SYSTEM's file,
    which pg_basebackup and pgBackRest copy with the data). Edited as a file so
    that it works on a stopped cluster and on a standby alike; with reload, a
    running server reads it at once. Returns whether anything was dropped.
    """
    path = os.path.join(pgdata, AUTO_CONF)
    if not os.path.exists(path):
        return False
    with open(path) as f:
        lines = f.read().split("\n")
    kept = [line for line in lines if line.split("=")[0].strip() not in SYNCHRONOUS_SETTINGS]
    if len(kept) == len(lines):
        return False
    replace_file(path, "\n".join(kept))
    if reload and os.path.exists(os.path.join(pgdata, "postmaster.pid")):
        psql("SELECT pg_reload_conf()")
    return True


def synchronous_facts():
    return json.loads(psql("""SELECT json_build_object('synchronousStandbyNames', current_setting('synchronous_standby_names'),
      'synchronousCommit', current_setting('synchronous_commit'))"""))


def cmd_synchronous_standby(args):
    """
    The primary's half of synchronous replication: with NAME, a commit returns
    once the standby known as NAME (its application_name) has the WAL on disk
    (synchronous_commit = on: durable there; a promotion replays it), so a
    write acknowledged here is never lost with this server; while that standby
    is away, commits wait. --none: commits wait for no standby. ALTER SYSTEM,
    so the setting outlives restarts, and a reload releases waiting commits.
    """
    if psql("SELECT pg_is_in_recovery()") == "t":
        raise Failure("this database is a standby: only a primary waits for a standby")
    if args.none == (args.name is not None):
        raise Failure("give the standby's application_name, or --none")
    if args.none:
        psql("ALTER SYSTEM RESET synchronous_standby_names;\nALTER SYSTEM RESET synchronous_commit;")
    else:
        if not APPLICATION_NAME.fullmatch(args.name):
            raise Failure(f"{args.name!r} is not a standby's application_name (lower-case letters, digits, underscores)")
        psql(f"ALTER SYSTEM SET synchronous_standby_names = {sql_string(sql_identifier(args.name))};\nALTER SYSTEM SET synchronous_commit = 'on';")
    psql("SELECT pg_reload_conf()")
    # The reload is asynchronous: answer with what the server runs with, once it does.
    wanted = "" if args.none else sql_identifier(args.name)
    emit(poll("the server did not take the new synchronous_standby_names", synchronous_facts, lambda f: f["synchronousStandbyNames"] == wanted, 10))


def cmd_forget_synchronous(_args):
    emit({"dropped": forget_synchronous(PGDATA, reload=True)})


def cmd_admit_standby(args):
    cidr = host_cidr(args.address)
    rewrite_pg_hba(lambda line: not line.startswith(f"hostssl replication {REPLICATION_USER} "), [f"hostssl replication {REPLICATION_USER} {cidr} scram-sha-256"])
    psql(f"SELECT pg_create_physical_replication_slot({sql_string(SLOT)}) WHERE NOT EXISTS (SELECT FROM pg_replication_slots WHERE slot_name = {sql_string(SLOT)})")
    psql("SELECT pg_reload_conf()")
    firewall = open_firewall("standby", [cidr], "the standby, admitted by lifeboat-server admit-standby")
    emit({"admitted": cidr, "slot": SLOT, "firewall": firewall and firewall[0]})


def cmd_admit_workload(args):
    """
    The workload's database login from exactly these app servers (/32 each):
    the lines for servers no longer listed go, so a decommissioned server's
    address, reused by someone else, gets nothing.
    """
    cidrs = [host_cidr(a) for a in args.addresses]
    prefix = f"host {args.database} {args.database} "
    ours = lambda line: line.startswith(prefix) and line.endswith(" scram-sha-256") and re.search(r"/(32|128) ", line)
    rewrite_pg_hba(lambda line: not ours(line), [f"{prefix}{cidr} scram-sha-256" for cidr in cidrs])
    psql("SELECT pg_reload_conf()")
    firewall = open_firewall("workload", cidrs, "the app servers, admitted by lifeboat-server admit-workload")
    emit({"admitted": cidrs, "firewall": firewall})


def cmd_clone(args):
    """
    Replaces this server's cluster with a copy of the primary's, streaming from
    then on. Nothing to do on a server that already is a standby; refused on a
    cluster that holds the workload's database (a promoted standby or an old
    primary is never wiped). The copy goes beside the cluster first, so
    PostgreSQL is stopped only once it is complete.
    """
    primary = args.primary
    if not re.fullmatch(r"[0-9a-fA-F.:]+", primary):
        raise Failure(f"{primary} is not an IP address")
    if psql("SELECT pg_is_in_recovery()") == "t":
        emit({"cloned": False, "reason": "already a standby"})
        return
    if psql(f"SELECT 1 FROM pg_database WHERE datname = {sql_string(args.database)}") == "1":
        raise Failure(f"this cluster is not a standby and holds the database {args.database}: refusing to replace it (reconcile moves it aside first)")
    staging = PGDATA.rstrip("/") + ".lifeboat-clone"
    # The password comes from the passfile, never a command line; TLS is required and bound to the SCRAM exchange.
    conninfo = f"host={primary} port=5432 user={REPLICATION_USER} sslmode=require channel_binding=require passfile={REPLICATION_PASSFILE}"
    # The name the primary knows this standby by (pg_stat_replication, synchronous_standby_names); -R keeps it in primary_conninfo.
    if args.application_name:
        if not APPLICATION_NAME.fullmatch(args.application_name):
            raise Failure(f"{args.application_name!r} is not an application_name (lower-case letters, digits, underscores)")
        conninfo += f" application_name={args.application_name}"
    for attempt in range(1, args.attempts + 1):
        shutil.rmtree(staging, ignore_errors=True)
        done = run([f"{PGBIN}/pg_basebackup", "-d", conninfo, "-D", staging, "-X", "stream", "-R", "-S", SLOT, "-c", "fast"], check=False)
        if done.returncode == 0:
            break
        if attempt == args.attempts:
            shutil.rmtree(staging, ignore_errors=True)
            raise Failure(f"the primary at {primary} did not let this standby copy it after {args.attempts} attempt(s): {(done.stderr or done.stdout).strip()[-500:]} (check its firewall, pg_hba and slot)")
        said = (done.stderr or done.stdout).strip().split("\n")[-1][-300:]
        print(f"lifeboat: waiting for the primary at {primary}:5432 (attempt {attempt} of {args.attempts}: {said}), retrying in {args.retry_seconds:g}s", file=sys.stderr)
        time.sleep(args.retry_seconds)
    # The copy is a standby: it waits for nobody, now or once promoted.
    forget_synchronous(staging)
    subprocess.run(["systemctl", "stop", DATABASE_UNIT], check=True)
    # Debian's postgresql.service only groups the clusters: its stop can return while the cluster is
    # still shutting down (a smart shutdown waits for its clients). Never swap under a running server.
    poll("PostgreSQL did not stop", lambda: os.path.exists(os.path.join(PGDATA, "postmaster.pid")), lambda running: not running, 120, interval=0.2)
    shutil.rmtree(PGDATA, ignore_errors=True)
    os.rename(staging, PGDATA)
    subprocess.run(["systemctl", "start", DATABASE_UNIT], check=True)
    emit({"cloned": True, "primary": primary})


def cmd_health(args):
    import urllib.error, urllib.request
    request = urllib.request.Request(args.url, headers={"Host": args.host} if args.host else {})
    try:
        with urllib.request.urlopen(request, timeout=args.timeout) as response:
            status, body = response.status, response.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as error:
        status, body = error.code, error.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as error:
        emit({"status": None, "error": str(getattr(error, "reason", error))})
        return
    try:
        parsed = json.loads(body)
    except ValueError:
        parsed = None
    emit({"status": status, "body": parsed})


# Verification: a restore point, and a restore compared with it.

TABLES_SQL = """SELECT c.relname, (SELECT a.attname FROM pg_index i JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
    WHERE i.indrelid = c.oid AND i.indisprimary AND i.indnatts = 1)
 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE n.nspname = 'public' AND c.relkind = 'r' ORDER BY c.relname"""


def tables_of(database, host=None):
    out = psql(TABLES_SQL, database=database, host=host)
    return [tuple((line.split("\t") + [""])[:2]) for line in out.split("\n")] if out else []


def stats_query(table, key):
    t = sql_identifier(table)
    recent = f"(SELECT * FROM {t} ORDER BY {sql_identifier(key)} DESC LIMIT 1000)" if key else t
    return f"SELECT {sql_string(table)}, (SELECT count(*) FROM {t}), (SELECT coalesce(md5(string_agg(r::text, '|' ORDER BY r::text)), '') FROM {recent} r)"


def parse_stats(out):
    stats = {}
    for line in filter(None, out.split("\n")):
        table, rows, checksum = (line.split("\t") + ["", ""])[:3]
        stats[table] = {"rows": int(rows), "recentChecksum": checksum}
    return stats


def table_stats(database, host=None):
    tables = tables_of(database, host)
    if not tables:
        return {}
    return parse_stats(psql(" UNION ALL ".join(stats_query(t, k) for t, k in tables), database=database, timeout=600, host=host))


class Session:
    """One psql session held open, a statement at a time: each is followed by a marker line, so its answer is complete once the marker is read."""

    marker = "__lifeboat_statement_done__"

    def __init__(self, database):
        argv = [f"{PGBIN}/psql", "-h", PGHOST, "-p", PGPORT, "-U", "postgres", "-d", database, "-v", "ON_ERROR_STOP=1", "-XAtqF", "\t"]
        self.process = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1, **as_postgres())

    def run(self, sql):
        self.process.stdin.write(sql.rstrip().rstrip(";") + f";\n\\echo {self.marker}\n")
        self.process.stdin.flush()
        lines = []
        while True:
            line = self.process.stdout.readline()
            if line == "":
                raise Failure(f"psql ended while running {sql.split()[0]}: {self.process.stderr.read().strip()}")
            if line.rstrip("\n") == self.marker:
                return lines
            lines.append(line.rstrip("\n"))

    def close(self):
        try:
            self.process.stdin.close()
        except OSError:
            pass
        self.process.wait(timeout=30)


def cmd_verify_point(args):
    """
    A point the restore can stop at exactly, with the primary's statistics at it.
    Writes to the workload's tables pause (SHARE lock) only while a snapshot is
    exported and the restore point written; the statistics are then read from
    that snapshot in a second session, however long they take.
    """
    tables = tables_of(args.database)
    name = "lifeboat-verify-" + time.strftime("%Y-%m-%dT%H-%M-%S", time.gmtime()) + f"-{int(time.time() * 1000) % 1000:03d}Z"
    locker, reader = Session(args.database), Session(args.database)
    try:
        locker.run("SET lock_timeout = '10s'")
        started = time.monotonic()
        locker.run("BEGIN ISOLATION LEVEL REPEATABLE READ")
        if tables:
            locker.run("LOCK TABLE " + ", ".join(sql_identifier(t) for t, _ in tables) + " IN SHARE MODE")
        [snapshot] = locker.run("SELECT pg_export_snapshot()")
        locker.run(f"SELECT pg_create_restore_point({sql_string(name)})")
        reader.run("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")
        reader.run(f"SET TRANSACTION SNAPSHOT {sql_string(snapshot)}")
        locker.run("COMMIT")
        pause_ms = round((time.monotonic() - started) * 1000)
        stats = parse_stats("\n".join(reader.run(" UNION ALL ".join(stats_query(t, k) for t, k in tables)))) if tables else {}
        reader.run("COMMIT")
        [wal] = locker.run("SELECT pg_walfile_name(pg_switch_wal())")
    finally:
        locker.close()
        reader.close()
    emit({"name": name, "stats": stats, "writePauseMs": pause_ms, "wal": wal})


def cmd_sql(args):
    """Runs the SQL on stdin in one transaction (the services commands' outbox reads and switches): its rows, each a list of strings."""
    out = psql("BEGIN;\n" + sys.stdin.read().rstrip().rstrip(";") + ";\nCOMMIT;", database=args.database)
    emit({"rows": [line.split("\t") for line in out.split("\n") if line]})


def cmd_wait_archived(args):
    """Per repository, not PostgreSQL's archiver status: with one repository down, archive-push fails as a whole but still delivers to the others."""
    poll(f"WAL segment {args.wal} did not reach repo{args.repo}", lambda: newest_archived_wal(args.repo, 30).get("newestWal", ""), lambda newest: newest >= args.wal, args.timeout, interval=0.5)
    emit({"repo": args.repo, "wal": args.wal})


def ensure_traversable(directory):
    """PostgreSQL's user must be able to reach the scratch directory through its parents."""
    current = os.path.dirname(os.path.abspath(directory))
    while current != os.path.dirname(current):
        mode = os.stat(current).st_mode
        if not mode & 0o001:
            os.chmod(current, mode | 0o001)
        current = os.path.dirname(current)


def scratch_config(text, scratch):
    """The server's repositories with the scratch copy's own paths: nothing of the live server's is shared."""
    own = {"spool-path", "lock-path", "log-path", "pg1-path", "pg1-socket-path", "pg1-port"}
    lines = [line for line in text.split("\n") if line.split("=", 1)[0].strip() not in own]
    out = []
    for line in lines:
        out.append(line)
        if line.strip() == "[global]":
            out += [f"spool-path={scratch}/pgbackrest/spool", f"lock-path={scratch}/pgbackrest/lock", f"log-path={scratch}/pgbackrest/log"]
        elif line.strip() == f"[{STANZA}]":
            out += [f"pg1-path={scratch}/data", f"pg1-socket-path={scratch}/socket", "pg1-port=5432"]
    return "\n".join(out)


def cmd_restore_verify(args):
    """
    Restores a repository's newest backup plus its WAL up to the restore point
    into a scratch cluster (socket only, archive_mode=off: its new timeline must
    never reach a repository), reads its statistics, and removes it again.
    """
    scratch = os.path.abspath(args.scratch)
    shutil.rmtree(scratch, ignore_errors=True)
    for sub in ("socket", "data", "pgbackrest/spool", "pgbackrest/lock", "pgbackrest/log"):
        os.makedirs(os.path.join(scratch, sub), exist_ok=True)
    os.chmod(os.path.join(scratch, "data"), 0o700)
    ensure_traversable(scratch)
    with open(PGBACKREST_CONFIG) as f:
        config = os.path.join(scratch, "pgbackrest.conf")
        with open(config, "w") as out:
            out.write(scratch_config(f.read(), scratch))
    os.chmod(config, 0o600)
    if os.geteuid() == 0 and OS_USER:
        subprocess.run(["chown", "-R", f"{OS_USER}:{OS_USER}", scratch], check=True)
    server = None
    try:
        recovery = ["--type=name", f"--target={args.target}", "--target-action=promote"] if args.target else ["--type=default"]
        pgbackrest([f"--repo={args.repo}", "restore", "--archive-mode=off", *recovery], config=config, timeout=6 * 3600)
        log = open(os.path.join(scratch, "postgres.log"), "a")
        # Debian keeps postgresql.conf and pg_hba.conf in /etc/postgresql, not in the data directory
        # the backup holds: the scratch cluster gets its own (no settings, postgres over its socket only).
        settings = []
        if not os.path.exists(os.path.join(scratch, "data", "postgresql.conf")):
            for name, text in (("postgresql.conf", ""), ("pg_hba.conf", "local all all peer\n"), ("pg_ident.conf", "")):
                with open(os.path.join(scratch, name), "w") as f:
                    f.write(text)
            if os.geteuid() == 0 and OS_USER:
                subprocess.run(["chown", f"{OS_USER}:{OS_USER}", *(os.path.join(scratch, n) for n in ("postgresql.conf", "pg_hba.conf", "pg_ident.conf"))], check=True)
            settings = ["-c", f"config_file={scratch}/postgresql.conf", "-c", f"hba_file={scratch}/pg_hba.conf", "-c", f"ident_file={scratch}/pg_ident.conf"]
        server = subprocess.Popen(
            [f"{PGBIN}/postgres", "-D", f"{scratch}/data", *settings, "-c", "listen_addresses=", "-c", f"unix_socket_directories={scratch}/socket", "-c", "port=5432", "-c", "archive_mode=off"],
            stdout=log, stderr=log, **as_postgres(),
        )
        deadline = time.monotonic() + args.timeout
        while True:
            try:
                if psql("SELECT pg_is_in_recovery()", host=f"{scratch}/socket") == "f":
                    break
            except Failure:
                pass
            if server.poll() is not None:
                with open(os.path.join(scratch, "postgres.log")) as f:
                    tail = " / ".join(f.read().strip().split("\n")[-3:])
                raise Failure(f"the restored copy's PostgreSQL exited during recovery: {tail}")
            if time.monotonic() > deadline:
                raise Failure(f"the restored copy did not finish recovery within {args.timeout:g} s")
            time.sleep(0.2)
        recovered = psql("SELECT coalesce(pg_last_xact_replay_timestamp()::text, '')", host=f"{scratch}/socket")
        stats = table_stats(args.database, host=f"{scratch}/socket")
        rows = [line.split("\t") for line in psql(args.sql, database=args.database, host=f"{scratch}/socket").split("\n") if line] if args.sql else None
        emit({"recoveredTo": recovered or None, "stats": stats, **({"rows": rows} if args.sql else {})})
    finally:
        if server and server.poll() is None:
            server.send_signal(2)  # SIGINT: fast shutdown
            try:
                server.wait(timeout=60)
            except subprocess.TimeoutExpired:
                server.kill()
        shutil.rmtree(scratch, ignore_errors=True)


# The fence (README, "Fencing that holds").

def read_fence_records(repositories, timeout):
    """
    Each repository's answer, asked all at once: its record, "none" (it answers
    and holds no record), or why it could not be read. curl signs each request
    with the repository's key (SigV4) from its config file, never on a command line.
    """
    asked = []
    for repo in repositories:
        argv = [CURL, "--silent", "--show-error", "--max-time", str(timeout), "--config", repo["curlConfig"], "--write-out", "\n%{http_code}"]
        asked.append((repo, subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)))
    answers = []
    for repo, process in asked:
        try:
            out, err = process.communicate(timeout=timeout + 2)
        except subprocess.TimeoutExpired:
            process.kill()
            out, err = process.communicate()
        body, _, status = out.rpartition("\n")
        answer = {"name": repo["name"]}
        if process.returncode == 0 and status == "200":
            try:
                record = json.loads(body)
                if isinstance(record, dict) and isinstance(record.get("epoch"), int) and isinstance(record.get("fenced"), list):
                    answer["record"] = record
                else:
                    answer["unreadable"] = "the object is not a fence record"
            except ValueError:
                answer["unreadable"] = "the object is not JSON"
        elif process.returncode == 0 and status == "404":
            answer["none"] = True
        else:
            answer["unreadable"] = (err.strip().splitlines() or [f"HTTP {status}"])[-1]
            # curl's exit codes for no answer at all: could not resolve, could not connect, timed out.
            answer["unreachable"] = process.returncode in (6, 7, 28) or process.returncode < 0
        answers.append(answer)
    return answers


def database_unit_active():
    return subprocess.run([SYSTEMCTL, "is-active", "--quiet", DATABASE_UNIT]).returncode == 0


def write_state(state):
    os.makedirs(os.path.dirname(FENCE_STATE), exist_ok=True)
    with open(FENCE_STATE + ".tmp", "w") as out:
        json.dump(state, out)
        out.write("\n")
    os.rename(FENCE_STATE + ".tmp", FENCE_STATE)


def cmd_fence_check(args):
    with open(FENCE_CONFIG) as config_file:
        config = json.load(config_file)
    timeout = config.get("timeoutSeconds", 3)
    answers = read_fence_records(config["repositories"], timeout)
    # At boot the network may still be coming up: while no repository answers at all, ask again
    # for up to --wait seconds (one that answers anything, even an error, ends the wait).
    deadline = time.monotonic() + args.wait
    while all("unreadable" in a and a.get("unreachable") for a in answers) and time.monotonic() < deadline:
        time.sleep(1)
        answers = read_fence_records(config["repositories"], timeout)
    for answer in answers:
        answer.pop("unreachable", None)
    records = [a["record"] for a in answers if "record" in a]
    # The highest epoch wins; a repository that cannot be read neither fences nor lifts a fence.
    newest = max(records, key=lambda r: r["epoch"]) if records else None
    fenced = newest is not None and config["site"] in newest["fenced"]
    actions = []
    if fenced and config.get("role") == "db" and os.path.exists(os.path.join(PGDATA, "PG_VERSION")):
        signal = os.path.join(PGDATA, "standby.signal")
        if not os.path.exists(signal):
            open(signal, "w").close()
            owner = os.stat(PGDATA)
            if os.geteuid() == 0:
                os.chown(signal, owner.st_uid, owner.st_gid)
            actions.append("standby.signal written")
            # A database running writable takes the signal only when it starts again.
            if database_unit_active():
                subprocess.run([SYSTEMCTL, "restart", DATABASE_UNIT], check=True, timeout=120)
                actions.append(f"{DATABASE_UNIT} restarted read-only")
    state = {"site": config["site"], "fenced": fenced, "checkedAt": iso(time.time()), "repositories": answers, "actions": actions}
    if newest is not None:
        state["epoch"], state["active"], state["run"] = newest["epoch"], newest.get("active"), newest.get("run")
    write_state(state)
    for action in actions:
        print(f"lifeboat-server fence-check: {config['site']} is fenced by epoch {newest['epoch']} (active: {newest.get('active')}): {action}", file=sys.stderr)
    emit(state)


# A cold failover's restore (README, "Failover": the target step).

def read_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except FileNotFoundError:
        return None


def write_json(path, value):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path + ".tmp", "w") as out:
        json.dump(value, out)
        out.write("\n")
        out.flush()
        os.fsync(out.fileno())
    os.rename(path + ".tmp", path)


def user_databases_on_disk():
    """Databases a stopped cluster holds beyond the ones initdb makes: their OIDs start at 16384 (FirstNormalObjectId)."""
    base = os.path.join(PGDATA, "base")
    if not os.path.isdir(base):
        return []
    return [name for name in os.listdir(base) if name.isdigit() and int(name) >= 16384]


def stop_database():
    subprocess.run([SYSTEMCTL, "stop", DATABASE_UNIT], check=True, timeout=300)
    poll("PostgreSQL did not stop", lambda: os.path.exists(os.path.join(PGDATA, "postmaster.pid")), lambda running: not running, 120, interval=0.2)


def empty_data_directory():
    """PGDATA emptied, the directory itself kept (its owner and mode 0700 are PostgreSQL's)."""
    os.makedirs(PGDATA, mode=0o700, exist_ok=True)
    for name in os.listdir(PGDATA):
        target = os.path.join(PGDATA, name)
        if os.path.isdir(target) and not os.path.islink(target):
            shutil.rmtree(target)
        else:
            os.unlink(target)
    if os.geteuid() == 0 and OS_USER:
        shutil.chown(PGDATA, OS_USER, OS_USER)
    os.chmod(PGDATA, 0o700)


def cmd_restore(args):
    """
    Safe to repeat: a restore that finished only has its database started; one
    cut short (the failover killed, the server rebooted) is done again from the
    start; a second one while the first runs waits for it (a lock). The first
    time, the cluster must be the empty one the user-data left: a cluster
    holding a database is never emptied.
    """
    import fcntl
    os.makedirs(os.path.dirname(RESTORE_STATE), exist_ok=True)
    with open(RESTORE_STATE + ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        state = read_json(RESTORE_STATE)
        if state and state.get("state") == "done":
            subprocess.run([SYSTEMCTL, "start", "--no-block", DATABASE_UNIT], check=True, timeout=60)
            emit({**state, "already": True})
            return
        if state is None:
            if not os.path.exists(RESTORE_PENDING):
                raise Failure("this server's database was not set up to be restored from a backup (its user-data made it a primary or a standby): nothing here is replaced")
            held = user_databases_on_disk()
            if held:
                raise Failure(f"the cluster in {PGDATA} holds {len(held)} database(s) of its own: refusing to restore over it (move it aside first)")
        stop_database()
        write_json(RESTORE_STATE, {"state": "started", "startedAt": iso(time.time())})
        failures = []
        deadline = time.monotonic() + args.timeout
        for repo in range(1, repository_count() + 1):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                failures.append(f"repo{repo}: not tried, the restore's time (--timeout {args.timeout:g} s) is up")
                continue
            empty_data_directory()
            try:
                done = run([PGBACKREST, f"--config={PGBACKREST_CONFIG}", f"--stanza={STANZA}", f"--repo={repo}", "restore", "--type=default"], timeout=remaining, check=False)
            except Failure as failure:
                failures.append(f"repo{repo}: {failure}")
                continue
            if done.returncode != 0:
                failures.append(f"repo{repo}: {(done.stderr or done.stdout).strip()[-400:]}")
                continue
            # The backup is the old primary's: a restored primary has no standby to wait for.
            forget_synchronous(PGDATA)
            state = {"state": "done", "repo": repo, "restoredAt": iso(time.time())}
            write_json(RESTORE_STATE, state)
            if os.path.exists(RESTORE_PENDING):
                os.unlink(RESTORE_PENDING)
            # Not waited for: PostgreSQL replays the archive before it answers (wait-writable waits for that).
            subprocess.run([SYSTEMCTL, "start", "--no-block", DATABASE_UNIT], check=True, timeout=60)
            emit({**state, "already": False, "failures": failures})
            return
        empty_data_directory()
        raise Failure("no backup repository could be restored: " + "; ".join(failures))


def main(argv):
    parser = argparse.ArgumentParser(prog="lifeboat-server", description="Lifeboat's on-server command (see the source's docstring).")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("position").set_defaults(run=cmd_position)
    sub.add_parser("checkpoint").set_defaults(run=cmd_checkpoint)
    sub.add_parser("hold-read-only").set_defaults(run=cmd_hold_read_only)
    p = sub.add_parser("promote")
    p.add_argument("--timeout", type=float, default=60)
    p.set_defaults(run=cmd_promote)
    p = sub.add_parser("wait-replay")
    p.add_argument("lsn")
    p.add_argument("--timeout", type=float, default=60)
    p.set_defaults(run=cmd_wait_replay)
    p = sub.add_parser("wait-writable")
    p.add_argument("--timeout", type=float, default=1800)
    p.set_defaults(run=cmd_wait_writable)
    p = sub.add_parser("salvage")
    p.add_argument("--into", required=True)
    p.add_argument("--name", required=True)
    p.set_defaults(run=cmd_salvage)
    p = sub.add_parser("probe")
    p.add_argument("--timeout", type=float, default=3)
    p.set_defaults(run=cmd_probe)
    sub.add_parser("backup-config").set_defaults(run=cmd_backup_config)
    p = sub.add_parser("repositories")
    p.add_argument("--timeout", type=float, default=60)
    p.set_defaults(run=cmd_repositories)
    p = sub.add_parser("stanza-create")
    p.add_argument("--retry-for", type=float, default=0)
    p.set_defaults(run=cmd_stanza_create)
    p = sub.add_parser("backup")
    p.add_argument("--repo", type=int)
    p.add_argument("--all", action="store_true")
    p.set_defaults(run=cmd_backup)
    p = sub.add_parser("admit-standby")
    p.add_argument("address")
    p.set_defaults(run=cmd_admit_standby)
    p = sub.add_parser("synchronous-standby")
    p.add_argument("name", nargs="?")
    p.add_argument("--none", action="store_true")
    p.set_defaults(run=cmd_synchronous_standby)
    sub.add_parser("forget-synchronous").set_defaults(run=cmd_forget_synchronous)
    p = sub.add_parser("admit-workload")
    p.add_argument("--database", required=True)
    p.add_argument("addresses", nargs="+")
    p.set_defaults(run=cmd_admit_workload)
    p = sub.add_parser("clone")
    p.add_argument("primary")
    p.add_argument("--database", required=True)
    p.add_argument("--attempts", type=int, default=1)
    p.add_argument("--retry-seconds", type=float, default=20)
    p.add_argument("--application-name")
    p.set_defaults(run=cmd_clone)
    p = sub.add_parser("health")
    p.add_argument("--url", required=True)
    p.add_argument("--host")
    p.add_argument("--timeout", type=float, default=3)
    p.set_defaults(run=cmd_health)
    p = sub.add_parser("verify-point")
    p.add_argument("--database", required=True)
    p.set_defaults(run=cmd_verify_point)
    p = sub.add_parser("wait-archived")
    p.add_argument("--repo", type=int, required=True)
    p.add_argument("--wal", required=True)
    p.add_argument("--timeout", type=float, default=120)
    p.set_defaults(run=cmd_wait_archived)
    p = sub.add_parser("restore-verify")
    p.add_argument("--repo", type=int, required=True)
    p.add_argument("--target", help="a restore point; default: the end of the archive")
    p.add_argument("--database", required=True)
    p.add_argument("--sql", help="a query to answer from the restored copy too (rows as lists of strings)")
    p.add_argument("--scratch", default="/var/lib/postgresql/lifeboat-scratch")
    p.add_argument("--timeout", type=float, default=1800)
    p.set_defaults(run=cmd_restore_verify)
    p = sub.add_parser("sql")
    p.add_argument("--database", required=True)
    p.set_defaults(run=cmd_sql)
    p = sub.add_parser("fence-check")
    p.add_argument("--wait", type=float, default=0, help="at boot: how long to wait for any repository to answer")
    p.set_defaults(run=cmd_fence_check)
    p = sub.add_parser("restore")
    p.add_argument("--timeout", type=float, default=6 * 3600, help="for the whole restore, every repository tried included")
    p.set_defaults(run=cmd_restore)
    args = parser.parse_args(argv)
    try:
        args.run(args)
    except Failure as failure:
        print(f"lifeboat-server {args.command}: {failure}", file=sys.stderr)
        return 1
    except (OSError, subprocess.SubprocessError, json.JSONDecodeError) as error:
        print(f"lifeboat-server {args.command}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
