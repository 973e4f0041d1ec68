# Run on an ssh provider's server as root (python3 -c, the request on stdin as
# JSON): writes the NoCloud seed Lifeboat gives the server, then runs its own
# cloud-init over it as a new instance, and reports what cloud-init says. Or,
# with "handBack", stops what Lifeboat ran there and moves the data aside.
import json, os, shutil, subprocess, sys, time

request = json.load(sys.stdin)


def write(path, content, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = path + ".lifeboat-tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode), "w") as f:
        f.write(content)
    os.chmod(tmp, mode)
    os.replace(tmp, path)


def run(argv, timeout=None):
    return subprocess.run(argv, capture_output=True, text=True, timeout=timeout)


def tail(path, lines=15):
    try:
        with open(path, errors="replace") as f:
            return "".join(f.readlines()[-lines:])
    except OSError:
        return ""


if request.get("handBack"):
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    for unit in ("lifeboat-fence.timer", "lifeboat-fence.service", "lifeboat-backup.timer", "lifeboat-app.service", "caddy.service", "postgresql.service", "nftables.service"):
        run(["systemctl", "disable", "--now", unit])
    # Debian's postgresql.service only groups the clusters: stop each one itself, and wait for it
    # to be gone (no postmaster.pid), so that its files are not moved under a running server.
    run(["systemctl", "stop", "postgresql@*.service"])
    moved = []
    for data in request.get("dataDirs", []):
        for _ in range(120):
            if not os.path.exists(os.path.join(data, "postmaster.pid")):
                break
            time.sleep(0.5)
        else:
            print(f"PostgreSQL still runs on {data} after 60 s: stop it (pg_ctlcluster), then run destroy again", file=sys.stderr)
            sys.exit(1)
        if os.path.isdir(data):
            # shutil.move renames, or copies where a rename cannot cross (an overlay's lower layer: EXDEV).
            shutil.move(data, f"{data}.handed-back-{stamp}")
            moved.append(f"{data}.handed-back-{stamp}")
        # The server goes back as a fresh install left it: Debian's empty default cluster in
        # place (configuration included), so that a later deploy's user-data finds one again.
        parts = data.rstrip("/").split("/")
        if data.startswith("/var/lib/postgresql/") and len(parts) == 6 and os.path.isdir(f"/etc/postgresql/{parts[4]}"):
            version, cluster = parts[4], parts[5]
            run(["pg_dropcluster", version, cluster])
            created = run(["pg_createcluster", version, cluster])
            if created.returncode != 0:
                print(f"the data is moved aside, but a fresh cluster {version}/{cluster} could not be made: {created.stderr.strip()}", file=sys.stderr)
                sys.exit(1)
    run(["nft", "flush", "ruleset"])
    # The fence check's settings hold the repositories' keys: they leave with Lifeboat.
    shutil.rmtree("/etc/lifeboat/fence", ignore_errors=True)
    for path in ("/etc/lifeboat/fence.json", "/run/lifeboat/fence.json"):
        if os.path.exists(path):
            os.remove(path)
    for path in ("/var/lib/cloud/seed/nocloud/user-data", "/var/lib/cloud/seed/nocloud/meta-data", "/etc/cloud/cloud.cfg.d/90-lifeboat.cfg"):
        if os.path.exists(path):
            os.remove(path)
    print(json.dumps({"handedBack": True, "moved": moved}))
    sys.exit(0)

if subprocess.run(["sh", "-c", "command -v cloud-init"], capture_output=True).returncode != 0:
    print("cloud-init is not installed: install it (apt-get install cloud-init) or ask the host for an image with it", file=sys.stderr)
    sys.exit(3)

for f in request["files"]:
    write(f["path"], f["content"], int(f["mode"], 8))

# A new instance: every module runs again over the new user-data (its scripts are safe to repeat).
run(["cloud-init", "clean", "--logs"])
stages = [["init", "--local"], ["init"], ["modules", "--mode=config"], ["modules", "--mode=final"]]
for stage in stages:
    done = run(["cloud-init", *stage], timeout=request.get("timeoutSeconds", 2400))
    if done.returncode != 0 and stage[0] == "init":
        print(f"cloud-init {' '.join(stage)} failed: {(done.stderr or done.stdout).strip()[-2000:]}", file=sys.stderr)
        sys.exit(1)

try:
    with open("/run/cloud-init/result.json") as f:
        errors = json.load(f).get("v1", {}).get("errors", [])
except (OSError, ValueError):
    errors = ["cloud-init wrote no result (/run/cloud-init/result.json)"]
if errors:
    print("cloud-init reported errors: " + "; ".join(errors) + "\n--- /var/log/cloud-init-output.log\n" + tail("/var/log/cloud-init-output.log", 25), file=sys.stderr)
    sys.exit(1)

key = request.get("deployKey")
if key:
    # The key Lifeboat logs in with stays authorized for the user the user-data made (beside the admin keys).
    home = "/home/lifeboat"
    if os.path.isdir(home):
        path = f"{home}/.ssh/authorized_keys"
        os.makedirs(os.path.dirname(path), mode=0o700, exist_ok=True)
        existing = open(path).read() if os.path.exists(path) else ""
        if key.strip() not in existing:
            with open(path, "a") as f:
                f.write(("" if existing.endswith("\n") or not existing else "\n") + key.strip() + "\n")
        run(["chown", "-R", "lifeboat:lifeboat", f"{home}/.ssh"])
        os.chmod(path, 0o600)

print(json.dumps({"instanceId": request["instanceId"], "errors": []}))
